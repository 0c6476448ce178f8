/**
 * The reference matcher: walks the spec literally (features.md §9.1–§9.5) with no index at all. For
 * every entry of the selected group it tests hostname, path, method, headers and query params, and
 * picks the best of the matching entries with `compareHttpEntries`. It is the oracle the trie matcher
 * is checked against (test/match/differential.test.ts) and the engine behind `gatehouse explain`.
 * O(entries) per request: never use it on the hot path.
 */
import { compareHttpEntries, hostnameRank, prefixLength } from '../compile/precedence.js';
import type { HttpGroupIR, HttpMatchEntry, ListenerIR, PortIR, TlsRouteIR } from '../ir/types.js';
import { hostnameCovers } from './host.js';
import { normalizeMatchValue } from './path.js';
import { type FullMatcher, cachedRegex, headerValue, isGrpcRequest, parseQueryFirst } from './predicates.js';
import type { HttpMatchResult, PortMatcher, RequestHead } from './types.js';

/** -1 when `a` is the more specific hostname pattern (null = any). */
function compareHostnames(a: string | null, b: string | null): number {
  const [aw, al] = hostnameRank(a ?? '*');
  const [bw, bl] = hostnameRank(b ?? '*');
  return aw !== bw ? aw - bw : bl - al;
}

/** Why an entry does not match the request, or null when it matches. */
export function whyNotMatching(
  entry: HttpMatchEntry,
  req: RequestHead,
  regexes: Map<string, FullMatcher> = new Map(),
): string | null {
  if (!hostnameCovers(entry.hostname, req.host)) return `hostname ${entry.hostname} does not match ${req.host}`;
  const p = entry.path;
  if (p.type === 'RegularExpression') {
    if (!cachedRegex(p.value, regexes).test(req.path)) return `path ${req.path} does not match regex ${p.value}`;
  } else {
    const v = normalizeMatchValue(p.type, p.value);
    const ok =
      v !== null &&
      (p.type === 'Exact' ? req.path === v : v === '/' || req.path === v || req.path.startsWith(v + '/'));
    if (!ok) return `path ${req.path} does not match ${p.type} ${p.value}`;
  }
  if (entry.method !== null && entry.method !== req.method) return `method ${req.method} is not ${entry.method}`;
  if (entry.grpc && !isGrpcRequest(req)) return 'not a gRPC request (content-type is not application/grpc*)';
  const seen = new Set<string>();
  for (const h of entry.headers) {
    const name = h.name.toLowerCase();
    if (seen.has(name)) continue;
    seen.add(name);
    const v = headerValue(req, name);
    const ok = v !== undefined && (h.type === 'Exact' ? v === h.value : cachedRegex(h.value, regexes).test(v));
    if (!ok) return `header ${name}: ${v === undefined ? 'absent' : JSON.stringify(v)} does not match ${h.type} ${JSON.stringify(h.value)}`;
  }
  if (entry.queryParams.length > 0) {
    const q = parseQueryFirst(req.query);
    const seenQ = new Set<string>();
    for (const m of entry.queryParams) {
      if (seenQ.has(m.name)) continue;
      seenQ.add(m.name);
      const v = q.get(m.name);
      const ok = v !== undefined && (m.type === 'Exact' ? v === m.value : cachedRegex(m.value, regexes).test(v));
      if (!ok) return `query ${m.name}: ${v === undefined ? 'absent' : JSON.stringify(v)} does not match ${m.type} ${JSON.stringify(m.value)}`;
    }
  }
  return null;
}

/** The first precedence criterion (compile/precedence.ts) on which `winner` beats `loser`. */
export function precedenceReason(winner: HttpMatchEntry, loser: HttpMatchEntry): string {
  const [ww, wl] = hostnameRank(winner.hostname);
  const [lw, ll] = hostnameRank(loser.hostname);
  if (ww !== lw) return `exact hostname ${winner.hostname} beats wildcard ${loser.hostname}`;
  if (wl !== ll) return `longer hostname ${winner.hostname} beats ${loser.hostname}`;
  const wg = winner.grpcMethod !== null, lg = loser.grpcMethod !== null;
  if (wg !== lg) return 'a gRPC method match beats a plain path match';
  if (wg && lg) {
    const ws = winner.grpcMethod!.service?.length ?? 0, ls = loser.grpcMethod!.service?.length ?? 0;
    if (ws !== ls) return `longer gRPC service match (${ws} > ${ls} characters)`;
    const wm = winner.grpcMethod!.method?.length ?? 0, lm = loser.grpcMethod!.method?.length ?? 0;
    if (wm !== lm) return `longer gRPC method match (${wm} > ${lm} characters)`;
  } else {
    const wt = winner.path.type, lt = loser.path.type;
    if (wt !== lt) return `path type ${wt} beats ${lt}`;
    if (wt === 'PathPrefix' && prefixLength(winner.path.value) !== prefixLength(loser.path.value))
      return `longer path prefix ${winner.path.value} beats ${loser.path.value}`;
    if (wt === 'RegularExpression' && winner.path.value.length !== loser.path.value.length)
      return `longer regular expression ${winner.path.value} beats ${loser.path.value}`;
    if ((winner.method !== null) !== (loser.method !== null)) return `method match ${winner.method} beats no method match`;
  }
  if (winner.headers.length !== loser.headers.length)
    return `more header matches (${winner.headers.length} > ${loser.headers.length})`;
  if (winner.queryParams.length !== loser.queryParams.length)
    return `more query param matches (${winner.queryParams.length} > ${loser.queryParams.length})`;
  if (winner.rule !== loser.rule) return 'older route, or same route and an earlier rule (creationTimestamp, load order, namespace/name, rule index)';
  return 'an earlier match in the same rule';
}

/** The group of the most specific listener hostname covering `host` (linear scan), or -1. */
export function selectGroupLinear(port: PortIR, host: string): number {
  let best = -1;
  port.httpGroups.forEach((g, i) => {
    if (!hostnameCovers(g.hostname, host)) return;
    if (best < 0 || compareHostnames(g.hostname, port.httpGroups[best]!.hostname) < 0) best = i;
  });
  return best;
}

/** The best matching entry of a group for a request, by the spec's rules; -1 when none. */
function bestEntry(group: HttpGroupIR, req: RequestHead, regexes: Map<string, FullMatcher>): number {
  let best = -1;
  group.entries.forEach((e, i) => {
    if (group.rules[e.rule] === undefined || whyNotMatching(e, req, regexes) !== null) return;
    if (best < 0 || compareHttpEntries(e, group.entries[best]!) < 0) best = i;
  });
  return best;
}

export function matchSniLinear(port: PortIR, sni: string): TlsRouteIR | null {
  let listener: ListenerIR | null = null;
  for (const l of port.listeners) {
    if ((l.protocol !== 'TLS' && l.protocol !== 'HTTPS') || !hostnameCovers(l.hostname, sni)) continue;
    if (listener === null || compareHostnames(l.hostname, listener.hostname) < 0) listener = l;
  }
  if (listener === null) return null;
  const sameHost = (l: ListenerIR | undefined): boolean =>
    l !== undefined && (l.protocol === 'TLS' || l.protocol === 'HTTPS') && l.hostname === listener!.hostname;
  if (!port.listeners.some((l) => sameHost(l) && l.protocol === 'TLS')) return null;
  let best: TlsRouteIR | null = null;
  for (const r of port.tlsRoutes) {
    if (!sameHost(port.listeners[r.listener]) || !hostnameCovers(r.hostname, sni)) continue;
    if (best === null || compareHostnames(r.hostname, best.hostname) < 0) best = r;
  }
  return best;
}

/** The reference PortMatcher. */
export class LinearMatcher implements PortMatcher {
  private readonly regexes = new Map<string, FullMatcher>();
  constructor(readonly port: PortIR) {}

  selectGroup(host: string): number {
    return selectGroupLinear(this.port, host);
  }

  match(group: number, req: RequestHead): HttpMatchResult | null {
    const g = this.port.httpGroups[group];
    if (g === undefined) return null;
    const i = bestEntry(g, req, this.regexes);
    if (i < 0) return null;
    const entry = g.entries[i]!;
    return { group: g, entry, rule: g.rules[entry.rule]! };
  }

  matchSni(sni: string): TlsRouteIR | null {
    return matchSniLinear(this.port, sni);
  }
}

export function buildLinearMatcher(port: PortIR): PortMatcher {
  return new LinearMatcher(port);
}

export interface ExplainCandidate {
  /** Index in the group's entries (= precedence rank). */
  index: number;
  entry: HttpMatchEntry;
  matched: boolean;
  /** null for the winner. */
  reason: string | null;
}

export interface HttpExplanation {
  /** Index into `port.httpGroups`, -1 when no listener hostname covers the host. */
  group: number;
  /** Listeners (port indices) of the selected group. */
  listeners: ListenerIR[];
  winner: HttpMatchResult | null;
  /** Every entry of the selected group, in precedence order. */
  candidates: ExplainCandidate[];
}

/** Why the request goes where it goes: the selected group, the winner, and why each other entry lost. */
export function explainHttp(port: PortIR, req: RequestHead): HttpExplanation {
  const gi = selectGroupLinear(port, req.host);
  const g = port.httpGroups[gi];
  if (g === undefined) return { group: -1, listeners: [], winner: null, candidates: [] };
  const regexes = new Map<string, FullMatcher>();
  const bi = bestEntry(g, req, regexes);
  const winner = bi < 0 ? null : g.entries[bi]!;
  const candidates = g.entries.map((entry, index): ExplainCandidate => {
    if (g.rules[entry.rule] === undefined) return { index, entry, matched: false, reason: 'the rule is missing from the table' };
    const why = whyNotMatching(entry, req, regexes);
    if (why !== null) return { index, entry, matched: false, reason: why };
    if (index === bi) return { index, entry, matched: true, reason: null };
    return { index, entry, matched: true, reason: `lower precedence than the winner: ${precedenceReason(winner!, entry)}` };
  });
  return {
    group: gi,
    listeners: g.listeners.map((i) => port.listeners[i]!).filter((l) => l !== undefined),
    winner: winner === null ? null : { group: g, entry: winner, rule: g.rules[winner.rule]! },
    candidates,
  };
}
