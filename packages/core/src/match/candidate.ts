import type { HttpMatchEntry } from '../ir/types.js';
import { type FullMatcher, Predicates } from './predicates.js';
import { regexRequiredLiterals } from './trie.js';

/**
 * What the trie matcher tests for an entry beyond its place in the index: its predicates and, for a
 * RegularExpression entry, the path regex. Rank and answer live in the matcher's flat arrays, so
 * entries with the same tests share ONE candidate (`internCandidate`): 1,000 routes with the same
 * regex or the same `method: POST` read the same, cache-hot object.
 */
export class Candidate extends Predicates {
  constructor(
    entry: HttpMatchEntry,
    regexCache: Map<string, FullMatcher>,
    /** Path regex (RegularExpression entries), else null. */
    readonly regex: FullMatcher | null,
    /**
     * Literal text every path the regex matches starts with (see trie.ts): checked first, because a
     * character comparison is far cheaper than running the RE2 automaton (~200 ns).
     */
    readonly regexPrefix: string = '',
    /** Literal runs every match contains, in order (`regexRequiredLiterals`): checked before RE2 too. */
    readonly regexRequired: readonly string[] = [],
  ) {
    super(entry, regexCache);
  }

  /** Whether the path regex matches `path` (hot: change with care). */
  regexMatches(path: string): boolean {
    const lit = this.regexPrefix;
    const n = lit.length;
    if (n > path.length) return false;
    for (let i = 1; i < n; i++) if (lit.charCodeAt(i) !== path.charCodeAt(i)) return false;
    const runs = this.regexRequired;
    for (let i = 0, at = 0; i < runs.length; i++) {
      const r = runs[i]!;
      const k = path.indexOf(r, at);
      if (k < 0) return false;
      at = k + r.length;
    }
    return this.regex!.test(path);
  }
}

/** The shared candidate for an entry's tests (path regex, method, gRPC, headers, query). */
export function internCandidate(
  entry: HttpMatchEntry,
  regexCache: Map<string, FullMatcher>,
  interned: Map<string, Candidate>,
  regex: FullMatcher | null,
  regexPrefix: string,
): Candidate {
  const plain =
    regex === null && entry.method === null && !entry.grpc && entry.headers.length === 0 && entry.queryParams.length === 0;
  const key = plain ? '' : JSON.stringify([
    regex === null ? null : entry.path.value,
    regexPrefix,
    entry.method,
    entry.grpc,
    entry.headers.map((m) => [m.type, m.name, m.value]),
    entry.queryParams.map((m) => [m.type, m.name, m.value]),
  ]);
  let c = interned.get(key);
  if (c === undefined) {
    const required = regex === null ? [] : regexRequiredLiterals(entry.path.value);
    interned.set(key, (c = new Candidate(entry, regexCache, regex, regexPrefix, required)));
  }
  return c;
}
