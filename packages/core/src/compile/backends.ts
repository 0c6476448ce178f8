/**
 * Backend resolution without Kubernetes (DESIGN.md §5). A backendRef of kind Service
 * `{namespace, name, port}` resolves, in this order:
 *
 *  1. EndpointSlice — slices labelled `kubernetes.io/service-name: <name>` in that namespace. Their
 *     READY endpoints are the targets (no ready endpoint → an empty list, which answers 503).
 *     The Service of the same name, when present, maps `port` to its `targetPort`: a number is used as
 *     is, a name is looked up among the slice's port names. Without a Service object the ref's port
 *     is used unchanged. The Service port's appProtocol (else the slice port's) picks the upstream
 *     protocol.
 *  2. ExternalName — a Service of `type: ExternalName`: `spec.externalName` resolved by DNS, with
 *     the ref's port (plus a warning diagnostic: the target is outside the directory's control).
 *  3. DNS — not in strict mode: the ref's NAME ALONE (`metadata.name`, never `name.namespace` or a
 *     cluster domain) is resolved by the data plane with the system resolver, so docker-compose
 *     service names and /etc/hosts entries work. The port is the ref's port, or the Service's numeric
 *     `targetPort` when a Service object exists (a named targetPort cannot be resolved without an
 *     EndpointSlice, so the service port is kept). A Service's `clusterIP` is deliberately ignored:
 *     a cluster-internal virtual IP is not reachable from a standalone proxy.
 *     In strict mode (`--backend-resolution strict`) this step is skipped → `BackendNotFound`.
 *
 * Kind `Backend` of group `gateway.envoyproxy.io`: its `ip`, `fqdn` and `unix` endpoints, unchanged.
 * Any other kind → `InvalidKind`. A cross-namespace ref without a ReferenceGrant → `RefNotPermitted`
 * (checked first, so status never reveals whether the target exists).
 */
import type { BackendIR, EndpointIR } from '../ir/types.js';
import {
  ENVOY_GROUP,
  GATEWAY_GROUP,
  type BackendObjectReference,
  type EndpointSlice,
  type Service,
  type ServicePort,
} from '../resources/types.js';
import { isProblem, type Problem } from './conditions.js';
import { key, type CompileContext, type Located } from './context.js';
import { referenceAllowed } from './reference-grants.js';
import type { BackendStatus } from './status.js';

/** What the backend is used for: decides the upstream protocol. */
export type BackendPurpose = 'http' | 'grpc' | 'l4';

export type Resolution =
  | { ok: true; backend: BackendIR; status: BackendStatus }
  | { ok: false; problem: Problem; status: BackendStatus };

/** The object holding the ref (a Route), for ReferenceGrant `from` and diagnostics. */
export interface RefOwner extends Located {
  metadata: { namespace: string; name: string };
}

/** `Service ns/name:port`, `Backend ns/name`, or `Kind ns/name[:port]`: how a ref is named everywhere. */
export function backendRefName(ref: BackendObjectReference, defaultNamespace: string): string {
  const ns = ref.namespace ?? defaultNamespace;
  const kind = ref.group === '' || ref.group === ENVOY_GROUP ? ref.kind : `${ref.kind}.${ref.group}`;
  const port = ref.port !== undefined && !(ref.group === ENVOY_GROUP && ref.kind === 'Backend') ? `:${ref.port}` : '';
  return `${kind} ${ns}/${ref.name}${port}`;
}

export function resolveBackendRef(
  ctx: CompileContext,
  owner: RefOwner,
  ref: BackendObjectReference,
  purpose: BackendPurpose,
): Resolution {
  // The same ref from the same kind of owner in the same namespace always resolves the same way:
  // cache it (large tables share a few hundred Services among thousands of rules).
  const cacheKey = `${owner.kind}|${owner.metadata.namespace}|${ref.group}|${ref.kind}|${ref.namespace ?? ''}|${ref.name}|${ref.port ?? ''}|${purpose}`;
  let cache = resolutionCache.get(ctx);
  if (!cache) {
    cache = new Map();
    resolutionCache.set(ctx, cache);
  }
  const cached = cache.get(cacheKey);
  if (cached) return cached;
  const resolution = resolveUncached(ctx, owner, ref, purpose);
  cache.set(cacheKey, resolution);
  return resolution;
}

const resolutionCache = new WeakMap<CompileContext, Map<string, Resolution>>();

function resolveUncached(
  ctx: CompileContext,
  owner: RefOwner,
  ref: BackendObjectReference,
  purpose: BackendPurpose,
): Resolution {
  const namespace = ref.namespace ?? owner.metadata.namespace;
  const name = backendRefName(ref, owner.metadata.namespace);
  const fail = (reason: string, message: string): Resolution => ({
    ok: false,
    problem: { reason, message },
    status: { name, resolution: 'Unresolved', reason, endpoints: [] },
  });

  const isService = ref.group === '' && ref.kind === 'Service';
  const isEnvoyBackend = ref.group === ENVOY_GROUP && ref.kind === 'Backend';
  if (!isService && !isEnvoyBackend) {
    return fail('InvalidKind', `${name}: kind ${ref.kind} of group "${ref.group}" is not supported (use Service, or Backend of ${ENVOY_GROUP})`);
  }
  const permitted = referenceAllowed(
    ctx.resources.referenceGrants,
    { group: GATEWAY_GROUP, kind: owner.kind, namespace: owner.metadata.namespace },
    { group: ref.group, kind: ref.kind, namespace, name: ref.name },
  );
  if (!permitted) {
    return fail(
      'RefNotPermitted',
      `${name}: a reference to namespace ${namespace} needs a ReferenceGrant in ${namespace} from ${owner.kind} in ${owner.metadata.namespace}`,
    );
  }
  const result = isEnvoyBackend
    ? resolveEnvoyBackend(ctx, namespace, ref, purpose)
    : resolveService(ctx, namespace, ref, purpose);
  if (isProblem(result)) return fail(result.reason, `${name}: ${result.message}`);
  const backend = result;
  return {
    ok: true,
    backend,
    status: { name, resolution: backend.resolution, reason: null, endpoints: backend.endpoints.map(formatEndpoint) },
  };
}

export function formatEndpoint(e: EndpointIR): string {
  if (e.unix) return `unix:${e.address}`;
  const host = e.address.includes(':') ? `[${e.address}]` : e.address;
  return `${host}:${e.port}${e.dns ? ' (dns)' : ''}`;
}

// ---------------------------------------------------------------------------------------------- Service

function resolveService(
  ctx: CompileContext,
  namespace: string,
  ref: BackendObjectReference,
  purpose: BackendPurpose,
): BackendIR | Problem {
  if (ref.port === undefined) {
    return { reason: 'BackendNotFound', message: 'a Service backendRef needs a port' };
  }
  const service = ctx.services.get(`${namespace}/${ref.name}`);
  let servicePort: ServicePort | undefined;
  if (service && service.spec.ports.length > 0 && service.spec.type !== 'ExternalName') {
    servicePort = service.spec.ports.find((p) => p.port === ref.port);
    if (!servicePort) {
      const ports = service.spec.ports.map((p) => p.port).join(', ');
      return { reason: 'BackendNotFound', message: `Service ${namespace}/${ref.name} has no port ${ref.port} (ports: ${ports})` };
    }
  }
  const id = `Service ${namespace}/${ref.name}:${ref.port}`;

  // 1. EndpointSlices.
  const slices = ctx.endpointSlices.get(`${namespace}/${ref.name}`);
  if (slices && slices.length > 0) {
    let appProtocol = servicePort?.appProtocol;
    const endpoints: EndpointIR[] = [];
    const seen = new Set<string>();
    for (const slice of slices) {
      const target = slicePort(slice, servicePort, ref.port);
      if (target === null) continue;
      appProtocol ??= target.appProtocol;
      for (const endpoint of slice.spec.endpoints) {
        if (!endpoint.ready) continue;
        for (const address of endpoint.addresses) {
          const k = `${address} ${target.port}`;
          if (seen.has(k)) continue;
          seen.add(k);
          endpoints.push({ address, port: target.port, dns: slice.spec.addressType === 'FQDN', unix: false });
        }
      }
    }
    const protocol = protocolFor(appProtocol, purpose);
    if (isProblem(protocol)) return protocol;
    return { id: id, resolution: 'EndpointSlice', protocol: protocol.value, endpoints };
  }

  // 2. ExternalName.
  if (service && service.spec.type === 'ExternalName' && service.spec.externalName) {
    warnOnce(ctx, service, 'EXTERNAL_NAME_BACKEND', `ExternalName Service: ${service.spec.externalName} is resolved by DNS at run time`);
    const appProtocol = service.spec.ports.find((p) => p.port === ref.port)?.appProtocol;
    const protocol = protocolFor(appProtocol, purpose);
    if (isProblem(protocol)) return protocol;
    return {
      id: id,
      resolution: 'ExternalName',
      protocol: protocol.value,
      endpoints: [{ address: service.spec.externalName.toLowerCase(), port: ref.port, dns: true, unix: false }],
    };
  }

  // 3. DNS fallback on the bare service name.
  if (ctx.strictBackends) {
    const what = service ? `Service ${namespace}/${ref.name} has no EndpointSlice` : `no Service or EndpointSlice ${namespace}/${ref.name}`;
    return { reason: 'BackendNotFound', message: `${what} (strict backend resolution: no DNS fallback)` };
  }
  const port = typeof servicePort?.targetPort === 'number' ? servicePort.targetPort : ref.port;
  const appProtocol = servicePort?.appProtocol;
  const protocol = protocolFor(appProtocol, purpose);
  if (isProblem(protocol)) return protocol;
  return {
    id: id,
    resolution: 'DNS',
    protocol: protocol.value,
    endpoints: [{ address: ref.name, port, dns: true, unix: false }],
  };
}

/**
 * The port endpoints of `slice` listen on for this service port, or null when the slice does not
 * carry it. Kubernetes names each slice port after its Service port (`""` when the Service port has no
 * name), so that name is looked up first; then a named targetPort (hand-written slices often use it);
 * then a numeric targetPort. Without a Service object the ref's port is used.
 */
function slicePort(
  slice: EndpointSlice,
  servicePort: ServicePort | undefined,
  refPort: number,
): { port: number; appProtocol?: string } | null {
  const ports = slice.spec.ports;
  if (servicePort) {
    const byName = ports.find((p) => (p.name ?? '') === (servicePort.name ?? ''));
    if (byName) return byName;
    if (typeof servicePort.targetPort === 'string') {
      const byTarget = ports.find((p) => p.name === servicePort.targetPort);
      return byTarget ?? null;
    }
    return { port: servicePort.targetPort };
  }
  return { port: refPort };
}

function addEndpoint(list: EndpointIR[], e: EndpointIR): void {
  if (!list.some((x) => x.address === e.address && x.port === e.port)) list.push(e);
}

type ProtocolChoice = { value: BackendIR['protocol']; natural: BackendIR['protocol'] } | Problem;

/**
 * Upstream protocol from appProtocol (GEP-1911). L4 routes forward bytes, so appProtocol does not
 * matter to them. GRPCRoute backends always speak h2c: without an appProtocol that is simply their
 * protocol; with a contradicting one (say `kubernetes.io/ws`) h2c still wins and the BackendIR gets
 * its own id (see BackendRegistry).
 */
function protocolFor(appProtocol: string | undefined, purpose: BackendPurpose): ProtocolChoice {
  let natural: BackendIR['protocol'];
  switch (appProtocol) {
    case undefined:
    case '':
      natural = purpose === 'grpc' ? 'h2c' : 'http1';
      break;
    case 'http':
    case 'HTTP':
    case 'TCP':
    case 'tcp':
      natural = 'http1';
      break;
    case 'kubernetes.io/h2c':
    case 'h2c':
    case 'grpc':
      natural = 'h2c';
      break;
    case 'kubernetes.io/ws':
      natural = 'ws';
      break;
    case 'kubernetes.io/wss':
      natural = 'wss';
      break;
    case 'https':
    case 'HTTPS':
    case 'tls':
      natural = 'tls';
      break;
    default:
      if (purpose === 'l4') natural = 'http1';
      else
        return {
          reason: 'UnsupportedProtocol',
          message: `appProtocol "${appProtocol}" is not supported (supported: kubernetes.io/h2c, kubernetes.io/ws, kubernetes.io/wss, http, https)`,
        };
  }
  if (purpose === 'grpc') return { value: 'h2c', natural };
  return { value: natural, natural };
}

function warnOnce(ctx: CompileContext, service: Service, code: string, message: string): void {
  const objectKey = `${code} ${key(service.metadata)}`;
  if (warned.get(ctx)?.has(objectKey)) return;
  let set = warned.get(ctx);
  if (!set) {
    set = new Set();
    warned.set(ctx, set);
  }
  set.add(objectKey);
  ctx.diagnose('warning', code, message, service);
}
const warned = new WeakMap<CompileContext, Set<string>>();

// ---------------------------------------------------------------------------------------------- Envoy Backend

function resolveEnvoyBackend(
  ctx: CompileContext,
  namespace: string,
  ref: BackendObjectReference,
  purpose: BackendPurpose,
): BackendIR | Problem {
  const backend = ctx.backends.get(`${namespace}/${ref.name}`);
  if (!backend) return { reason: 'BackendNotFound', message: `Backend ${namespace}/${ref.name} not found` };
  const endpoints: EndpointIR[] = [];
  for (const e of backend.spec.endpoints) {
    if (e.ip) addEndpoint(endpoints, { address: e.ip.address, port: e.ip.port, dns: false, unix: false });
    else if (e.fqdn) addEndpoint(endpoints, { address: e.fqdn.hostname.toLowerCase(), port: e.fqdn.port, dns: true, unix: false });
    else if (e.unix) addEndpoint(endpoints, { address: e.unix.path, port: 0, dns: false, unix: true });
  }
  let natural: BackendIR['protocol'] = purpose === 'grpc' ? 'h2c' : 'http1';
  const protocols = backend.spec.appProtocols;
  if (protocols.includes('gateway.envoyproxy.io/h2c')) natural = 'h2c';
  else if (protocols.includes('gateway.envoyproxy.io/wss')) natural = 'wss';
  else if (protocols.includes('gateway.envoyproxy.io/ws')) natural = 'ws';
  const protocol = purpose === 'grpc' ? 'h2c' : natural;
  return { id: `Backend ${namespace}/${ref.name}`, resolution: 'Backend', protocol, endpoints };
}

// ---------------------------------------------------------------------------------------------- registry

/**
 * The table's `backends`: interned by (id, protocol), indices handed to rules and mirrors. One Service
 * port used with two protocols (an HTTPRoute speaking HTTP/1.1 and a GRPCRoute forcing h2c) gives two
 * BackendIRs; `finalize` then appends ` (<protocol>)` to the id of every entry but the HTTP/1.1 one
 * (or, without one, all but the first by protocol name), so ids stay unique.
 */
export class BackendRegistry {
  readonly list: BackendIR[] = [];
  private readonly index = new Map<string, number>();
  /**
   * The same resolved object again (resolutions are cached per ref, so thousands of rules hand in a
   * few hundred objects): found by identity, without building and hashing the string key.
   */
  private readonly byObject = new Map<BackendIR, number>();

  intern(backend: BackendIR): number {
    const seen = this.byObject.get(backend);
    if (seen !== undefined) return seen;
    const k = `${backend.id} ${backend.protocol}`;
    let found = this.index.get(k);
    if (found === undefined) {
      found = this.list.length;
      this.index.set(k, found);
      this.list.push({ ...backend });
    }
    this.byObject.set(backend, found);
    return found;
  }

  /** Make ids unique (see above). Call once, after every intern. */
  finalize(): void {
    const byId = new Map<string, BackendIR[]>();
    for (const b of this.list) {
      const group = byId.get(b.id);
      if (group) group.push(b);
      else byId.set(b.id, [b]);
    }
    for (const group of byId.values()) {
      if (group.length < 2) continue;
      const sorted = [...group].sort((a, b) => (a.protocol === 'http1' ? -1 : b.protocol === 'http1' ? 1 : a.protocol < b.protocol ? -1 : 1));
      for (const b of sorted.slice(1)) b.id = `${b.id} (${b.protocol})`;
    }
  }
}
