/**
 * The non-path parts of a match (method, headers, query params, gRPC content-type), compiled once per
 * table into flat arrays so that testing a candidate is a few comparisons and no allocation.
 *
 * Semantics (features.md §4):
 *  - headers: names are lowercased at compile time; a repeated request header arrives joined with `,`
 *    (Node's `req.headers`; a `string[]` is joined the same way). Exact compares case-sensitively;
 *    RegularExpression must match the WHOLE value (RE2 semantics, like the path regex).
 *  - query params: the FIRST value of a name, names and values case-sensitive, compared after
 *    percent-decoding (`%20` ≡ space; `+` is kept as is, it is not form encoding). A name without `=`
 *    has the value ''.
 *  - `grpc: true` entries only match requests whose `content-type` starts with `application/grpc`.
 */
import { RE2JS } from 're2js';
import type { HttpMatchEntry, StringMatchIR } from '../ir/types.js';
import type { RequestHead } from './types.js';

/** A compiled full-match RE2 regex, or null when the pattern is invalid (then it never matches). */
export interface FullMatcher {
  test(input: string): boolean;
}

/**
 * Compile `pattern` for whole-input matching with RE2 semantics. Invalid patterns (which compile()
 * should already have reported) give a matcher that never matches: lookup must never throw.
 */
export function compileFullMatch(pattern: string): FullMatcher {
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch {
    return NEVER;
  }
  return {
    test(input: string): boolean {
      try {
        return re.testExact(input);
      } catch {
        return false;
      }
    },
  };
}

const NEVER: FullMatcher = { test: () => false };

/** A request header by lowercased name, repeated values joined with `,`; undefined when absent. */
export function headerValue(req: RequestHead, name: string): string | undefined {
  const v: unknown = req.headers[name];
  if (typeof v === 'string') return v;
  // Anything else that is not an array (a header named `constructor` read off a plain object's
  // prototype, say) is "absent": lookup must never throw.
  return Array.isArray(v) ? v.join(',') : undefined;
}

export function isGrpcRequest(req: RequestHead): boolean {
  const ct: unknown = req.headers['content-type'];
  const s = typeof ct === 'string' ? ct : Array.isArray(ct) ? ct[0] : undefined;
  return typeof s === 'string' && s.startsWith('application/grpc');
}

function decodeComponent(s: string): string {
  if (s.indexOf('%') < 0) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // invalid encoding: compare the raw text rather than fail the request
  }
}

/** name → first value, both percent-decoded. */
export function parseQueryFirst(query: string): Map<string, string> {
  const out = new Map<string, string>();
  if (query === '') return out;
  let start = 0;
  const len = query.length;
  while (start <= len) {
    let end = query.indexOf('&', start);
    if (end < 0) end = len;
    if (end > start) {
      const eq = query.indexOf('=', start);
      const hasEq = eq >= 0 && eq < end;
      const name = decodeComponent(query.slice(start, hasEq ? eq : end));
      if (!out.has(name)) out.set(name, hasEq ? decodeComponent(query.slice(eq + 1, end)) : '');
    }
    start = end + 1;
  }
  return out;
}

/**
 * One-entry cache of the parsed query: the matcher parses a query only when a candidate has query
 * predicates, and at most once per distinct query string in a row. Pure (same string → same map), so
 * sharing it across requests is safe; matching is synchronous, so there is no interleaving.
 */
export class QueryCache {
  private raw: string | null = null;
  private parsed: Map<string, string> = new Map();
  get(query: string): Map<string, string> {
    if (query !== this.raw) {
      this.parsed = parseQueryFirst(query);
      this.raw = query;
    }
    return this.parsed;
  }
}

/** Method, gRPC gate, headers and query of one entry, as flat arrays. */
export class Predicates {
  readonly method: string | null;
  readonly grpc: boolean;
  readonly headerNames: readonly string[];
  /** Exact value, or null for a regex. */
  readonly headerExact: readonly (string | null)[];
  readonly headerRegex: readonly (FullMatcher | null)[];
  readonly queryNames: readonly string[];
  readonly queryExact: readonly (string | null)[];
  readonly queryRegex: readonly (FullMatcher | null)[];
  /** True when there is nothing to test beyond the path. */
  readonly trivial: boolean;

  constructor(entry: HttpMatchEntry, regexCache: Map<string, FullMatcher>) {
    this.method = entry.method;
    this.grpc = entry.grpc;
    // Most entries have no header or query match: share one empty array instead of six per entry
    // (memory per route is what makes a 10,000-route table cache-unfriendly).
    const h = compileMatches(entry.headers, true, regexCache);
    this.headerNames = h.names;
    this.headerExact = h.exact;
    this.headerRegex = h.regex;
    const q = compileMatches(entry.queryParams, false, regexCache);
    this.queryNames = q.names;
    this.queryExact = q.exact;
    this.queryRegex = q.regex;
    this.trivial = this.method === null && !this.grpc && this.headerNames.length === 0 && this.queryNames.length === 0;
  }

  /** Hot: change with care. Never throws, allocates nothing unless a query must be parsed. */
  test(req: RequestHead, queries: QueryCache): boolean {
    if (this.trivial) return true;
    if (this.method !== null && req.method !== this.method) return false;
    if (this.grpc && !isGrpcRequest(req)) return false;
    const hn = this.headerNames;
    for (let i = 0; i < hn.length; i++) {
      const v = headerValue(req, hn[i]!);
      if (v === undefined) return false;
      const exact = this.headerExact[i];
      if (exact !== null ? v !== exact : !this.headerRegex[i]!.test(v)) return false;
    }
    const qn = this.queryNames;
    if (qn.length > 0) {
      if (typeof req.query !== 'string' || req.query === '') return false;
      const q = queries.get(req.query);
      for (let i = 0; i < qn.length; i++) {
        const v = q.get(qn[i]!);
        if (v === undefined) return false;
        const exact = this.queryExact[i];
        if (exact !== null ? v !== exact : !this.queryRegex[i]!.test(v)) return false;
      }
    }
    return true;
  }
}

const EMPTY: readonly never[] = Object.freeze([]);

function compileMatches(
  matches: StringMatchIR[],
  lower: boolean,
  cache: Map<string, FullMatcher>,
): { names: readonly string[]; exact: readonly (string | null)[]; regex: readonly (FullMatcher | null)[] } {
  if (matches.length === 0) return { names: EMPTY, exact: EMPTY, regex: EMPTY };
  const names: string[] = [], exact: (string | null)[] = [], regex: (FullMatcher | null)[] = [];
  for (const m of matches) {
    const name = lower ? m.name.toLowerCase() : m.name;
    if (names.includes(name)) continue; // the first entry for a name wins (spec), later ones are ignored
    names.push(name);
    if (m.type === 'RegularExpression') {
      exact.push(null);
      regex.push(cachedRegex(m.value, cache));
    } else {
      exact.push(m.value);
      regex.push(null);
    }
  }
  return { names, exact, regex };
}

export function cachedRegex(pattern: string, cache: Map<string, FullMatcher>): FullMatcher {
  let r = cache.get(pattern);
  if (r === undefined) cache.set(pattern, (r = compileFullMatch(pattern)));
  return r;
}
