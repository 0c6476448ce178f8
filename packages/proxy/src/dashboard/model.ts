/**
 * The dashboard's read-only view of the serving configuration (`GET /api/model`): Gateways →
 * listeners → routes → rules → backends, joined from the compiled RoutingTable (ports, matches,
 * filters, weights, endpoints) and the StatusReport (conditions, attached routes, how each backend
 * resolved), plus the outcome and diagnostics of the last reload.
 */
import { backendShares, describeFilter, type BackendRefIR, type Condition, type FilterIR, type HttpMatchEntry, type RoutingTable, type StatusReport } from '@gatehouse/core';

export interface ModelCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

export interface ModelListener {
  id: string;
  name: string;
  port: number | null;
  protocol: string | null;
  hostname: string | null;
  /** `address:port/transport` of its socket, null when it serves nothing. */
  socket: string | null;
  attachedRoutes: number;
  routes: string[];
  conditions: ModelCondition[];
}

export interface ModelGateway {
  name: string;
  addresses: string[];
  conditions: ModelCondition[];
  listeners: ModelListener[];
}

export interface ModelMatch {
  hostnames: string[];
  path: string;
  method: string | null;
  headers: string[];
  queryParams: string[];
}

export interface ModelBackendRef {
  name: string;
  weight: number;
  /** Percent of the rule's traffic. */
  share: number;
  /** Why the ref answers 500, else null. */
  invalid: string | null;
}

export interface ModelRule {
  index: number;
  name: string | null;
  matches: ModelMatch[];
  filters: string[];
  backends: ModelBackendRef[];
}

export interface ModelRouteBackend {
  name: string;
  resolution: string;
  reason: string | null;
  endpoints: string[];
  protocol: string | null;
}

export interface ModelRoute {
  kind: string;
  name: string;
  parents: { parent: string; conditions: ModelCondition[] }[];
  rules: ModelRule[];
  backends: ModelRouteBackend[];
}

export interface DashboardModel {
  ready: boolean;
  draining: boolean;
  serving: { hash: string | null; tableHash: string | null; since: string | null } | null;
  gatewayClasses: { name: string; controllerName: string; conditions: ModelCondition[] }[];
  gateways: ModelGateway[];
  routes: ModelRoute[];
  lastReload: unknown;
  /** First HTTP port of the table (to prefill the explain form). */
  explainHint: { url: string } | null;
}

function conds(cs: Condition[] | undefined): ModelCondition[] {
  return (cs ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message }));
}

export { describeFilter };

function matchKey(e: HttpMatchEntry): string {
  return `${e.path.type}|${e.path.value}|${e.method}|${JSON.stringify(e.headers)}|${JSON.stringify(e.queryParams)}`;
}

export interface ModelInput {
  table: RoutingTable | null;
  /** The /status JSON: StatusReport plus ready, draining, serving, lastReload. */
  status: Partial<StatusReport> & Record<string, unknown>;
}

export function buildModel({ table, status }: ModelInput): DashboardModel {
  // ---- from the table: listeners, their routes, rules with matches/filters/weights
  const listenerIr = new Map<string, { port: number; protocol: string; hostname: string | null; socket: string }>();
  const listenerRoutes = new Map<string, Set<string>>();
  const rules = new Map<string, Map<number, { rule: ModelRule; seen: Map<string, ModelMatch> }>>();
  const addRoute = (listener: string, route: string) => {
    let s = listenerRoutes.get(listener);
    if (s === undefined) listenerRoutes.set(listener, (s = new Set()));
    s.add(route);
  };
  const ruleOf = (route: string, index: number, name: string | null, filters: FilterIR[], refs: BackendRefIR[]) => {
    let m = rules.get(route);
    if (m === undefined) rules.set(route, (m = new Map()));
    let r = m.get(index);
    if (r === undefined) {
      r = { rule: { index, name, matches: [], filters: filters.map(describeFilter), backends: backendShares(refs) }, seen: new Map() };
      m.set(index, r);
    }
    return r;
  };
  const backendProtocol = new Map<string, string>();
  let explainHint: DashboardModel['explainHint'] = null;
  if (table) {
    for (const b of table.backends) backendProtocol.set(b.id, b.protocol);
    for (const port of table.ports) {
      for (const l of port.listeners) listenerIr.set(l.id, { port: l.port, protocol: l.protocol, hostname: l.hostname, socket: port.key });
      for (const g of port.httpGroups) {
        for (const e of g.entries) {
          const ir = g.rules[e.rule];
          if (ir === undefined) continue;
          const l = port.listeners[e.listener];
          if (l) addRoute(l.id, ir.route);
          const r = ruleOf(ir.route, ir.ruleIndex, ir.ruleName, ir.filters, ir.backendRefs);
          const k = matchKey(e);
          let mm = r.seen.get(k);
          if (mm === undefined) {
            mm = {
              hostnames: [],
              path: `${e.path.type} ${e.path.value}`,
              method: e.method,
              headers: e.headers.map((h) => `${h.name}${h.type === 'Exact' ? '=' : '~'}${h.value}`),
              queryParams: e.queryParams.map((q) => `${q.name}${q.type === 'Exact' ? '=' : '~'}${q.value}`),
            };
            r.seen.set(k, mm);
            r.rule.matches.push(mm);
          }
          if (!mm.hostnames.includes(e.hostname)) mm.hostnames.push(e.hostname);
          if (explainHint === null && port.protocol === 'HTTP') {
            const host = e.hostname === '*' ? 'example.com' : e.hostname.replace(/^\*\./, 'www.');
            explainHint = { url: `http://${host}:${port.port}${e.path.type === 'RegularExpression' ? '/' : e.path.value}` };
          }
        }
        for (const ir of g.rules) ruleOf(ir.route, ir.ruleIndex, ir.ruleName, ir.filters, ir.backendRefs);
      }
      for (const t of port.tlsRoutes) {
        const l = port.listeners[t.listener];
        if (l) addRoute(l.id, t.route);
        const r = ruleOf(t.route, 0, null, [], t.backendRefs);
        if (!r.rule.matches.some((m) => m.hostnames.includes(t.hostname)))
          r.rule.matches.push({ hostnames: [t.hostname], path: `SNI (${t.mode})`, method: null, headers: [], queryParams: [] });
      }
      if (port.l4Route) {
        const l = port.listeners[port.l4Route.listener];
        if (l) addRoute(l.id, port.l4Route.route);
        const r = ruleOf(port.l4Route.route, 0, null, [], port.l4Route.backendRefs);
        if (r.rule.matches.length === 0)
          r.rule.matches.push({ hostnames: [], path: `every ${port.protocol} ${port.transport === 'udp' ? 'datagram' : 'connection'} on port ${port.port}`, method: null, headers: [], queryParams: [] });
      }
    }
  }

  const gateways: ModelGateway[] = (status.gateways ?? []).map((g) => ({
    name: g.name,
    addresses: (g.addresses ?? []).map((a) => a.value),
    conditions: conds(g.conditions),
    listeners: (g.listeners ?? []).map((l) => {
      const id = `${g.name}/${l.name}`;
      const ir = listenerIr.get(id);
      return {
        id,
        name: l.name,
        port: ir?.port ?? null,
        protocol: ir?.protocol ?? null,
        hostname: ir?.hostname ?? null,
        socket: ir?.socket ?? null,
        attachedRoutes: l.attachedRoutes,
        routes: [...(listenerRoutes.get(id) ?? [])].sort(),
        conditions: conds(l.conditions),
      };
    }),
  }));

  const routes: ModelRoute[] = (status.routes ?? []).map((r) => ({
    kind: r.kind,
    name: r.name,
    parents: r.parents.map((p) => ({
      parent: `${p.parentRef.kind} ${p.parentRef.namespace}/${p.parentRef.name}${p.parentRef.sectionName ? `/${p.parentRef.sectionName}` : ''}${p.parentRef.port ? `:${p.parentRef.port}` : ''}`,
      conditions: conds(p.conditions),
    })),
    rules: [...(rules.get(r.name)?.values() ?? [])].map((x) => x.rule).sort((a, b) => a.index - b.index),
    backends: r.backends.map((b) => ({ ...b, protocol: backendProtocol.get(b.name) ?? null })),
  }));

  const serving = (status.serving ?? null) as DashboardModel['serving'];
  return {
    ready: status.ready === true,
    draining: status.draining === true,
    serving,
    gatewayClasses: (status.gatewayClasses ?? []).map((c) => ({ name: c.name, controllerName: c.controllerName, conditions: conds(c.conditions) })),
    gateways,
    routes,
    lastReload: status.lastReload ?? null,
    explainHint,
  };
}
