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
import { type Candidate, internCandidate } from './candidate.js';
import { HostTable } from './host.js';
import { normalizeMatchValue } from './path.js';
import { type FullMatcher, QueryCache, cachedRegex } from './predicates.js';
import { FlatIndex, FlatIndexBuilder, NO_RANK, entriesAt, regexAnchorPath, regexLiteralPrefix } from './trie.js';
import type { HttpMatchResult, PortMatcher, RequestHead } from './types.js';

/** One listener group: its flat index (trie.ts) and, by rank, its candidates and pre-built answers. */
class GroupMatcher {
  constructor(
    readonly index: FlatIndex,
    /** By rank; only read for entries with predicates to test or a path regex. */
    readonly cands: (Candidate | undefined)[],
    /** By rank: the answer, so a trivial hit never reads its candidate object. */
    readonly results: (HttpMatchResult | undefined)[],
  ) {}
}

export class TrieMatcher implements PortMatcher {
  readonly port: PortIR;
  private readonly groups: GroupMatcher[] = [];
  private readonly groupByHost = new HostTable<number>();
  private readonly sni: SniTable;
  // scratch (matching is synchronous, so one set per matcher is enough)
  private readonly bucketScratch: number[] = [0, 0, 0, 0];
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
    const n = g.index.buckets(req.host, buckets);
    if (n === 0) return null;
    g.index.scan(req.path);
    for (let i = 0; i < n; i++) {
      const rank = this.matchBucket(g, buckets[i]!, req);
      if (rank !== NO_RANK) return g.results[rank]!;
    }
    return null;
  }

  matchSni(sni: string): TlsRouteIR | null {
    return typeof sni === 'string' ? this.sni.match(sni) : null;
  }

  /** The best rank in bucket `b` for `req`, or NO_RANK. */
  private matchBucket(g: GroupMatcher, b: number, req: RequestHead): number {
    const path = req.path;
    const index = g.index;
    const rec = index.rec;
    let bestRank = NO_RANK;
    const has = rec[b + 5]!; // exact | regex << 1 | prefix << 2

    if ((has & 1) !== 0) {
      const r = index.exact(b, path);
      if (r !== 0) {
        const start = entriesAt(rec, r);
        const end = start + rec[r + 3]!;
        for (let i = start; i < end; i++) {
          const e = rec[i]!;
          if ((e & 1) !== 0 || g.cands[e >> 1]!.test(req, this.queries)) {
            bestRank = e >> 1;
            break;
          }
        }
      }
    }
    if (bestRank < rec[b + 4]! || (has & 6) === 0) return bestRank;

    // The nodes along the path that hold candidates, root first.
    const depth = index.walk(b, path);
    const nodes = index.nodes;

    if ((has & 2) !== 0) {
      for (let d = 0; d < depth; d++) {
        const r = nodes[d]!;
        const start = entriesAt(rec, r) + rec[r + 3]!;
        const end = start + rec[r + 4]!;
        for (let i = start; i < end; i++) {
          const rank = rec[i]! >> 1;
          if (rank >= bestRank) break;
          const c = g.cands[rank]!;
          if (c.regexMatches(path) && c.test(req, this.queries)) {
            bestRank = rank;
            break;
          }
        }
      }
    }
    if ((has & 4) !== 0) {
      for (let d = depth - 1; d >= 0; d--) {
        const r = nodes[d]!;
        const start = entriesAt(rec, r);
        const end = start + rec[r + 3]!;
        for (let i = start; i < end; i++) {
          const e = rec[i]!;
          const rank = e >> 1;
          if (rank >= bestRank) break;
          if ((e & 1) !== 0 || g.cands[rank]!.test(req, this.queries)) {
            bestRank = rank;
            break;
          }
        }
      }
    }
    return bestRank;
  }
}

function buildGroup(g: HttpGroupIR, regexCache: Map<string, FullMatcher>): GroupMatcher {
  const builder = new FlatIndexBuilder();
  const interned = new Map<string, Candidate>();
  const cands: (Candidate | undefined)[] = [];
  const results: (HttpMatchResult | undefined)[] = [];
  g.entries.forEach((entry, rank) => {
    cands.push(undefined);
    results.push(undefined);
    const rule = g.rules[entry.rule];
    if (rule === undefined) return; // a broken table entry can never be answered
    const result: HttpMatchResult = { group: g, entry, rule };
    if (entry.path.type === 'RegularExpression') {
      const regex = cachedRegex(entry.path.value, regexCache);
      cands[rank] = internCandidate(entry, regexCache, interned, regex, regexLiteralPrefix(entry.path.value));
      results[rank] = result;
      builder.addRegex(entry.hostname, regexAnchorPath(entry.path.value) || '/', { rank, trivial: false });
      return;
    }
    const value = normalizeMatchValue(entry.path.type, entry.path.value);
    if (value === null) return; // no normalised request path can match it
    const c = internCandidate(entry, regexCache, interned, null, '');
    results[rank] = result;
    // A trivial candidate's object is never read on lookup: keep only the ones with predicates.
    if (!c.trivial) cands[rank] = c;
    const e = { rank, trivial: c.trivial };
    if (entry.path.type === 'Exact') builder.addExact(entry.hostname, value, e);
    else builder.addPrefix(entry.hostname, value, e);
  });
  return new GroupMatcher(builder.finish(), cands, results);
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
