/**
 * The trie matcher: the PortMatcher the data plane uses (DESIGN.md §6).
 *
 * Build (once per table swap) does all the work; lookup only walks:
 *   port ─selectGroup(host)─▶ group (listener isolation: one group, never a fallback)
 *   group ─hostname buckets─▶ exact bucket, then wildcard buckets longest suffix first, then `*`
 *   bucket ─▶ Exact map, regexes on the nodes along the path, PathPrefix candidates deepest node first
 *            (the path index, match/trie.ts).
 *
 * Entries arrive sorted by `compareHttpEntries`, so an entry's index is its rank and the answer is the
 * matching candidate of minimum rank. Hostname precedence comes first in that order, so the first
 * bucket that yields a match holds the answer. Inside a bucket every list is in rank order and the
 * walk keeps the best rank found so far: a list is abandoned at the first candidate that cannot beat
 * it, which in practice means one look at each shallower trie node. The cost is O(host length +
 * path segments + candidates that share the winning path), independent of the table size.
 *
 * Lookup never throws and allocates nothing on a hit: results are pre-built, scratch arrays are reused
 * (matching is synchronous), and a query string is parsed only when a candidate has query predicates.
 */
import type { HttpGroupIR, PortIR, TlsRouteIR } from '../ir/types.js';
import { Candidate } from './candidate.js';
import { HostTable } from './host.js';
import { normalizeMatchValue } from './path.js';
import { type FullMatcher, QueryCache, cachedRegex } from './predicates.js';
import { type PathNode, PathIndex, regexAnchorPath, regexLiteralPrefix } from './trie.js';
import type { HttpMatchResult, PortMatcher, RequestHead } from './types.js';

const NO_RANK = 0x7fffffff;

/** A route-hostname bucket: its Exact paths, and (inherited) its path index — one object, one cache miss less. */
class Bucket extends PathIndex {
  readonly exact = new Map<string, Candidate[]>();
  regexCount = 0;
  prefixCount = 0;
  /** Smallest rank among regex and prefix candidates: an Exact hit that beats it needs no path walk. */
  minWalkRank = NO_RANK;
}

class GroupMatcher {
  readonly buckets = new HostTable<Bucket>();
  /** Buckets in build order, for finishing. */
  readonly all: Bucket[] = [];
}

export class TrieMatcher implements PortMatcher {
  readonly port: PortIR;
  private readonly groups: GroupMatcher[] = [];
  private readonly groupByHost = new HostTable<number>();
  private readonly sni: SniTable;
  // scratch (matching is synchronous, so one set per matcher is enough)
  private readonly bucketScratch: Bucket[] = [];
  private readonly nodeScratch: PathNode[] = [];
  private readonly queries = new QueryCache();

  constructor(port: PortIR) {
    this.port = port;
    const regexCache = new Map<string, FullMatcher>();
    port.httpGroups.forEach((g, gi) => {
      this.groupByHost.add(g.hostname, gi);
      this.groups.push(buildGroup(g, regexCache));
    });
    this.sni = new SniTable(port);
  }

  selectGroup(host: string): number {
    if (typeof host !== 'string') return -1;
    const g = this.groupByHost.best(host);
    return g === undefined ? -1 : g;
  }

  /** Hot path: change with care (benchmarks/matcher.js measures it; test/match/internals.test.ts checks it allocates nothing). */
  match(group: number, req: RequestHead): HttpMatchResult | null {
    const g = this.groups[group];
    // A malformed head (an engine bug) is a miss, never an exception on the hot path.
    if (g === undefined || typeof req.path !== 'string' || typeof req.host !== 'string') return null;
    const buckets = this.bucketScratch;
    const n = g.buckets.collect(req.host, buckets);
    for (let i = 0; i < n; i++) {
      const c = this.matchBucket(buckets[i]!, req);
      if (c !== null) return c.result;
    }
    return null;
  }

  matchSni(sni: string): TlsRouteIR | null {
    return typeof sni === 'string' ? this.sni.match(sni) : null;
  }

  private matchBucket(b: Bucket, req: RequestHead): Candidate | null {
    const path = req.path;
    let best: Candidate | null = null;
    let bestRank = NO_RANK;

    if (b.exact.size > 0) {
      const list = b.exact.get(path);
      if (list !== undefined) {
        for (let i = 0; i < list.length; i++) {
          const c = list[i]!;
          if (c.test(req, this.queries)) {
            best = c;
            bestRank = c.rank;
            break;
          }
        }
      }
    }
    if (bestRank < b.minWalkRank || b.regexCount + b.prefixCount === 0) return best;

    // The nodes along the path that hold candidates, root first.
    const nodes = this.nodeScratch;
    const depth = b.walk(path, nodes);

    if (b.regexCount > 0) {
      for (let d = 0; d < depth; d++) {
        const list = nodes[d]!.regex;
        for (let i = 0; i < list.length; i++) {
          const c = list[i]!;
          if (c.rank >= bestRank) break;
          if (c.regexMatches(path) && c.test(req, this.queries)) {
            best = c;
            bestRank = c.rank;
            break;
          }
        }
      }
    }
    if (b.prefixCount > 0) {
      for (let d = depth - 1; d >= 0; d--) {
        const list = nodes[d]!.prefix;
        for (let i = 0; i < list.length; i++) {
          const c = list[i]!;
          if (c.rank >= bestRank) break;
          if (c.test(req, this.queries)) {
            best = c;
            bestRank = c.rank;
            break;
          }
        }
      }
    }
    return best;
  }
}

function buildGroup(g: HttpGroupIR, regexCache: Map<string, FullMatcher>): GroupMatcher {
  const gm = new GroupMatcher();
  g.entries.forEach((entry, rank) => {
    const rule = g.rules[entry.rule];
    if (rule === undefined) return; // a broken table entry can never be answered
    let bucket = gm.buckets.get(entry.hostname);
    if (bucket === undefined) {
      bucket = new Bucket();
      gm.buckets.add(entry.hostname, bucket);
      gm.all.push(bucket);
    }
    const result: HttpMatchResult = { group: g, entry, rule };
    if (entry.path.type === 'RegularExpression') {
      const regex = cachedRegex(entry.path.value, regexCache);
      const c = new Candidate(entry, regexCache, rank, regex, result, regexLiteralPrefix(entry.path.value));
      bucket.node(regexAnchorPath(entry.path.value) || '/').regex.push(c);
      bucket.regexCount++;
      bucket.minWalkRank = Math.min(bucket.minWalkRank, rank);
      return;
    }
    const value = normalizeMatchValue(entry.path.type, entry.path.value);
    if (value === null) return; // no normalised request path can match it
    const c = new Candidate(entry, regexCache, rank, null, result);
    if (entry.path.type === 'Exact') {
      let list = bucket.exact.get(value);
      if (list === undefined) bucket.exact.set(value, (list = []));
      list.push(c);
    } else {
      bucket.node(value).prefix.push(c);
      bucket.prefixCount++;
      bucket.minWalkRank = Math.min(bucket.minWalkRank, rank);
    }
  });
  for (const b of gm.all) {
    for (const list of b.exact.values()) list.sort((x, y) => x.rank - y.rank);
    b.finish();
  }
  return gm;
}

/**
 * SNI routing of a TLS port, with listener isolation as for HTTP (features.md §9.2): the most specific
 * listener hostname covering the SNI is selected among the port's TLS and HTTPS listeners; only when it
 * is a `TLS` listener are its TLS routes consulted (most specific route hostname, then table order).
 * An SNI that selects an HTTPS listener gives null here: that connection is terminated and routed
 * over HTTP by the data plane.
 */
class SniTable {
  private readonly listeners = new HostTable<HostTable<TlsRouteIR> | null>();

  constructor(port: PortIR) {
    const byHostname = new Map<string, { tls: boolean; routes: HostTable<TlsRouteIR> }>();
    const keyOf = (h: string | null): string => h ?? '*';
    for (const l of port.listeners) {
      if (l.protocol !== 'TLS' && l.protocol !== 'HTTPS') continue;
      const k = keyOf(l.hostname);
      let slot = byHostname.get(k);
      if (slot === undefined) byHostname.set(k, (slot = { tls: false, routes: new HostTable() }));
      if (l.protocol === 'TLS') slot.tls = true;
    }
    for (const r of port.tlsRoutes) {
      const l = port.listeners[r.listener];
      if (l === undefined) continue;
      byHostname.get(keyOf(l.hostname))?.routes.add(r.hostname, r);
    }
    for (const [k, slot] of byHostname) this.listeners.add(k, slot.tls ? slot.routes : null);
  }

  match(sni: string): TlsRouteIR | null {
    const routes = this.listeners.best(sni);
    if (routes == null) return null;
    return routes.best(sni) ?? null;
  }
}

/** Build the trie matcher of one port (once per table swap; lookups never throw). */
export function buildPortMatcher(port: PortIR): PortMatcher {
  return new TrieMatcher(port);
}
