import type {
  BackendIR,
  BackendRefIR,
  HttpGroupIR,
  HttpRuleIR,
  ListenerIR,
  PortIR,
  PortMatcher,
  RoutingTable,
} from '@gatehouse/core';
import type { PortServerContext } from '../api.js';
import { FilterPlan } from '../filters/plan.js';
import { buildPortMatcher, newBalancer, type Balancer } from './core-shim.js';
import { HttpEngine, type PendingCounter } from './engine.js';

/** One backendRef of a rule, with the rule's filters followed by its own, prepared. */
export class PreparedRef {
  readonly backend: BackendIR | null;
  readonly plan: FilterPlan;
  /** Its own filters answer by themselves (redirect/CORS/unsupported at backendRef level). */
  readonly terminal: boolean;
  /** Requests in flight to this ref's backend (circuit breaking), null without a backend. */
  readonly pending: PendingCounter | null;
  constructor(
    readonly ref: BackendRefIR,
    table: RoutingTable,
    rulePlan: FilterPlan,
    group: HttpGroupIR,
    engine: HttpEngine,
  ) {
    this.backend = ref.backend >= 0 ? (table.backends[ref.backend] ?? null) : null;
    this.pending = this.backend === null ? null : engine.pendingCounter(this.backend.id);
    this.plan = ref.filters.length === 0 ? rulePlan : FilterPlan.build(ref.filters, group, rulePlan);
    this.terminal = ref.filters.some((f) => f.type === 'RequestRedirect' || f.type === 'Unsupported' || f.type === 'CORS');
  }
}

export interface RetryPolicy {
  codes: readonly number[];
  attempts: number;
  backoffMs: number;
}

/** A rule ready to execute: filter plan, refs, balancer, timeouts, retry. */
export class PreparedRule {
  readonly plan: FilterPlan;
  readonly refs: PreparedRef[];
  /** The only ref when there is exactly one with weight > 0 and no others (no balancer needed). */
  readonly single: PreparedRef | null;
  readonly balancer: Balancer | null;
  readonly requestMs: number;
  readonly backendMs: number;
  readonly retry: RetryPolicy | null;
  constructor(
    readonly rule: HttpRuleIR,
    readonly group: HttpGroupIR,
    table: RoutingTable,
    engine: HttpEngine,
  ) {
    this.plan = FilterPlan.build(rule.filters, group);
    this.refs = rule.backendRefs.map((r) => new PreparedRef(r, table, this.plan, group, engine));
    this.single = this.refs.length === 1 && this.refs[0].ref.weight > 0 ? this.refs[0] : null;
    this.balancer = this.refs.length > 1 ? newBalancer(this.refs.map((r) => r.ref.weight)) : null;
    this.requestMs = rule.timeouts.requestMs ?? 0;
    this.backendMs = rule.timeouts.backendRequestMs ?? 0;
    this.retry = rule.retry !== null && rule.retry.attempts > 0 ? rule.retry : null;
  }

  /** The backendRef for this request (smooth weighted round-robin), or null (→ 500). */
  pick(): PreparedRef | null {
    if (this.single !== null) return this.single;
    if (this.balancer === null) return null;
    const i = this.balancer.next();
    return i < 0 ? null : this.refs[i];
  }
}

/** One HTTP-carrying port of one table: matcher and prepared rules. Immutable once built. */
export class PreparedPort {
  readonly matcher: PortMatcher;
  readonly rules = new Map<HttpRuleIR, PreparedRule>();
  /** For records of requests that matched no route: the first listener of the group / port. */
  readonly groupListener: (ListenerIR | undefined)[];
  readonly defaultListener: ListenerIR | undefined;
  constructor(
    readonly port: PortIR,
    readonly table: RoutingTable,
    readonly engine: HttpEngine,
  ) {
    this.matcher = buildPortMatcher(port);
    for (const g of port.httpGroups) for (const r of g.rules) this.rules.set(r, new PreparedRule(r, g, table, engine));
    this.groupListener = port.httpGroups.map((g) => port.listeners[g.listeners[0]]);
    this.defaultListener = port.listeners[0];
  }
}

/** All prepared ports of one table. */
export class PreparedTable {
  readonly ports = new Map<string, PreparedPort>();
  constructor(
    readonly table: RoutingTable,
    readonly engine: HttpEngine,
  ) {}

  port(port: PortIR): PreparedPort {
    let p = this.ports.get(port.key);
    if (p === undefined || p.port !== port) {
      p = new PreparedPort(port, this.table, this.engine);
      this.ports.set(port.key, p);
    }
    return p;
  }

  /** Build every HTTP-carrying port now (the Runtime does this before swapping). */
  prepareAll(): void {
    for (const port of this.table.ports) if (port.httpGroups.length > 0) this.port(port);
  }
}

const tables = new WeakMap<RoutingTable, PreparedTable>();
const engines = new WeakMap<object, HttpEngine>();

/** Register the prepared form of a table (Runtime.apply). */
export function registerPrepared(prepared: PreparedTable): void {
  tables.set(prepared.table, prepared);
}

/**
 * The prepared port for a PortServer's `update(port, ctx)`: the one the Runtime built before the swap,
 * or (when a server is driven without a Runtime, e.g. in tests) one built now with an engine per resolver.
 */
export function preparedPort(port: PortIR, ctx: PortServerContext): PreparedPort {
  let t = tables.get(ctx.table);
  if (t === undefined) {
    let engine = engines.get(ctx.resolver);
    if (engine === undefined) {
      engine = new HttpEngine(ctx.logger, ctx.telemetry, ctx.resolver);
      engines.set(ctx.resolver, engine);
    }
    t = new PreparedTable(ctx.table, engine);
    tables.set(ctx.table, t);
  }
  return t.port(port);
}
