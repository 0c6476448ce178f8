import type { HttpMatchEntry } from '../ir/types.js';
import type { HttpMatchResult } from './types.js';
import { type FullMatcher, Predicates } from './predicates.js';

/**
 * One match entry as the trie matcher stores it: its predicates plus rank, path regex and answer in
 * one object, so testing a candidate touches as few cache lines as possible.
 */
export class Candidate extends Predicates {
  constructor(
    entry: HttpMatchEntry,
    regexCache: Map<string, FullMatcher>,
    /** Index of the entry in the group's precedence-sorted entries: smaller wins. */
    readonly rank: number,
    /** Path regex (RegularExpression entries), else null. */
    readonly regex: FullMatcher | null,
    /** Pre-built answer, so a hit allocates nothing. */
    readonly result: HttpMatchResult,
  ) {
    super(entry, regexCache);
  }
}
