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
    /**
     * Literal text every path the regex matches starts with (see trie.ts): checked first, because a
     * character comparison is far cheaper than running the RE2 automaton (~200 ns).
     */
    readonly regexPrefix: string = '',
  ) {
    super(entry, regexCache);
  }

  /** Whether the path regex matches `path` (hot: change with care). */
  regexMatches(path: string): boolean {
    const lit = this.regexPrefix;
    const n = lit.length;
    if (n > path.length) return false;
    for (let i = 1; i < n; i++) if (lit.charCodeAt(i) !== path.charCodeAt(i)) return false;
    return this.regex!.test(path);
  }
}
