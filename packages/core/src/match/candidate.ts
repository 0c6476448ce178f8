import type { HttpMatchResult } from './types.js';
import type { FullMatcher, Predicates } from './predicates.js';

/** One match entry as the trie matcher stores it. */
export interface Candidate {
  /** Index of the entry in the group's precedence-sorted entries: smaller wins. */
  readonly rank: number;
  readonly pred: Predicates;
  /** Path regex (RegularExpression entries), else null. */
  readonly regex: FullMatcher | null;
  /** Pre-built answer, so a hit allocates nothing. */
  readonly result: HttpMatchResult;
}
