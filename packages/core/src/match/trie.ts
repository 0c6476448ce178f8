/**
 * The path trie of one hostname bucket: one node per `/`-separated segment.
 *
 *  - PathPrefix candidates sit on the node of their last segment (`/foo` and `/foo/` on `foo`, `/` on
 *    the root), so prefixes match whole segments only: walking `/foobar` never reaches `foo`.
 *  - RegularExpression candidates sit on the node of the whole segments of their literal prefix
 *    (`/api/v[0-9]+` on `api`): a path that matches the regex must walk through that node, so only
 *    regexes along the walked path are ever tried.
 *  - Every list is in rank order (rank = index in the precedence-sorted entries).
 *
 * Children are found by comparing the segment in place (`startsWith` at the offset, no substring):
 * a linear scan over a few children, or a hash of the segment when a node has many children
 * (benchmarks/README.md has the measurement behind `HASH_CHILDREN_AT`).
 */
import type { Candidate } from './candidate.js';

/** From this many children on, a node looks children up by segment hash instead of a scan. */
export const HASH_CHILDREN_AT = 8;
const HASH_MASK = 0x3fffffff;

export class TrieNode {
  readonly segs: string[] = [];
  readonly kids: TrieNode[] = [];
  byHash: Map<number, TrieNode[]> | null = null;
  readonly prefix: Candidate[] = [];
  readonly regex: Candidate[] = [];

  child(seg: string): TrieNode {
    const i = this.segs.indexOf(seg);
    if (i >= 0) return this.kids[i]!;
    const n = new TrieNode();
    this.segs.push(seg);
    this.kids.push(n);
    return n;
  }

  /** After the last insert: sort lists, build hash lookups. */
  finish(): void {
    this.prefix.sort((a, b) => a.rank - b.rank);
    this.regex.sort((a, b) => a.rank - b.rank);
    if (this.kids.length >= HASH_CHILDREN_AT) {
      const m = new Map<number, TrieNode[]>();
      for (let i = 0; i < this.segs.length; i++) {
        const h = segmentHash(this.segs[i]!, 0, this.segs[i]!.length);
        let l = m.get(h);
        if (l === undefined) m.set(h, (l = []));
        l.push(this.kids[i]!);
        (this.kids[i] as TrieNode & { seg?: string }).seg = this.segs[i];
      }
      this.byHash = m;
    }
    for (const k of this.kids) k.finish();
  }

  /** Child for the segment `path[start, end)`, or undefined (hot: change with care). */
  find(path: string, start: number, end: number): TrieNode | undefined {
    const len = end - start;
    if (this.byHash === null) {
      const segs = this.segs;
      for (let i = 0; i < segs.length; i++) {
        const s = segs[i]!;
        if (s.length === len && path.startsWith(s, start)) return this.kids[i];
      }
      return undefined;
    }
    const list = this.byHash.get(segmentHash(path, start, end));
    if (list === undefined) return undefined;
    for (let i = 0; i < list.length; i++) {
      const k = list[i] as TrieNode & { seg: string };
      if (k.seg.length === len && path.startsWith(k.seg, start)) return k;
    }
    return undefined;
  }
}

function segmentHash(s: string, start: number, end: number): number {
  let h = 0;
  for (let i = start; i < end; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h & HASH_MASK;
}

/** Segments of a normalised path value: `/a/b/` → ['a', 'b'], `/` → []. */
export function segmentsOf(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

/**
 * The longest literal prefix of a regex that any full match must start with, cut back to whole
 * segments (`/api/v[0-9]+` → `/api`). Conservative: any alternation gives '' (the root).
 */
export function regexAnchorPath(pattern: string): string {
  if (pattern.includes('|')) return '';
  let i = pattern.startsWith('^') ? 1 : 0;
  const start = i;
  for (; i < pattern.length; i++) {
    if ('\\.[](){}*+?|^$'.includes(pattern[i]!)) break;
  }
  let lit = pattern.slice(start, i);
  // a quantifier applies to the char before it: that char is not certain to be there
  if (i < pattern.length && '*+?{'.includes(pattern[i]!)) lit = lit.slice(0, -1);
  if (!lit.startsWith('/')) return '';
  return lit.slice(0, lit.lastIndexOf('/'));
}
