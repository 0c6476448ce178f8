/**
 * The path index of one hostname bucket: a segment trie, stored flat.
 *
 * A node is a path prefix made of whole segments (`/api/v1`), kept only when candidates sit on it:
 *  - PathPrefix candidates on the node of their value (`/foo` and `/foo/` on `/foo`, `/` on the root),
 *    so prefixes match whole segments only: walking `/foobar` never visits `/foo`;
 *  - RegularExpression candidates on the node of the whole segments of their literal prefix
 *    (`/api/v[0-9]+` on `/api`): a path the regex matches must pass through that node, so only the
 *    regexes along the walked path are ever tried.
 * Every list is in rank order (rank = index in the precedence-sorted entries).
 *
 * Nodes are found by a hash of the path prefix, computed in the same single left-to-right pass over the
 * path that finds the `/` boundaries, then confirmed by comparing characters (no substring, no
 * allocation). A depth bitmask skips the probe at depths that hold no node and ends the walk after the
 * deepest one. Why flat rather than a tree of node objects: a tree costs a child lookup per segment,
 * each touching the node, its child array and the child's segment string; with 10,000 routes those
 * are cache misses, and they made a lookup 5× slower than with 10 routes (benchmarks/README.md). Here
 * a lookup touches one small hash table per candidate depth and only the nodes that hold candidates.
 */
import type { Candidate } from './candidate.js';

const HASH_MASK = 0x3fffffff;
/** Depths 1..30 have a bit in `depthBits`; nodes deeper than that are simply always probed. */
const DEPTH_BITS = 31;

export class PathNode {
  readonly prefix: Candidate[] = [];
  readonly regex: Candidate[] = [];
  /** Number of segments (0 for the root `/`). */
  readonly depth: number;
  /** Next node with the same prefix hash (collision chain). */
  next: PathNode | null = null;
  constructor(
    /** Whole-segment prefix without a trailing `/` (`/api/v1`), `/` for the root. */
    readonly path: string,
  ) {
    this.depth = path === '/' ? 0 : path.split('/').length - 1;
  }
}

export class PathIndex {
  root: PathNode | null = null;
  private readonly byHash = new Map<number, PathNode>();
  /** Bit d set when a node has d segments (1 ≤ d < DEPTH_BITS). */
  private depthBits = 0;
  private maxDepth = 0;
  private readonly all: PathNode[] = [];

  /** The node for a normalised whole-segment prefix (`/a/b`, or `/`), created on first use. */
  node(prefix: string): PathNode {
    const p = prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
    if (p === '/' || p === '') {
      if (this.root === null) this.all.push((this.root = new PathNode('/')));
      return this.root;
    }
    const h = prefixHash(p);
    const head = this.byHash.get(h) ?? null;
    for (let x = head; x !== null; x = x.next) if (x.path === p) return x;
    const n = new PathNode(p);
    n.next = head;
    this.byHash.set(h, n);
    this.all.push(n);
    if (n.depth < DEPTH_BITS) this.depthBits |= 1 << n.depth;
    this.maxDepth = Math.max(this.maxDepth, n.depth);
    return n;
  }

  /** After the last insert: sort every list by rank. */
  finish(): void {
    for (const n of this.all) {
      n.prefix.sort((a, b) => a.rank - b.rank);
      n.regex.sort((a, b) => a.rank - b.rank);
    }
  }

  /**
   * Write the nodes on `path` (root first, then by increasing depth) into `out`; return how many.
   * `path` is normalised (starts with `/`). Hot path: change with care — no allocation, never throws.
   */
  walk(path: string, out: PathNode[]): number {
    let n = 0;
    if (this.root !== null) out[n++] = this.root;
    const max = this.maxDepth;
    if (max === 0) return n;
    const len = path.length;
    const bits = this.depthBits;
    let h = 47; // the hash of '/'
    let depth = 0;
    let segStart = 1;
    for (let i = 1; i <= len; i++) {
      const c = i < len ? path.charCodeAt(i) : 47;
      if (c === 47) {
        if (i > segStart) {
          depth++;
          if (depth >= DEPTH_BITS || (bits & (1 << depth)) !== 0) {
            let node: PathNode | null | undefined = this.byHash.get(h & HASH_MASK);
            while (node !== undefined && node !== null) {
              if (node.path.length === i && samePrefix(node.path, path, i)) {
                out[n++] = node;
                break;
              }
              node = node.next;
            }
          }
          if (depth >= max) break;
        }
        segStart = i + 1;
      }
      h = (Math.imul(h, 31) + c) | 0;
    }
    return n;
  }
}

/** Same as `prefixHash(path.slice(0, end))` as computed incrementally in `walk`. */
function prefixHash(p: string): number {
  let h = 0;
  for (let i = 0; i < p.length; i++) h = (Math.imul(h, 31) + p.charCodeAt(i)) | 0;
  return h & HASH_MASK;
}

/** `node === path.slice(0, len)` without the slice (both start with `/`). */
function samePrefix(node: string, path: string, len: number): boolean {
  for (let j = len - 1; j > 0; j--) if (node.charCodeAt(j) !== path.charCodeAt(j)) return false;
  return true;
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
