/** Small builders for hand-written routing tables in matcher tests. */
import { compareHttpEntries } from '../../src/compile/precedence.js';
import type {
  HttpGroupIR,
  HttpMatchEntry,
  HttpRuleIR,
  ListenerIR,
  PortIR,
  StringMatchIR,
  TlsRouteIR,
} from '../../src/ir/types.js';
import { normalizeHost } from '../../src/match/host.js';
import { parseRequestTarget } from '../../src/match/path.js';
import type { PortMatcher, RequestHead } from '../../src/match/types.js';

export type PathSpec = string | { type: 'Exact' | 'PathPrefix' | 'RegularExpression'; value: string };
type KV = [name: string, value: string] | [name: string, value: string, type: 'Exact' | 'RegularExpression'];

export interface EntrySpec {
  /** Label of the route (`ns/<name>`), what `route()` returns. */
  name: string;
  host?: string;
  /** A bare string is a PathPrefix. Default `/`. */
  path?: PathSpec;
  method?: string;
  headers?: KV[];
  query?: KV[];
  grpc?: boolean;
  grpcMethod?: { service: string | null; method: string | null };
}

function sm(kv: KV, lower: boolean): StringMatchIR {
  return { type: kv[2] ?? 'Exact', name: lower ? kv[0].toLowerCase() : kv[0], value: kv[1] };
}

function toPath(p: PathSpec | undefined): HttpMatchEntry['path'] {
  if (p === undefined) return { type: 'PathPrefix', value: '/' };
  return typeof p === 'string' ? { type: 'PathPrefix', value: p } : p;
}

/** A group whose entries are the specs in age order (spec i → rule i), then sorted by precedence. */
export function group(hostname: string | null, specs: EntrySpec[], listener = 0): HttpGroupIR {
  const rules: HttpRuleIR[] = specs.map((s, i) => ({
    route: `ns/${s.name}`,
    routeKind: s.grpc ? 'GRPCRoute' : 'HTTPRoute',
    ruleIndex: i,
    ruleName: null,
    filters: [],
    backendRefs: [{ name: `Service ns/${s.name}:80`, weight: 1, backend: 0, invalidReason: null, filters: [] }],
    timeouts: { requestMs: null, backendRequestMs: null },
    retry: null,
  }));
  const entries: HttpMatchEntry[] = specs.map((s, i) => ({
    hostname: s.host ?? '*',
    path: toPath(s.path),
    method: s.method ?? null,
    headers: (s.headers ?? []).map((h) => sm(h, true)),
    queryParams: (s.query ?? []).map((q) => sm(q, false)),
    grpc: s.grpc ?? false,
    grpcMethod: s.grpcMethod ?? null,
    rule: i,
    matchIndex: 0,
    listener,
  }));
  entries.sort(compareHttpEntries);
  return { hostname, listeners: [listener], secure: false, listenerPort: 80, entries, rules };
}

export function listener(i: number, hostname: string | null, protocol: ListenerIR['protocol'] = 'HTTP'): ListenerIR {
  return {
    id: `ns/gw/l${i}`,
    gateway: 'ns/gw',
    name: `l${i}`,
    protocol,
    port: 80,
    hostname,
    tls: protocol === 'HTTPS' || protocol === 'TLS' ? { mode: protocol === 'TLS' ? 'Passthrough' : 'Terminate', certificates: [] } : null,
    group: -1,
  };
}

/** A port with one listener per group (listener i ↔ group i). */
export function port(groups: HttpGroupIR[], extra: Partial<PortIR> = {}): PortIR {
  const listeners = groups.map((g, i) => ({ ...listener(i, g.hostname), group: i }));
  groups.forEach((g, i) => {
    g.listeners = [i];
    for (const e of g.entries) e.listener = i;
  });
  return {
    key: '0.0.0.0:80/tcp',
    address: null,
    port: 80,
    transport: 'tcp',
    protocol: 'HTTP',
    listeners,
    httpGroups: groups,
    tlsRoutes: [],
    l4Route: null,
    ...extra,
  };
}

export function tlsRoute(name: string, hostname: string, listenerIndex: number): TlsRouteIR {
  return {
    route: `ns/${name}`,
    routeKind: 'TLSRoute',
    backendRefs: [],
    listener: listenerIndex,
    hostname,
    mode: 'Passthrough',
  };
}

/** A request head as an engine builds it (host and target normalised). Null when the target is refused. */
export function head(
  method: string,
  hostHeader: string,
  target: string,
  headers: Record<string, string | string[]> = {},
): RequestHead | null {
  const t = parseRequestTarget(target);
  if (t === null) return null;
  const lower: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  return { method, host: normalizeHost(hostHeader), path: t.path, query: t.query, headers: lower };
}

/** The winning route name (without `ns/`) through the full pipeline, or null (404), or 'REFUSED' (400). */
export function route(
  m: PortMatcher,
  method: string,
  hostHeader: string,
  target: string,
  headers: Record<string, string | string[]> = {},
): string | null {
  const h = head(method, hostHeader, target, headers);
  if (h === null) return 'REFUSED';
  const g = m.selectGroup(h.host);
  if (g < 0) return null;
  const r = m.match(g, h);
  return r === null ? null : r.rule.route.slice(3);
}
