/**
 * The index of one listener group, stored flat: every route hostname ("bucket"), every Exact path and
 * every path-trie node of every bucket is a record in ONE Int32Array; a bucket's nodes and Exact paths
 * are found through the bucket's own open-addressing hash table, stored in the same array right after
 * the bucket's header. No Map, no node objects, no strings on the path probes.
 *
 * Why: with 10,000 routes the object-per-node layout (a Map per bucket, a node object, its path string,
 * two candidate arrays, a candidate object per entry) was ~770 bytes per route spread over the heap, and
 * a lookup read a dozen or more unrelated heap objects. A record here holds its key characters (2 per int) and its
 * candidate ranks inline, so a probe that hits reads one slot line and one or two record lines
 * (benchmarks/README.md "Micro-benchmarks").
 *
 * The trie itself (DESIGN.md §6): a node is a path prefix made of whole segments (`/api/v1`), kept only
 * when candidates sit on it:
 *  - PathPrefix candidates on the node of their value (`/foo` and `/foo/` on `/foo`, `/` on the root),
 *    so prefixes match whole segments only: walking `/foobar` never visits `/foo`;
 *  - RegularExpression candidates on the node of the whole segments of their literal prefix
 *    (`/api/v[0-9]+` on `/api`): a path the regex matches must pass through that node, so only the
 *    regexes along the walked path are ever tried.
 * Every list is in rank order (rank = index in the precedence-sorted entries). Node hashes are computed
 * in the single left-to-right pass over the path that finds the `/` boundaries and confirmed by
 * comparing characters against the record (no substring, no allocation). A per-bucket depth bitmask
 * skips the probe at depths that hold no node and ends the walk after the deepest one.
 *
 * Layout of `rec` (offset 0 is unused so 0 means "none"). Each bucket is one contiguous stretch:
 *   bucket header: KIND_HOST|KIND_WILD|KIND_ANY, len, depthBits, maxDepth, minWalkRank, has, root,
 *                  slotStart, mask, filter, filterStart, chars…   (has = exact | regex << 1 | prefix << 2 presence
 *                  bits; root = root node record or 0; chars = the exact host or the wildcard suffix;
 *                  filter/filterStart: the first-segment filter, see `firstSegmentFilter`)
 *   a big bucket's first-segment filter words (filterStart ≠ 0), then
 *   the bucket's open-addressing table: (mask + 1) × [key, record], load ≤ 1/2, keyed by the hash of
 *                  a node's prefix or an Exact path
 *   node records:  KIND_NODE, len, bucket, nPrefix, nRegex, chars…, prefix entries…, regex entries…
 *   exact records: KIND_EXACT, len, bucket, n, 0, chars…, entries…
 * Exact hostnames map to their bucket through one Map per group (V8's cached string hash beats a
 * hand-written hash of the host); wildcard suffixes through a small global table of the same kind.
 * An entry is `rank << 1 | trivial` (trivial: no method/header/query/gRPC test, so the candidate object
 * is never read).
 */
export const KIND_HOST = 1;
export const KIND_WILD = 2;
export const KIND_ANY = 3;
export const KIND_NODE = 4;
export const KIND_EXACT = 5;

const HDR = 11; // bucket header ints
const NHDR = 5; // node / exact header ints
/** Depths 1..30 have a bit in `depthBits`; nodes deeper than that are simply always probed. */
export const DEPTH_BITS = 31;
export const NO_RANK = 0x3fffffff;

/** Incremental string hash (same in build and lookup). */
export function strHash(s: string, from = 0, to = s.length, h = 0): number {
  for (let i = from; i < to; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** The table key of (string hash, bucket, kind): mixed so the low bits index the table well. */
export function mixKey(h: number, bucket: number, kind: number): number {
  let k = Math.imul(h ^ Math.imul(bucket + kind, 0x2c1b3c6d), 0x9e3779b1);
  k ^= k >>> 15;
  k = Math.imul(k, 0x85ebca6b);
  return (k ^ (k >>> 13)) | 0;
}

/** One entry as the builder sees it. */
export interface FlatEntry {
  rank: number;
  trivial: boolean;
}

interface BuildNode {
  path: string;
  depth: number;
  prefix: FlatEntry[];
  regex: FlatEntry[];
}
interface BuildBucket {
  kind: number;
  /** The exact host, the wildcard suffix (`.example.com`), or '' for `*`. */
  key: string;
  exact: Map<string, FlatEntry[]>;
  nodes: Map<string, BuildNode>;
  minWalkRank: number;
}

const cmpRank = (a: FlatEntry, b: FlatEntry): number => a.rank - b.rank;

/** Builder: collects buckets, exact paths and nodes, then `finish()` lays them out flat. */
export class FlatIndexBuilder {
  private readonly byPattern = new Map<string, BuildBucket>();
  private readonly order: BuildBucket[] = [];

  private bucket(pattern: string | null): BuildBucket {
    const p = pattern === null ? '*' : pattern;
    let b = this.byPattern.get(p);
    if (b === undefined) {
      const kind = p === '*' ? KIND_ANY : p.startsWith('*.') ? KIND_WILD : KIND_HOST;
      const key = kind === KIND_ANY ? '' : kind === KIND_WILD ? p.slice(1) : p;
      b = { kind, key, exact: new Map(), nodes: new Map(), minWalkRank: NO_RANK };
      this.byPattern.set(p, b);
      this.order.push(b);
    }
    return b;
  }

  private node(b: BuildBucket, prefix: string): BuildNode {
    let p = prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
    if (p === '') p = '/';
    let n = b.nodes.get(p);
    if (n === undefined) {
      n = { path: p, depth: p === '/' ? 0 : p.split('/').length - 1, prefix: [], regex: [] };
      b.nodes.set(p, n);
    }
    return n;
  }

  addExact(host: string | null, path: string, e: FlatEntry): void {
    const b = this.bucket(host);
    let list = b.exact.get(path);
    if (list === undefined) b.exact.set(path, (list = []));
    list.push(e);
  }
  addPrefix(host: string | null, path: string, e: FlatEntry): void {
    const b = this.bucket(host);
    this.node(b, path).prefix.push(e);
    b.minWalkRank = Math.min(b.minWalkRank, e.rank);
  }
  addRegex(host: string | null, anchor: string, e: FlatEntry): void {
    const b = this.bucket(host);
    this.node(b, anchor).regex.push(e);
    b.minWalkRank = Math.min(b.minWalkRank, e.rank);
  }

  finish(): FlatIndex {
    const rec: number[] = [0];
    const keys: number[] = []; // key, record pairs to insert
    const chars = (s: string): void => {
      for (let i = 0; i < s.length; i += 2) rec.push(s.charCodeAt(i) | ((i + 1 < s.length ? s.charCodeAt(i + 1) : 0) << 16));
    };
    const entries = (list: FlatEntry[]): void => {
      list.sort(cmpRank);
      for (const e of list) rec.push((e.rank << 1) | (e.trivial ? 1 : 0));
    };
    let any = 0;
    const hosts = new Map<string, number>();
    let maxDepth = 0;
    const wildLength = new Uint8Array(256);
    let wildCount = 0;
    let wildMin = 0x7fffffff;
    let wildMax = 0;
    for (const b of this.order) {
      const off = rec.length;
      let depthBits = 0;
      let bMax = 0;
      let hasRegex = 0;
      let hasPrefix = 0;
      for (const n of b.nodes.values()) {
        if (n.depth > 0 && n.depth < DEPTH_BITS) depthBits |= 1 << n.depth;
        bMax = Math.max(bMax, n.depth);
        if (n.regex.length > 0) hasRegex = 2;
        if (n.prefix.length > 0) hasPrefix = 4;
      }
      maxDepth = Math.max(maxDepth, bMax);
      const filter = firstSegmentFilter(b);
      rec.push(b.kind, b.key.length, depthBits, bMax, b.minWalkRank, (b.exact.size > 0 ? 1 : 0) | hasRegex | hasPrefix, 0, 0, 0, 0, 0);
      chars(b.key);
      if (filter.length === 1) rec[off + 9] = filter[0]!;
      else {
        rec[off + 9] = filter.length * 32 - 1;
        rec[off + 10] = rec.length;
        for (const w of filter) rec.push(w);
      }
      if (b.kind === KIND_ANY) any = off;
      else if (b.kind === KIND_HOST) hosts.set(b.key, off);
      else {
        keys.push(mixKey(strHash(b.key), 0, b.kind), off);
        wildCount++;
        wildMin = Math.min(wildMin, b.key.length);
        wildMax = Math.max(wildMax, b.key.length);
        if (b.key.length < 256) wildLength[b.key.length] = 1;
      }
      // The bucket's own hash table of nodes and Exact paths, right after its header, then the records:
      // a bucket is one contiguous stretch of memory.
      const nKeys = b.nodes.size + b.exact.size;
      let cap = 2;
      while (cap < nKeys * 2) cap <<= 1;
      const slotStart = rec.length;
      for (let i = 0; i < cap * 2; i++) rec.push(0);
      rec[off + 7] = slotStart;
      rec[off + 8] = cap - 1;
      const local: number[] = [];
      for (const n of b.nodes.values()) {
        const noff = rec.length;
        rec.push(KIND_NODE, n.path.length, off, n.prefix.length, n.regex.length);
        chars(n.path);
        entries(n.prefix);
        entries(n.regex);
        if (n.depth === 0) rec[off + 6] = noff;
        else local.push(mixKey(strHash(n.path), 0, KIND_NODE), noff);
      }
      for (const [path, list] of b.exact) {
        const eoff = rec.length;
        rec.push(KIND_EXACT, path.length, off, list.length, 0);
        chars(path);
        entries(list);
        local.push(mixKey(strHash(path), 0, KIND_EXACT), eoff);
      }
      for (let i = 0; i < local.length; i += 2) {
        let s = local[i]! & (cap - 1);
        while (rec[slotStart + s * 2 + 1] !== 0) s = (s + 1) & (cap - 1);
        rec[slotStart + s * 2] = local[i]!;
        rec[slotStart + s * 2 + 1] = local[i + 1]!;
      }
    }
    // wildcard suffixes: one small global table
    let cap = 8;
    while (cap < keys.length) cap <<= 1; // keys.length = 2 × records: load factor ≤ 1/2
    const slots = new Int32Array(cap * 2);
    const mask = cap - 1;
    for (let i = 0; i < keys.length; i += 2) {
      let s = keys[i]! & mask;
      while (slots[s * 2 + 1] !== 0) s = (s + 1) & mask;
      slots[s * 2] = keys[i]!;
      slots[s * 2 + 1] = keys[i + 1]!;
    }
    return new FlatIndex(Int32Array.from(rec), slots, mask, hosts, any, wildCount, wildLength, wildMin, wildMax, maxDepth);
  }
}

/** The built index of one group. Lookups never throw and allocate nothing. */
export class FlatIndex {
  /** Scratch for `walk` (node records along a path, root first). */
  readonly nodes: Int32Array;
  constructor(
    readonly rec: Int32Array,
    private readonly slots: Int32Array,
    private readonly mask: number,
    /**
     * Exact route hostnames → bucket record. A Map on purpose: V8 hashes the host natively and caches
     * the hash in the string, which a hand-written hash of the host cannot beat (measured: 14 vs 67 ns).
     */
    private readonly hosts: Map<string, number>,
    /** The `*` bucket record, or 0. */
    readonly any: number,
    private readonly wildCount: number,
    /** wildLength[n] = 1 when some wildcard suffix has n chars: most dots need no probe. */
    private readonly wildLength: Uint8Array,
    /** Shortest and longest wildcard suffix. */
    private readonly wildMin: number,
    private readonly wildMax: number,
    maxDepth: number,
  ) {
    this.nodes = new Int32Array(maxDepth + 2);
  }

  /** `rec` chars at `off` (2 per int) equal `s[from, from + len)`. */
  private same(off: number, s: string, from: number, len: number): boolean {
    const rec = this.rec;
    let j = 0;
    for (; j + 1 < len; j += 2) {
      const w = rec[off + (j >> 1)]!;
      if ((w & 0xffff) !== s.charCodeAt(from + j) || w >>> 16 !== s.charCodeAt(from + j + 1)) return false;
    }
    if (j < len && (rec[off + (j >> 1)]! & 0xffff) !== s.charCodeAt(from + j)) return false;
    return true;
  }

  /**
   * The record for `key` whose kind and `len` chars match `s[from…]`, or 0, from the open-addressing
   * table at `start` in `table` (a bucket's own table inside `rec`, or the wildcard table). Hot.
   */
  private find(table: Int32Array, start: number, mask: number, key: number, kind: number, s: string, from: number, len: number): number {
    const rec = this.rec;
    for (let i = key & mask; ; i = (i + 1) & mask) {
      const r = table[start + i * 2 + 1]!;
      if (r === 0) return 0;
      if (
        table[start + i * 2] === key &&
        rec[r] === kind &&
        rec[r + 1] === len &&
        this.same(r + (kind === KIND_WILD ? HDR : NHDR), s, from, len)
      )
        return r;
    }
  }

  /**
   * The buckets covering `host`, most specific first (exact, longer wildcard suffix, `*`), written
   * into `out`; returns how many. Same semantics as HostTable.collect.
   */
  buckets(host: string, out: number[]): number {
    let n = 0;
    const len = host.length;
    let wilds = 0;
    if (this.wildCount > 0) {
      // right to left: each dot starts a candidate suffix (shortest first); most are rejected by length
      // only where a suffix of a wildcard's length can start: usually no character is read at all
      const stop = Math.max(1, len - this.wildMax);
      for (let i = len - this.wildMin; i >= stop; i--) {
        if (host.charCodeAt(i) !== 46) continue;
        const rest = len - i;
        if (rest < 256 && this.wildLength[rest] === 0) continue;
        const r = this.find(this.slots, 0, this.mask, mixKey(strHash(host, i, len), 0, KIND_WILD), KIND_WILD, host, i, rest);
        if (r !== 0) out[1 + wilds++] = r; // out[1..wilds], shortest first; moved below
      }
    }
    const e = this.hosts.get(host);
    if (e !== undefined) out[n++] = e;
    if (wilds > 0) {
      if (n === 0) for (let a = 0; a < wilds; a++) out[a] = out[a + 1]!;
      // longest suffix first
      for (let a = n, b = n + wilds - 1; a < b; a++, b--) {
        const t = out[a]!;
        out[a] = out[b]!;
        out[b] = t;
      }
      n += wilds;
    }
    if (this.any !== 0) out[n++] = this.any;
    return n;
  }

  // The path's segment boundaries, found once per request by `scan` and shared by every bucket.
  /** pos[d] = end of the d-th segment (`/api/v1` of `/api/v1/x` for d = 2); hsh[d] = hash of path[0, pos[d]). */
  private readonly pos: number[] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  private readonly hsh: number[] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  private segments = 0;
  /** Mixed hash of the path's first segment, for the buckets' first-segment filters; -1: the path has no segment. */
  private firstMix = 0;
  private pathHash = 0;

  /**
   * One left-to-right pass over `path` (normalised, starts with `/`): segment boundaries and prefix
   * hashes for `walk`, and the whole path's hash for `exact`. Call before them. Never throws; it only
   * allocates when a path is deeper than every path before it (the scratch grows).
   */
  scan(path: string): void {
    const len = path.length;
    const pos = this.pos;
    const hsh = this.hsh;
    let h = 47; // the hash of '/'
    let depth = 0;
    let segStart = 1;
    for (let i = 1; i < len; i++) {
      const c = path.charCodeAt(i);
      if (c === 47) {
        if (i > segStart) {
          depth++;
          pos[depth] = i;
          hsh[depth] = h;
        }
        segStart = i + 1;
      }
      h = (Math.imul(h, 31) + c) | 0;
    }
    if (len > segStart) {
      depth++;
      pos[depth] = len;
      hsh[depth] = h;
    }
    this.segments = depth;
    this.firstMix = depth === 0 ? -1 : firstSegmentMix(hsh[1]!);
    this.pathHash = len === 0 ? 0 : h;
  }

  /**
   * Whether bucket `b` can hold an Exact path or a non-root node on the scanned path: every such key
   * starts with the path's first segment, and the bucket has a filter of its keys' first segments
   * (`firstSegmentFilter`). Most misses skip every probe of the bucket, in a big bucket as in a small one.
   */
  private mayHold(b: number): boolean {
    const mix = this.firstMix;
    if (mix === -1) return true;
    const rec = this.rec;
    const words = rec[b + 10]!;
    if (words === 0) return (rec[b + 9]! & (1 << (mix & 31))) !== 0;
    const bit = mix & rec[b + 9]!;
    return (rec[words + (bit >>> 5)]! & (1 << (bit & 31))) !== 0;
  }

  /** The Exact record of the scanned `path` in bucket `b`, or 0. */
  exact(b: number, path: string): number {
    const rec = this.rec;
    if (!this.mayHold(b)) return 0;
    return this.find(rec, rec[b + 7]!, rec[b + 8]!, mixKey(this.pathHash, 0, KIND_EXACT), KIND_EXACT, path, 0, path.length);
  }

  /**
   * Write the node records on the scanned `path` in bucket `b` (root first, then by increasing depth)
   * into `this.nodes`; return how many. Hot: no allocation, never throws.
   */
  walk(b: number, path: string): number {
    const rec = this.rec;
    const out = this.nodes;
    let n = 0;
    const root = rec[b + 6]!;
    if (root !== 0) out[n++] = root;
    const max = this.mayHold(b) ? Math.min(rec[b + 3]!, this.segments) : 0;
    const bits = rec[b + 2]!;
    const slotStart = rec[b + 7]!;
    const mask = rec[b + 8]!;
    for (let d = 1; d <= max; d++) {
      if (d >= DEPTH_BITS || (bits & (1 << d)) !== 0) {
        const r = this.find(rec, slotStart, mask, mixKey(this.hsh[d]!, 0, KIND_NODE), KIND_NODE, path, 0, this.pos[d]!);
        if (r !== 0 && n < out.length) out[n++] = r;
      }
    }
    return n;
  }
}

/**
 * A first-segment prefix hash (`hsh[1]` of `scan`) mixed so any of its low bits index a filter
 * (murmur3's finaliser); never -1, which `scan` uses for "no segment".
 */
function firstSegmentMix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h === -1 ? 0 : h;
}

/** Hash of `key` up to the end of its first non-empty segment, as `scan` computes it; null if none. */
function firstSegmentHash(key: string): number | null {
  let h = 47;
  let segStart = 1;
  for (let i = 1; i <= key.length; i++) {
    const c = i < key.length ? key.charCodeAt(i) : 47;
    if (c === 47) {
      if (i > segStart) return h;
      segStart = i + 1;
    }
    h = (Math.imul(h, 31) + c) | 0;
  }
  return null;
}

/**
 * The first-segment filter of a bucket (a one-hash Bloom filter): a bit per distinct first segment of
 * its Exact paths and non-root nodes. One 32-bit word (kept in the header) up to 4 distinct first
 * segments; above that ~16 bits per segment, rounded up to a power of two (1,000 segments: 16,384 bits,
 * 2 KB, ~6 % false positives). A fixed 32 bits filled up in big buckets: with 1,000 `*` routes on
 * `/b0`…`/b999` every bit was set, so every miss paid a probe of the bucket's 16 KB table (the matcher
 * benchmark's misses at 10,000 routes, 1.7× the 10-route cost).
 * A key without a non-empty segment (Exact `/`, `//`) sets no bit: only a path without one can equal
 * it, and such a path skips the filter (`firstMix` -1).
 */
function firstSegmentFilter(b: BuildBucket): number[] {
  const firsts = new Set<number>();
  for (const key of b.exact.keys()) {
    const h = firstSegmentHash(key);
    if (h !== null) firsts.add(firstSegmentMix(h));
  }
  for (const n of b.nodes.values()) {
    if (n.depth === 0) continue;
    const h = firstSegmentHash(n.path);
    if (h !== null) firsts.add(firstSegmentMix(h));
  }
  let bits = 32;
  if (firsts.size > 4) while (bits < firsts.size * 16 && bits < 1 << 20) bits <<= 1;
  const words = new Array<number>(bits >>> 5).fill(0);
  for (const m of firsts) {
    const bit = m & (bits - 1);
    words[bit >>> 5] |= 1 << (bit & 31);
  }
  return words;
}

/** Where a node's / exact record's entries start (after its chars). */
export function entriesAt(rec: Int32Array, r: number): number {
  return r + NHDR + ((rec[r + 1]! + 1) >> 1);
}

/**
 * The literal text that every full match of a regex starts with (`/api/v[0-9]+` → `/api/v`), or ''.
 * Conservative: any alternation gives '', a quantified last character is dropped (`/ab?` → `/a`), and
 * only a prefix starting with `/` is kept (anything else cannot help a path lookup).
 */
export function regexLiteralPrefix(pattern: string): string {
  if (pattern.includes('|')) return '';
  let i = pattern.startsWith('^') ? 1 : 0;
  const start = i;
  for (; i < pattern.length; i++) {
    if ('\\.[](){}*+?|^$'.includes(pattern[i]!)) break;
  }
  let lit = pattern.slice(start, i);
  // a quantifier applies to the char before it: that char is not certain to be there
  if (i < pattern.length && '*+?{'.includes(pattern[i]!)) lit = lit.slice(0, -1);
  return lit.startsWith('/') ? lit : '';
}

/** `regexLiteralPrefix` cut back to whole segments (`/api/v[0-9]+` → `/api`): where the regex sits. */
export function regexAnchorPath(pattern: string): string {
  const lit = regexLiteralPrefix(pattern);
  return lit.slice(0, lit.lastIndexOf('/'));
}

/**
 * Literal runs that every full match of `pattern` contains, in order and without overlap
 * (`/api/v[0-9]+/items/[0-9]+` → [`/api/v`, `/items/`]): a path that lacks them cannot match, and
 * `indexOf` is far cheaper than the RE2 automaton. Conservative: [] for any pattern with an
 * alternation, a group or flags (`(`), a non-ASCII character, an escape other than `\` + punctuation,
 * or a nested `[` in a class; a character followed by a quantifier is never part of a run.
 */
export function regexRequiredLiterals(pattern: string): string[] {
  if (/[|()]|[^\x00-\x7f]/.test(pattern)) return [];
  const runs: string[] = [];
  let run = '';
  let lastLit = false; // the previous token was a literal character appended to `run`
  const end = (): void => {
    if (run !== '') runs.push(run);
    run = '';
    lastLit = false;
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' || c === '+' || c === '?' || c === '{') {
      if (lastLit) run = run.slice(0, -1); // quantified: maybe absent (or repeated)
      end();
      if (c === '{') {
        const close = pattern.indexOf('}', i);
        if (close < 0) return []; // a literal `{`: too rare to be worth reasoning about
        i = close;
      }
    } else if (c === '\\') {
      const n = pattern[i + 1];
      if (n === undefined || /[0-9A-Za-z]/.test(n)) return []; // classes, \x41, \Q…: give up
      run += n;
      lastLit = true;
      i++;
    } else if (c === '[') {
      end();
      let j = i + 1;
      if (pattern[j] === '^') j++;
      if (pattern[j] === ']') j++;
      for (; j < pattern.length && pattern[j] !== ']'; j++) {
        if (pattern[j] === '[') return [];
        if (pattern[j] === '\\') j++;
      }
      if (j >= pattern.length) return [];
      i = j;
    } else if (c === '.' || c === '^' || c === '$' || c === ']' || c === '}') {
      end();
    } else {
      run += c;
      lastLit = true;
    }
  }
  end();
  return runs;
}
