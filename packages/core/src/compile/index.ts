/**
 * compile(): the validated ResourceSet → the immutable RoutingTable + the StatusReport.
 * Pure and deterministic; never throws on user input (every problem becomes a status condition or a
 * diagnostic). The stages, each in its own file:
 *
 *   gateways.ts     GatewayClasses, Gateways, listener validation, certificates, conflicts, sockets
 *   attachment.ts   parentRefs → listeners (sectionName, port, allowedRoutes, hostname intersection)
 *   http-routes.ts  HTTPRoute / GRPCRoute rules → rules + match templates (filters.ts for filters)
 *   l4-routes.ts    TLSRoute / TCPRoute / UDPRoute → weighted backendRefs
 *   backends.ts     backendRef resolution (EndpointSlice → ExternalName → DNS; Envoy Backend)
 *   routing.ts      sockets + attachments → PortIR (HTTP groups, SNI routes, L4 route)
 *   status-report.ts conditions for every object
 *   findings.ts     the same problems as warning diagnostics (for `gatehouse validate`)
 */
import { compareDiagnostics, type Diagnostic } from '../diagnostics.js';
import type { BackendIR, BackendRefIR, FilterIR, RoutingTable } from '../ir/types.js';
import type { ResourceSet, Route } from '../resources/types.js';
import { attachRoute } from './attachment.js';
import { BackendRegistry } from './backends.js';
import { CompileContext } from './context.js';
import { buildSockets, CertificateRegistry, compileGatewayClasses, compileGateways, listenerProgrammed } from './gateways.js';
import { reportFindings } from './findings.js';
import { fnv1a64 } from './hash.js';
import { compileHttpRoute } from './http-routes.js';
import { compileL4Route } from './l4-routes.js';
import { byAge } from './rank.js';
import { buildPorts, type RouteWork } from './routing.js';
import type { StatusReport } from './status.js';
import { buildStatusReport } from './status-report.js';

export interface CompileOptions {
  /** Only serve Gateways of these GatewayClass names (default: every class in the directory). */
  gatewayClasses?: string[];
  /** `strict` disables the DNS fallback of DESIGN.md §5. */
  backendResolution?: 'default' | 'strict';
  /** controllerName written into route status. Default `gatehouse.dev/gateway-controller`. */
  controllerName?: string;
  /**
   * Give every Gateway its own sockets instead of merging Gateways that share a port (socket keys gain
   * `#namespace/name`). That is how Gateways behave on Kubernetes, where each gets its own address; on
   * one machine the sockets then need distinct addresses or ports (the conformance runner maps each key to
   * its own free port). Default false: Gateways on one port share one socket, as the tutorials expect.
   */
  isolateGateways?: boolean;
  /**
   * The address Gateways without `spec.addresses` are bound to (`--bind`), reported in their
   * `status.addresses`. Omitted: those Gateways report no address.
   */
  defaultAddress?: string;
}

export interface CompileResult {
  table: RoutingTable;
  status: StatusReport;
  /** Compile-time findings (warnings mostly; compile never throws on user input). */
  diagnostics: Diagnostic[];
}

export const DEFAULT_CONTROLLER_NAME = 'gatehouse.dev/gateway-controller';

/** Pure and deterministic: the same resources give the same table, byte for byte when serialised. */
export function compile(resources: ResourceSet, options: CompileOptions = {}): CompileResult {
  const ctx = new CompileContext(resources, options, DEFAULT_CONTROLLER_NAME);

  const classes = compileGatewayClasses(ctx);
  const gateways = compileGateways(ctx, classes);
  const gatewaysByKey = new Map<string, (typeof gateways)[number]>();
  for (const gw of gateways) if (!gatewaysByKey.has(gw.key)) gatewaysByKey.set(gw.key, gw);
  const sockets = buildSockets(gateways, options.isolateGateways === true);

  const registry = new BackendRegistry();
  const allRoutes: Route[] = [
    ...resources.httpRoutes,
    ...resources.grpcRoutes,
    ...resources.tlsRoutes,
    ...resources.tcpRoutes,
    ...resources.udpRoutes,
  ];
  const works: RouteWork[] = byAge(allRoutes).map((route, rank) => {
    const parents = attachRoute(ctx, gatewaysByKey, route);
    const serves = parents.some((p) => p.attachments.some((a) => listenerProgrammed(a.listener)));
    // Routes that carry no traffic still resolve their backends (for status), into a scratch registry.
    const target = serves ? registry : new BackendRegistry();
    const work: RouteWork = { route, rank, parents, serves, http: null, l4: null, shadowed: [] };
    if (route.kind === 'HTTPRoute' || route.kind === 'GRPCRoute') work.http = compileHttpRoute(ctx, route, target);
    else work.l4 = compileL4Route(ctx, route, target);
    return work;
  });

  // Backends are final once every route is compiled: sort them, then build the ports (which share the
  // compiled rules, now pointing at the sorted indices).
  registry.finalize();
  const backends = sortBackends(registry.list, works);
  const certificates = new CertificateRegistry();
  const ports = buildPorts(ctx, sockets, works, certificates);
  const table = tableWithLazyHash(ports, backends, certificates.list);
  reportFindings(ctx, gateways, works);
  const result = { table, status: null as unknown as StatusReport, diagnostics: [...ctx.diagnostics].sort(compareDiagnostics) };
  // The status report is built on first read: `gatehouse validate` (diagnostics only) never reads it.
  // It reads only compile state that is final by now (nothing above changes after this point).
  let pending: (() => StatusReport) | null = () =>
    buildStatusReport(classes, gateways, works, ctx.controllerName, options.defaultAddress ?? null);
  let status: StatusReport | null = null;
  Object.defineProperty(result, 'status', {
    enumerable: true,
    configurable: true,
    get(): StatusReport {
      if (pending !== null) {
        status = pending();
        pending = null; // drop the compile state the closure held
      }
      return status!;
    },
  });
  return result;
}

/**
 * The table, its `hash` computed on first read (a memoised getter, enumerable, in the same key position,
 * so JSON.stringify, spreads, structured clones and the stable serialiser see the same value and bytes
 * as before). The hash costs a JSON of the whole table plus FNV-1a over it (~150 ms for 10,000 routes),
 * which `validate` and `explain` never read. It covers the whole content, certificate keys included (so a
 * new key is a new table): the FNV-1a of JSON.stringify of the table with `hash: ''`, which is
 * deterministic because compile builds every object with the same key order for the same input. The
 * table is immutable, so computing it later gives the value computing it here would have.
 */
function tableWithLazyHash(ports: RoutingTable['ports'], backends: RoutingTable['backends'], certificates: RoutingTable['certificates']): RoutingTable {
  const table: RoutingTable = { hash: '', ports, backends, certificates };
  let hash: string | null = null;
  Object.defineProperty(table, 'hash', {
    enumerable: true,
    configurable: true,
    get(): string {
      if (hash === null) hash = fnv1a64(JSON.stringify({ hash: '', ports, backends, certificates }));
      return hash;
    },
  });
  return table;
}

/**
 * Backends come out sorted by id, whatever order routes were compiled in, and every index held by a
 * compiled rule (backendRefs, mirrors, backendRef filters) or L4 route is rewritten to match.
 */
function sortBackends(list: readonly BackendIR[], works: readonly RouteWork[]): BackendIR[] {
  const order = list.map((b, i) => ({ b, i })).sort((x, y) => (x.b.id < y.b.id ? -1 : x.b.id > y.b.id ? 1 : 0));
  const remap = new Int32Array(order.length); // old index → new index
  order.forEach((x, newIndex) => (remap[x.i] = newIndex));
  const fixFilter = (f: FilterIR): void => {
    if (f.type === 'RequestMirror') f.backend = remap[f.backend]!;
  };
  const fixRef = (r: BackendRefIR): void => {
    if (r.backend >= 0) r.backend = remap[r.backend]!;
    r.filters.forEach(fixFilter);
  };
  for (const work of works) {
    if (!work.serves) continue; // routes that serve nothing resolved into a scratch registry
    for (const rule of work.http?.rules ?? []) {
      rule.ir.filters.forEach(fixFilter);
      rule.ir.backendRefs.forEach(fixRef);
    }
    work.l4?.backendRefs.forEach(fixRef);
  }
  return order.map((x) => x.b);
}
