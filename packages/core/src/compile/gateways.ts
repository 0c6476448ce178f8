/**
 * GatewayClasses, Gateways and their listeners: which Gateways are served, which listeners are
 * valid (protocol, route kinds, certificates), listener conflicts inside a Gateway and across
 * Gateways that share a socket, and the sockets to bind.
 *
 * GatewayClass: every class in the directory is accepted (whatever its controllerName, so tutorial
 * files written for another controller work); `options.gatewayClasses` restricts the set.
 * A Gateway whose class is not served:
 *  - class named but not in the directory → Accepted=False `Invalid`, Programmed=False `Invalid`
 *    (a standalone proxy has no one else to wait for: the class will not appear by itself);
 *  - class present but not selected by `options.gatewayClasses` → Accepted=Unknown `Pending`,
 *    Programmed=Unknown `Pending`, exactly what Kubernetes shows for a Gateway no controller handles.
 * A Gateway with `spec.infrastructure.parametersRef` is Accepted=False `InvalidParameters` (no
 * parameters kind is supported). So is a GatewayClass with `spec.parametersRef`: the spec rejects a class
 * whose parametersRef "refers to an unsupported kind" (or one that cannot be found), and Gatehouse takes
 * no class parameters at all. Its Gateways are then not served: Accepted=False `Invalid`, naming the
 * class. (Until this was fixed the ref was ignored with a warning; classes copied from another
 * controller's quickstart, Envoy Gateway's EnvoyProxy for one, must drop the line.)
 *
 * Listener conflicts inside one Gateway (features.md §2 "distinctness"), per (port, transport):
 *  - listeners of incompatible protocol families (HTTP | HTTPS+TLS | TCP) → all Conflicted
 *    `ProtocolConflict` (a TCP listener next to HTTP/HTTPS/TLS conflicts with all of them);
 *  - two TCP (or two UDP) listeners on one port → both `ProtocolConflict` (their only distinctness
 *    field is the port: GEP for TCPRoute/UDPRoute);
 *  - HTTPS and TLS listeners with the same hostname → both `HostnameConflict` (both are dispatched by
 *    SNI, so they cannot be told apart). Identical port+protocol+hostname is rejected by decode (CEL).
 * Across Gateways sharing one socket (address, port, transport) — the tutorial's Gateways all
 * listen on 80, and Gateways without spec.addresses all share the default address — the OLDER Gateway
 * (compareAge) claims the socket's protocol family; a younger Gateway's listener of another family is
 * Conflicted `ProtocolConflict`. Listeners of the same family with the same hostname are merged, as
 * if the Gateways were one: HTTP/HTTPS listeners share one HTTP group (their routes are matched
 * together), TLS listeners pool their SNI routes. For HTTPS the older listener comes first, so its
 * certificate is the one served for that name; both listeners report OverlappingTLSConfig. An HTTPS
 * and a TLS listener with the same hostname cannot be merged (one SNI name is either terminated for
 * HTTP or routed by TLSRoute): the younger is Conflicted `HostnameConflict`. A younger TCP/UDP
 * listener on a taken port is Conflicted `ProtocolConflict` (a TCP/UDP port carries one route).
 * As in the upstream GEP examples, a conflicted listener stays Accepted=True, reports Conflicted=True
 * and is not Programmed (it carries no traffic).
 */
import type { CertificateIR } from '../ir/types.js';
import {
  GATEWAY_GROUP,
  type Gateway,
  type GatewayClass,
  type Listener,
  type RouteGroupKind,
  type Secret,
} from '../resources/types.js';
import { isProblem, type Problem } from './conditions.js';
import { key, type CompileContext } from './context.js';
import { compareListenerHostnames, hostnamesOverlap } from './hostnames.js';
import { compareAge } from './rank.js';
import { referenceAllowed } from './reference-grants.js';
import { certificateNamesOverlap, pemDnsNames } from './x509.js';

export type ProtocolFamily = 'HTTP' | 'TLS' | 'TCP' | 'UDP';
export type RouteKind = 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute' | 'TCPRoute' | 'UDPRoute';

const KINDS_BY_PROTOCOL: Record<string, RouteKind[]> = {
  HTTP: ['HTTPRoute', 'GRPCRoute'],
  HTTPS: ['HTTPRoute', 'GRPCRoute'],
  TLS: ['TLSRoute'],
  TCP: ['TCPRoute'],
  UDP: ['UDPRoute'],
};

export interface ListenerState {
  gateway: GatewayState;
  spec: Listener;
  /** Index in `spec.listeners`. */
  index: number;
  /** `namespace/gateway/listener`. */
  id: string;
  protocol: 'HTTP' | 'HTTPS' | 'TLS' | 'TCP' | 'UDP' | null;
  family: ProtocolFamily | null;
  /** Lowercased; null = any host. */
  hostname: string | null;
  supportedKinds: RouteGroupKind[];
  /** Why Accepted=False (UnsupportedProtocol, UnsupportedValue). */
  notAccepted: Problem | null;
  conflict: Problem | null;
  /** ResolvedRefs=False reasons (InvalidCertificateRef, RefNotPermitted, InvalidRouteKinds). */
  refProblems: Problem[];
  /** OverlappingTLSConfig=True (OverlappingHostnames, or OverlappingCertificates which wins). */
  overlapping: Problem | null;
  /** The valid certificate Secrets (HTTPS, TLS Terminate), in ref order. */
  secrets: Secret[];
  /** `Kind ns/name` of every route attached through this listener. */
  attachedRoutes: Set<string>;
}

export interface GatewayState {
  gateway: Gateway;
  /** `namespace/name`. */
  key: string;
  /** Why the Gateway is not served, with the Accepted status to report. */
  notServed: (Problem & { status: 'False' | 'Unknown' }) | null;
  /** Bind addresses from `spec.addresses`; `[null]` = the `--bind` default. */
  addresses: (string | null)[];
  listeners: ListenerState[];
}

/** One socket to bind: listeners of every Gateway on (address, port, transport). */
export interface SocketState {
  key: string;
  address: string | null;
  port: number;
  transport: 'tcp' | 'udp';
  family: ProtocolFamily;
  /** Programmed listeners, most specific hostname first. */
  listeners: ListenerState[];
}

export function listenerProgrammed(l: ListenerState): boolean {
  return (
    l.gateway.notServed === null &&
    l.notAccepted === null &&
    l.conflict === null &&
    !l.refProblems.some((p) => p.reason !== 'InvalidRouteKinds') &&
    l.supportedKinds.length > 0
  );
}

// ---------------------------------------------------------------------------------------------- classes

export interface GatewayClassState {
  gatewayClass: GatewayClass;
  selected: boolean;
  /** Why the class is Accepted=False (InvalidParameters), or null. Only judged for selected classes. */
  problem: Problem | null;
}

export function compileGatewayClasses(ctx: CompileContext): Map<string, GatewayClassState> {
  const classes = new Map<string, GatewayClassState>();
  for (const gc of ctx.resources.gatewayClasses) {
    if (classes.has(gc.metadata.name)) continue;
    const selected = ctx.gatewayClassFilter === null || ctx.gatewayClassFilter.has(gc.metadata.name);
    const problem = selected ? classParametersProblem(ctx, gc) : null;
    if (problem) {
      ctx.diagnose('warning', 'GATEWAYCLASS_NOT_ACCEPTED', `${problem.reason}: ${problem.message}`, gc, 'spec.parametersRef');
    }
    classes.set(gc.metadata.name, { gatewayClass: gc, selected, problem });
  }
  return classes;
}

/**
 * `spec.parametersRef` of a GatewayClass: Gatehouse supports no parameters kind, so every ref is
 * InvalidParameters ("refers to an unsupported kind"); a ConfigMap that is not in the directory is
 * reported as not found, which is the more useful message.
 */
function classParametersProblem(ctx: CompileContext, gc: GatewayClass): Problem | null {
  const ref = gc.spec.parametersRef;
  if (!ref) return null;
  const where = ref.namespace ? `${ref.namespace}/` : '';
  const what = `${ref.kind}${ref.group ? `.${ref.group}` : ''} ${where}${ref.name}`;
  if (ref.group === '' && ref.kind === 'ConfigMap') {
    const found = ctx.resources.configMaps.some((c) => c.metadata.name === ref.name && c.metadata.namespace === (ref.namespace ?? c.metadata.namespace));
    if (!found) return { reason: 'InvalidParameters', message: `parametersRef ${what} not found in the directory` };
  }
  return {
    reason: 'InvalidParameters',
    message: `parametersRef ${what}: kind ${ref.kind} is not supported (Gatehouse takes no GatewayClass parameters; remove spec.parametersRef)`,
  };
}

// ---------------------------------------------------------------------------------------------- gateways

export function compileGateways(ctx: CompileContext, classes: Map<string, GatewayClassState>): GatewayState[] {
  const states: GatewayState[] = [];
  for (const gateway of ctx.resources.gateways) {
    const state: GatewayState = {
      gateway,
      key: key(gateway.metadata),
      notServed: gatewayClassProblem(ctx, classes, gateway),
      addresses: [null],
      listeners: [],
    };
    const parametersRef = gateway.spec.infrastructure?.parametersRef;
    if (state.notServed === null && parametersRef) {
      // No infrastructure parameters kind is supported by a standalone proxy: the spec asks to reject
      // the Gateway rather than ignore parameters it cannot honour.
      const what = `${parametersRef.kind}${parametersRef.group ? `.${parametersRef.group}` : ''} ${parametersRef.name}`;
      state.notServed = { status: 'False', reason: 'InvalidParameters', message: `infrastructure.parametersRef ${what} is not supported` };
    }
    if (state.notServed === null) {
      const addresses = bindAddresses(gateway);
      if (isProblem(addresses)) state.notServed = { ...addresses, status: 'False' };
      else state.addresses = addresses;
    }
    gateway.spec.listeners.forEach((spec, index) => state.listeners.push(validateListener(ctx, state, spec, index)));
    states.push(state);
  }
  for (const state of states) markConflictsInsideGateway(state);
  return states;
}

function gatewayClassProblem(
  ctx: CompileContext,
  classes: Map<string, GatewayClassState>,
  gateway: Gateway,
): GatewayState['notServed'] {
  const name = gateway.spec.gatewayClassName;
  const gc = classes.get(name);
  if (!gc) {
    if (ctx.gatewayClassFilter !== null && !ctx.gatewayClassFilter.has(name)) {
      return { status: 'Unknown', reason: 'Pending', message: `GatewayClass ${name} is not handled by this instance (not selected by --gateway-class)` };
    }
    return { status: 'False', reason: 'Invalid', message: `GatewayClass ${name} does not exist in the directory` };
  }
  if (!gc.selected) {
    return { status: 'Unknown', reason: 'Pending', message: `GatewayClass ${name} is not handled by this instance (not selected by --gateway-class)` };
  }
  if (gc.problem) {
    return { status: 'False', reason: 'Invalid', message: `GatewayClass ${name} is not accepted (${gc.problem.reason}: ${gc.problem.message})` };
  }
  return null;
}

/**
 * `spec.addresses` of type IPAddress are the bind addresses (an address without a value means the
 * default). Any other type cannot be bound by a standalone proxy → Accepted=False `UnsupportedAddress`.
 */
function bindAddresses(gateway: Gateway): (string | null)[] | Problem {
  const out: (string | null)[] = [];
  for (const a of gateway.spec.addresses) {
    if (a.type !== 'IPAddress') {
      return { reason: 'UnsupportedAddress', message: `address type ${a.type} is not supported (only IPAddress can be bound)` };
    }
    if (a.value === undefined || a.value === '') {
      if (!out.includes(null)) out.push(null);
      continue;
    }
    const value = normaliseIp(a.value);
    if (value === null) return { reason: 'UnsupportedAddress', message: `${a.value} is not an IP address` };
    if (!out.includes(value)) out.push(value);
  }
  return out.length > 0 ? out : [null];
}

function normaliseIp(value: string): string | null {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(value);
  if (v4) return v4.slice(1).every((o) => Number(o) <= 255) ? value : null;
  if (/^[0-9a-fA-F:.]+$/.test(value) && value.includes(':')) return value.toLowerCase();
  return null;
}

// ---------------------------------------------------------------------------------------------- listeners

function validateListener(ctx: CompileContext, gateway: GatewayState, spec: Listener, index: number): ListenerState {
  const protocol = knownProtocol(spec.protocol);
  const l: ListenerState = {
    gateway,
    spec,
    index,
    id: `${gateway.key}/${spec.name}`,
    protocol,
    family: protocol === null ? null : familyOf(protocol),
    hostname: spec.hostname ? spec.hostname.toLowerCase() : null,
    supportedKinds: [],
    notAccepted: null,
    conflict: null,
    refProblems: [],
    overlapping: null,
    secrets: [],
    attachedRoutes: new Set(),
  };
  if (protocol === null) {
    l.notAccepted = {
      reason: 'UnsupportedProtocol',
      message: `protocol ${spec.protocol} is not supported (supported: HTTP, HTTPS, TLS, TCP, UDP)`,
    };
    return l;
  }
  if (protocol === 'HTTPS' && spec.tls?.mode === 'Passthrough') {
    l.notAccepted = { reason: 'UnsupportedValue', message: 'an HTTPS listener terminates TLS: tls.mode Passthrough is not allowed (use protocol TLS)' };
  }
  if ((protocol === 'HTTPS' || protocol === 'TLS') && !spec.tls) {
    l.notAccepted = { reason: 'UnsupportedValue', message: `a ${protocol} listener needs a tls block` };
  }
  const mtls = clientValidationField(gateway.gateway, spec);
  if (mtls !== null && l.notAccepted === null) {
    // Serving the listener without the client-certificate check it asks for would let every client in:
    // refuse it instead (fail closed) with the spec's reason for a value the implementation does not support.
    l.notAccepted = {
      reason: 'UnsupportedValue',
      message: `${mtls} (client certificate validation) is not supported by Gatehouse: the listener is not served rather than served without it`,
    };
  }
  resolveRouteKinds(l);
  if (l.notAccepted === null && spec.tls && spec.tls.mode === 'Terminate' && (protocol === 'HTTPS' || protocol === 'TLS')) {
    resolveCertificates(ctx, l);
  }
  return l;
}

/**
 * The field asking this listener to validate client certificates, or null: the listener's own
 * `tls.frontendValidation` (experimental, v1.1–v1.4) or the Gateway's `spec.tls.frontend` (v1.5+), which
 * applies to its HTTPS listeners. Decode keeps both as written; Gatehouse implements neither.
 */
function clientValidationField(gateway: Gateway, spec: Listener): string | null {
  const own = (spec.tls as { frontendValidation?: unknown } | undefined)?.frontendValidation;
  if (own !== undefined && own !== null) return 'tls.frontendValidation';
  const frontend = (gateway.spec as { tls?: { frontend?: unknown } | null }).tls?.frontend;
  if (frontend !== undefined && frontend !== null && spec.protocol === 'HTTPS') return 'spec.tls.frontend';
  return null;
}

function knownProtocol(p: string): ListenerState['protocol'] {
  return p === 'HTTP' || p === 'HTTPS' || p === 'TLS' || p === 'TCP' || p === 'UDP' ? p : null;
}

function familyOf(p: NonNullable<ListenerState['protocol']>): ProtocolFamily {
  return p === 'HTTPS' ? 'TLS' : p;
}

/** `allowedRoutes.kinds`: empty = the protocol's kinds; a kind the protocol cannot serve → InvalidRouteKinds. */
function resolveRouteKinds(l: ListenerState): void {
  const allowed = KINDS_BY_PROTOCOL[l.protocol ?? ''] ?? [];
  const requested = l.spec.allowedRoutes.kinds;
  if (requested.length === 0) {
    l.supportedKinds = allowed.map((kind) => ({ group: GATEWAY_GROUP, kind }));
    return;
  }
  const invalid: string[] = [];
  for (const k of requested) {
    const ok = k.group === GATEWAY_GROUP && (allowed as string[]).includes(k.kind);
    if (ok && !l.supportedKinds.some((s) => s.kind === k.kind)) l.supportedKinds.push({ group: GATEWAY_GROUP, kind: k.kind });
    if (!ok) invalid.push(k.group && k.group !== GATEWAY_GROUP ? `${k.kind}.${k.group}` : k.kind);
  }
  if (invalid.length > 0) {
    l.refProblems.push({
      reason: 'InvalidRouteKinds',
      message: `route kinds not supported by protocol ${l.protocol}: ${invalid.join(', ')} (supported: ${allowed.join(', ')})`,
    });
  }
}

/**
 * certificateRefs of an HTTPS / TLS-Terminate listener: Secrets of type kubernetes.io/tls with
 * `tls.crt` and `tls.key`; another namespace needs a ReferenceGrant from this Gateway.
 */
function resolveCertificates(ctx: CompileContext, l: ListenerState): void {
  const gw = l.gateway.gateway;
  const refs = l.spec.tls?.certificateRefs ?? [];
  if (refs.length === 0) {
    l.refProblems.push({ reason: 'InvalidCertificateRef', message: 'a listener that terminates TLS needs at least one certificateRef' });
    return;
  }
  for (const ref of refs) {
    const namespace = ref.namespace ?? gw.metadata.namespace;
    const name = `${namespace}/${ref.name}`;
    if (ref.group !== '' || ref.kind !== 'Secret') {
      l.refProblems.push({ reason: 'InvalidCertificateRef', message: `certificateRef ${ref.kind} ${name}: only core Secrets are supported` });
      continue;
    }
    const permitted = referenceAllowed(
      ctx.resources.referenceGrants,
      { group: GATEWAY_GROUP, kind: 'Gateway', namespace: gw.metadata.namespace },
      { group: '', kind: 'Secret', namespace, name: ref.name },
    );
    if (!permitted) {
      l.refProblems.push({
        reason: 'RefNotPermitted',
        message: `certificateRef Secret ${name}: a reference to namespace ${namespace} needs a ReferenceGrant there from Gateway in ${gw.metadata.namespace}`,
      });
      continue;
    }
    const secret = ctx.secrets.get(name);
    if (!secret) {
      l.refProblems.push({ reason: 'InvalidCertificateRef', message: `certificateRef Secret ${name} not found` });
      continue;
    }
    const problem = tlsSecretProblem(secret);
    if (problem) {
      l.refProblems.push({ reason: 'InvalidCertificateRef', message: `certificateRef Secret ${name}: ${problem}` });
      continue;
    }
    l.secrets.push(secret);
  }
}

function tlsSecretProblem(secret: Secret): string | null {
  if (secret.spec.type !== 'kubernetes.io/tls') return `type is ${secret.spec.type || 'Opaque'}, not kubernetes.io/tls`;
  const cert = secret.spec.data['tls.crt'];
  const key = secret.spec.data['tls.key'];
  if (!cert) return 'tls.crt is missing or empty';
  if (!key) return 'tls.key is missing or empty';
  if (!cert.includes('-----BEGIN CERTIFICATE-----')) return 'tls.crt is not a PEM certificate';
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) return 'tls.key is not a PEM private key';
  return null;
}

// ---------------------------------------------------------------------------------------------- conflicts

function transportOf(l: ListenerState): 'tcp' | 'udp' {
  return l.family === 'UDP' ? 'udp' : 'tcp';
}

/** A listener that is still a candidate for a socket (accepted, valid protocol, not yet conflicted). */
function contender(l: ListenerState): boolean {
  return l.family !== null && l.notAccepted === null && l.conflict === null;
}

function markConflictsInsideGateway(state: GatewayState): void {
  const byPort = new Map<string, ListenerState[]>();
  for (const l of state.listeners) {
    if (!contender(l)) continue;
    const k = `${l.spec.port}/${transportOf(l)}`;
    const list = byPort.get(k);
    if (list) list.push(l);
    else byPort.set(k, [l]);
  }
  for (const listeners of byPort.values()) {
    const families = new Set(listeners.map((l) => l.family));
    if (families.size > 1) {
      const summary = listeners.map((l) => `${l.spec.name} (${l.spec.protocol})`).join(', ');
      for (const l of listeners) {
        setConflict(l, 'ProtocolConflict', `port ${l.spec.port} is shared by listeners of incompatible protocols: ${summary}`);
      }
      continue;
    }
    const byHostname = new Map<string, ListenerState[]>();
    for (const l of listeners) {
      const h = l.family === 'TCP' || l.family === 'UDP' ? '' : (l.hostname ?? '*');
      const list = byHostname.get(h);
      if (list) list.push(l);
      else byHostname.set(h, [l]);
    }
    for (const [h, same] of byHostname) {
      if (same.length < 2) continue;
      const names = same.map((l) => l.spec.name).join(', ');
      const what = h === '' ? `port ${same[0].spec.port}` : `port ${same[0].spec.port} and hostname ${h === '*' ? '(none)' : h}`;
      const reason = h === '' ? 'ProtocolConflict' : 'HostnameConflict';
      for (const l of same) setConflict(l, reason, `listeners ${names} share ${what}`);
    }
  }
}

function setConflict(l: ListenerState, reason: string, message: string): void {
  l.conflict = { reason, message };
}

// ---------------------------------------------------------------------------------------------- sockets

export function socketKey(address: string | null, port: number, transport: 'tcp' | 'udp'): string {
  const host = address === null ? '*' : address.includes(':') ? `[${address}]` : address;
  return `${host}:${port}/${transport}`;
}

/**
 * Merge the served listeners of every Gateway into sockets, oldest Gateway first, marking the
 * cross-Gateway conflicts described at the top of this file. Sockets come out ordered by port,
 * transport, then address (the default address first).
 */
export function buildSockets(gateways: readonly GatewayState[], isolateGateways = false): SocketState[] {
  const sockets = new Map<string, SocketState>();
  const ordered = [...gateways].filter((g) => g.notServed === null).sort((a, b) => compareAge(a.gateway, b.gateway));
  for (const gw of ordered) {
    for (const l of gw.listeners) {
      if (!contender(l) || l.family === null) continue;
      for (const address of gw.addresses) {
        const transport = transportOf(l);
        const k = socketKey(address, l.spec.port, transport) + (isolateGateways ? `#${gw.key}` : '');
        let socket = sockets.get(k);
        if (!socket) {
          socket = { key: k, address, port: l.spec.port, transport, family: l.family, listeners: [] };
          sockets.set(k, socket);
        }
        const clash = crossGatewayClash(socket, l);
        if (clash) {
          setConflict(l, clash.reason, clash.message);
          break;
        }
        socket.listeners.push(l);
      }
    }
  }
  // A listener conflicted on a later address must leave the sockets it joined before.
  const out: SocketState[] = [];
  for (const socket of sockets.values()) {
    socket.listeners = socket.listeners.filter((l) => listenerProgrammed(l));
    if (socket.listeners.length === 0) continue;
    socket.listeners.sort(compareSocketListeners);
    out.push(socket);
  }
  out.sort((a, b) => {
    if (a.port !== b.port) return a.port - b.port;
    if (a.transport !== b.transport) return a.transport < b.transport ? -1 : 1;
    if (a.address === b.address) return 0;
    if (a.address === null) return -1;
    if (b.address === null) return 1;
    return a.address < b.address ? -1 : 1;
  });
  markOverlappingTls(out);
  return out;
}

function crossGatewayClash(socket: SocketState, l: ListenerState): Problem | null {
  const owner = socket.listeners.find((o) => o.gateway !== l.gateway);
  if (socket.family !== l.family) {
    const by = owner ? `Gateway ${owner.gateway.key}` : 'an older Gateway';
    return {
      reason: 'ProtocolConflict',
      message: `port ${l.spec.port} is already served as ${socket.family} by ${by} (the older Gateway wins)`,
    };
  }
  for (const o of socket.listeners) {
    if (o.gateway === l.gateway) continue;
    if (l.family === 'TCP' || l.family === 'UDP') {
      return {
        reason: 'ProtocolConflict',
        message: `port ${l.spec.port}/${transportOf(l)} is already served by listener ${o.id} (the older Gateway wins)`,
      };
    }
    const sameHost = (o.hostname ?? '*') === (l.hostname ?? '*');
    if (l.family === 'TLS' && sameHost && o.protocol !== l.protocol) {
      return {
        reason: 'HostnameConflict',
        message: `hostname ${l.hostname ?? '(none)'} on port ${l.spec.port} is already served as ${o.protocol} by listener ${o.id} (the older Gateway wins)`,
      };
    }
  }
  return null;
}

/** Most specific hostname first; then Gateway age, then listener order. */
function compareSocketListeners(a: ListenerState, b: ListenerState): number {
  const c = compareListenerHostnames(a.hostname, b.hostname);
  if (c !== 0) return c;
  if (a.hostname !== b.hostname) return (a.hostname ?? '') < (b.hostname ?? '') ? -1 : 1;
  if (a.gateway !== b.gateway) return compareAge(a.gateway.gateway, b.gateway.gateway);
  return a.index - b.index;
}

/**
 * OverlappingTLSConfig (negative polarity, only ever True) on the listeners of one TLS socket:
 *  - `OverlappingCertificates`: the leaf certificates of two terminating listeners have
 *    subjectAltName dNSNames that can match one server name (`*.example.com` and `foo.example.com`,
 *    or the same name; one Secret shared by two listeners counts). A client may then reuse a
 *    connection made for one listener for the other's names (connection coalescing). The spec lets
 *    controllers detect this ("MAY") and, when both kinds apply, asks for this reason ("SHOULD");
 *  - `OverlappingHostnames`: their hostnames overlap (one covers the other, or one has no hostname),
 *    terminating or passthrough (the spec's "MUST detect").
 * The listeners stay programmed: SNI picks the most specific one.
 */
function markOverlappingTls(sockets: readonly SocketState[]): void {
  for (const socket of sockets) {
    if (socket.family !== 'TLS') continue;
    const namesOf = new Map(socket.listeners.map((l) => [l, listenerCertificateNames(l)]));
    for (const l of socket.listeners) {
      const names = namesOf.get(l)!;
      const certs = socket.listeners.filter(
        (o) => o !== l && names.length > 0 && namesOf.get(o)!.some((n) => names.some((m) => certificateNamesOverlap(m, n))),
      );
      if (certs.length > 0) {
        l.overlapping = {
          reason: 'OverlappingCertificates',
          message: `certificate names ${names.join(', ')} overlap the certificates of ${certs
            .map((o) => `${o.id} (${namesOf.get(o)!.join(', ')})`)
            .join(', ')} on port ${l.spec.port}`,
        };
        continue;
      }
      const others = socket.listeners.filter((o) => o !== l && hostnamesOverlap(o.hostname, l.hostname));
      if (others.length === 0) continue;
      l.overlapping = {
        reason: 'OverlappingHostnames',
        message: `hostname ${l.hostname ?? '(none)'} overlaps ${others.map((o) => `${o.id} (${o.hostname ?? 'no hostname'})`).join(', ')} on port ${l.spec.port}`,
      };
    }
  }
}

/** subjectAltName dNSNames of a listener's certificates (sorted, unique); parsed once per Secret. */
function listenerCertificateNames(l: ListenerState): string[] {
  const out = new Set<string>();
  for (const secret of l.secrets) {
    let names = certificateNamesCache.get(secret);
    if (names === undefined) {
      names = pemDnsNames(secret.spec.data['tls.crt'] ?? '');
      certificateNamesCache.set(secret, names);
    }
    for (const n of names) out.add(n);
  }
  return [...out].sort();
}
const certificateNamesCache = new WeakMap<Secret, string[]>();

// ---------------------------------------------------------------------------------------------- certificates

/** CertificateIRs of the served listeners, deduplicated by Secret, in socket order. */
export class CertificateRegistry {
  readonly list: CertificateIR[] = [];
  private readonly index = new Map<string, number>();

  intern(secret: Secret, hostname: string | null): number {
    const k = key(secret.metadata);
    let i = this.index.get(k);
    if (i === undefined) {
      i = this.list.length;
      this.index.set(k, i);
      this.list.push({ secret: k, cert: secret.spec.data['tls.crt'], key: secret.spec.data['tls.key'], hostnames: [] });
    }
    const cert = this.list[i];
    if (hostname !== null && !cert.hostnames.includes(hostname)) {
      cert.hostnames.push(hostname);
      cert.hostnames.sort();
    }
    return i;
  }
}
