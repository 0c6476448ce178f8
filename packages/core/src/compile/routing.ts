/**
 * Sockets + attached routes → PortIR: listeners, HTTP groups (listener isolation), TLS SNI routes and
 * the single L4 route of TCP/UDP ports.
 *
 * HTTP groups: one per distinct listener hostname on a port (listeners of several Gateways with the
 * same hostname share it). A request is matched only against the group of the most specific listener
 * hostname covering its Host, so routes never fall through to a less specific listener.
 * Inside a group, rules are ordered by route age rank (rank.ts) then rule index, and entries are
 * sorted with `compareHttpEntries` (precedence.ts).
 *
 * TCP/UDP ports carry one route. When several routes attach to one TCP/UDP listener, every one of
 * them is Accepted (the conformance suite requires it: TCPRouteMultipleRoutesAttachment) but only the
 * OLDEST serves the port; the others are reported as not serving in their Accepted message and by an
 * `L4_ROUTE_SHADOWED` warning.
 */
import type { HttpGroupIR, HttpMatchEntry, ListenerIR, PortIR, TlsRouteIR } from '../ir/types.js';
import type { Route } from '../resources/types.js';
import type { Attachment, ParentAttachment } from './attachment.js';
import type { CompileContext } from './context.js';
import type { CertificateRegistry, ListenerState, SocketState } from './gateways.js';
import { hostnameRank } from './precedence.js';
import { compareHttpEntries } from './precedence.js';
import type { CompiledRoute } from './http-routes.js';
import type { CompiledL4Route } from './l4-routes.js';
import { nsName } from './rank.js';

export interface RouteWork {
  route: Route;
  /** Position in the age order of all routes (0 = oldest). */
  rank: number;
  parents: ParentAttachment[];
  /** Attached to at least one programmed listener (its backends are interned in the table). */
  serves: boolean;
  http: CompiledRoute | null;
  l4: CompiledL4Route | null;
  /** Ports this TCP/UDP route attached to but does not serve (an older route does). */
  shadowed: string[];
}

interface Attached {
  work: RouteWork;
  attachment: Attachment;
}

export function buildPorts(
  ctx: CompileContext,
  sockets: readonly SocketState[],
  works: readonly RouteWork[],
  certificates: CertificateRegistry,
): PortIR[] {
  const byListener = new Map<ListenerState, Attached[]>();
  const ordered = [...works].sort((a, b) => a.rank - b.rank);
  for (const work of ordered) {
    for (const parent of work.parents) {
      for (const attachment of parent.attachments) {
        const list = byListener.get(attachment.listener);
        if (list) list.push({ work, attachment });
        else byListener.set(attachment.listener, [{ work, attachment }]);
      }
    }
  }
  return sockets.map((socket) => buildPort(ctx, socket, byListener, certificates));
}

function buildPort(
  ctx: CompileContext,
  socket: SocketState,
  byListener: Map<ListenerState, Attached[]>,
  certificates: CertificateRegistry,
): PortIR {
  const port: PortIR = {
    key: socket.key,
    address: socket.address,
    port: socket.port,
    transport: socket.transport,
    protocol: socket.family,
    listeners: socket.listeners.map((l) => listenerIR(l, certificates)),
    httpGroups: [],
    tlsRoutes: [],
    l4Route: null,
  };

  // HTTP groups, in listener order (most specific hostname first).
  socket.listeners.forEach((l, index) => {
    if (l.protocol !== 'HTTP' && l.protocol !== 'HTTPS') return;
    const hostname = l.hostname;
    let g = port.httpGroups.findIndex((x) => x.hostname === hostname);
    if (g < 0) {
      g = port.httpGroups.length;
      port.httpGroups.push({ hostname, listeners: [], secure: l.protocol === 'HTTPS', listenerPort: l.spec.port, entries: [], rules: [] });
    }
    port.httpGroups[g].listeners.push(index);
    port.listeners[index].group = g;
  });
  for (const group of port.httpGroups) fillGroup(group, socket, byListener);

  // TLS routes by SNI.
  socket.listeners.forEach((l, index) => {
    if (l.protocol !== 'TLS') return;
    for (const { work, attachment } of byListener.get(l) ?? []) {
      if (!work.l4 || work.route.kind !== 'TLSRoute') continue;
      for (const hostname of attachment.hostnames) {
        if (port.tlsRoutes.some((t) => t.hostname === hostname && t.route === nsName(work.route))) continue;
        port.tlsRoutes.push({
          route: nsName(work.route),
          routeKind: 'TLSRoute',
          backendRefs: work.l4.backendRefs,
          listener: index,
          hostname,
          mode: l.spec.tls?.mode ?? 'Passthrough',
        });
      }
    }
  });
  sortTlsRoutes(port.tlsRoutes, byListener);

  // TCP / UDP: the oldest attached route serves the port.
  if (socket.family === 'TCP' || socket.family === 'UDP') {
    socket.listeners.forEach((l, index) => {
      for (const { work } of byListener.get(l) ?? []) {
        if (!work.l4 || work.route.kind === 'TLSRoute') continue;
        if (port.l4Route === null) {
          port.l4Route = { route: nsName(work.route), routeKind: work.route.kind as 'TCPRoute' | 'UDPRoute', backendRefs: work.l4.backendRefs, listener: index };
        } else if (port.l4Route.route !== nsName(work.route) || port.l4Route.routeKind !== work.route.kind) {
          const msg = `port ${socket.port}/${socket.transport} is served by the older ${port.l4Route.routeKind} ${port.l4Route.route}`;
          if (!work.shadowed.includes(msg)) {
            work.shadowed.push(msg);
            ctx.diagnose('warning', 'L4_ROUTE_SHADOWED', `${msg}; this route receives no traffic there`, work.route);
          }
        }
      }
    });
  }
  return port;
}

function listenerIR(l: ListenerState, certificates: CertificateRegistry): ListenerIR {
  const protocol = l.protocol ?? 'HTTP';
  let tls: ListenerIR['tls'] = null;
  if ((protocol === 'HTTPS' || protocol === 'TLS') && l.spec.tls) {
    const mode = l.spec.tls.mode;
    tls = { mode, certificates: mode === 'Terminate' ? l.secrets.map((s) => certificates.intern(s, l.hostname)) : [] };
  }
  return {
    id: l.id,
    gateway: l.gateway.key,
    name: l.spec.name,
    protocol,
    port: l.spec.port,
    hostname: l.hostname,
    tls,
    group: -1,
  };
}

/**
 * The rules and entries of one group: every HTTPRoute/GRPCRoute attached through one of its
 * listeners, each route once (the first listener it attached through is recorded on its entries).
 */
function fillGroup(group: HttpGroupIR, socket: SocketState, byListener: Map<ListenerState, Attached[]>): void {
  const seen = new Map<RouteWork, { attachment: Attachment; listener: number }>();
  for (const index of group.listeners) {
    for (const a of byListener.get(socket.listeners[index]) ?? []) {
      if (!a.work.http) continue;
      if (!seen.has(a.work)) seen.set(a.work, { attachment: a.attachment, listener: index });
    }
  }
  const works = [...seen.keys()].sort((a, b) => a.rank - b.rank);
  const entries: HttpMatchEntry[] = [];
  for (const work of works) {
    const { attachment, listener } = seen.get(work)!;
    for (const rule of work.http!.rules) {
      const ruleIndex = group.rules.length;
      group.rules.push(rule.ir);
      for (const hostname of attachment.hostnames) {
        for (const m of rule.matches) {
          // Written out (not `{ ...m, hostname, ... }`): one shape for every entry, same key order.
          entries.push({
            path: m.path,
            method: m.method,
            headers: m.headers,
            queryParams: m.queryParams,
            grpc: m.grpc,
            grpcMethod: m.grpcMethod,
            matchIndex: m.matchIndex,
            hostname,
            rule: ruleIndex,
            listener,
          });
        }
      }
    }
  }
  entries.sort(compareHttpEntries);
  group.entries = entries;
}

/** SNI precedence: exact names, then longer wildcard suffixes, then `*`; ties: older route, then listener. */
function sortTlsRoutes(routes: TlsRouteIR[], byListener: Map<ListenerState, Attached[]>): void {
  if (routes.length < 2) return; // nothing to order (an HTTP port: no rank map of every route either)
  const rankOf = new Map<string, number>();
  for (const list of byListener.values()) {
    for (const { work } of list) rankOf.set(`${work.route.kind} ${nsName(work.route)}`, work.rank);
  }
  routes.sort((a, b) => {
    const [aw, al] = hostnameRank(a.hostname);
    const [bw, bl] = hostnameRank(b.hostname);
    if (aw !== bw) return aw - bw;
    if (al !== bl) return bl - al;
    if (a.hostname !== b.hostname) return a.hostname < b.hostname ? -1 : 1;
    const ra = rankOf.get(`TLSRoute ${a.route}`) ?? 0;
    const rb = rankOf.get(`TLSRoute ${b.route}`) ?? 0;
    if (ra !== rb) return ra - rb;
    return a.listener - b.listener;
  });
}
