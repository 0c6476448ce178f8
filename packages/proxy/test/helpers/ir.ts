/**
 * Build RoutingTables by hand for data-plane tests (the compiler is tested elsewhere). Everything here
 * produces plain IR exactly as `compile()` would shape it.
 */
import net from 'node:net';
import type {
  BackendIR,
  BackendRefIR,
  CertificateIR,
  FilterIR,
  HttpGroupIR,
  HttpMatchEntry,
  HttpRuleIR,
  ListenerIR,
  PortIR,
  RoutingTable,
  StatusReport,
} from '@gatehouse/core';

export const emptyStatus: StatusReport = { gatewayClasses: [], gateways: [], routes: [] };

export function backend(id: string, endpoints: { address: string; port: number }[], protocol: BackendIR['protocol'] = 'http1'): BackendIR {
  return {
    id,
    resolution: 'EndpointSlice',
    protocol,
    endpoints: endpoints.map((e) => ({ address: e.address, port: e.port, dns: false, unix: false })),
  };
}

export interface RuleSpec {
  /** Matches: path prefix by default. */
  path?: string;
  pathType?: 'Exact' | 'PathPrefix' | 'RegularExpression';
  method?: string;
  headers?: [string, string][];
  query?: [string, string][];
  grpc?: boolean;
  /** route hostname (entry hostname), default `*`. */
  hostname?: string;
  filters?: FilterIR[];
  refs?: { backend: number; weight?: number; filters?: FilterIR[]; invalid?: string }[];
  requestMs?: number | null;
  backendRequestMs?: number | null;
  retry?: { codes: number[]; attempts: number; backoffMs: number } | null;
  route?: string;
  kind?: 'HTTPRoute' | 'GRPCRoute';
}

export interface GroupSpec {
  hostname?: string | null;
  secure?: boolean;
  listenerPort?: number;
  rules: RuleSpec[];
  /** Listener certificate (HTTPS). */
  certificate?: number;
}

export interface PortSpec {
  port: number;
  address?: string | null;
  protocol?: 'HTTP' | 'TLS';
  groups: GroupSpec[];
}

/** One HTTP(S) port per spec; groups become listeners (one per group, most specific first as given). */
export function table(ports: PortSpec[], backends: BackendIR[], certificates: CertificateIR[] = [], hash = 'test'): RoutingTable {
  const out: PortIR[] = [];
  for (const ps of ports) {
    const listeners: ListenerIR[] = [];
    const groups: HttpGroupIR[] = [];
    ps.groups.forEach((gs, gi) => {
      const secure = gs.secure ?? ps.protocol === 'TLS';
      listeners.push({
        id: `default/gw/l${gi}`,
        gateway: 'default/gw',
        name: `l${gi}`,
        protocol: secure ? 'HTTPS' : 'HTTP',
        port: gs.listenerPort ?? ps.port,
        hostname: gs.hostname ?? null,
        tls: secure ? { mode: 'Terminate', certificates: [gs.certificate ?? 0] } : null,
        group: gi,
      });
      const rules: HttpRuleIR[] = [];
      const entries: HttpMatchEntry[] = [];
      gs.rules.forEach((rs, ri) => {
        rules.push({
          route: rs.route ?? `default/route${ri}`,
          routeKind: rs.kind ?? (rs.grpc ? 'GRPCRoute' : 'HTTPRoute'),
          ruleIndex: 0,
          ruleName: null,
          filters: rs.filters ?? [],
          backendRefs: (rs.refs ?? []).map(
            (r): BackendRefIR => ({
              name: `Service default/b${r.backend}:80`,
              weight: r.weight ?? 1,
              backend: r.invalid ? -1 : r.backend,
              invalidReason: r.invalid ?? null,
              filters: r.filters ?? [],
            }),
          ),
          timeouts: { requestMs: rs.requestMs ?? null, backendRequestMs: rs.backendRequestMs ?? null },
          retry: rs.retry ?? null,
        });
        entries.push({
          hostname: rs.hostname ?? '*',
          path: { type: rs.pathType ?? 'PathPrefix', value: rs.path ?? '/' },
          method: rs.method ?? null,
          headers: (rs.headers ?? []).map(([name, value]) => ({ type: 'Exact', name: name.toLowerCase(), value })),
          queryParams: (rs.query ?? []).map(([name, value]) => ({ type: 'Exact', name, value })),
          grpc: rs.grpc ?? false,
          grpcMethod: rs.grpc ? { service: null, method: null } : null,
          rule: ri,
          matchIndex: 0,
          listener: gi,
        });
      });
      groups.push({
        hostname: gs.hostname ?? null,
        listeners: [gi],
        secure,
        listenerPort: gs.listenerPort ?? ps.port,
        entries,
        rules,
      });
    });
    const address = ps.address === undefined ? '127.0.0.1' : ps.address;
    out.push({
      key: `${address ?? '*'}:${ps.port}/tcp`,
      address,
      port: ps.port,
      transport: 'tcp',
      protocol: ps.protocol ?? 'HTTP',
      listeners,
      httpGroups: groups,
      tlsRoutes: [],
      l4Route: null,
    });
  }
  return { hash, ports: out, backends, certificates };
}

/** A free TCP port on loopback (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * `n` distinct free ports: all are held open until every one is picked (separate freePort() calls may
 * hand out the same port twice, which makes two listeners of a test collide).
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
      servers.push(s);
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
  }
}

/** A port on which nothing listens (connection refused). */
export const refusedPort = freePort;
