/**
 * Prometheus metrics (DESIGN.md §7, names are a contract) on a private prom-client Registry, and the
 * Telemetry implementation the data plane calls on every request.
 *
 * Hot path: `onRequest` does no prom-client call and no label hashing. `prepare(table)` binds one
 * accumulator per listener, per route rule and per backend; `onRequest` finds them with one Map lookup
 * each, maps (method, status) or status to a counter slot with one small-integer Map lookup, and adds 1
 * to that slot of a Float64Array. The duration histogram is a Float64Array of bucket counts per listener
 * filled after a branch-free binary search over the bucket bounds. Nothing reaches prom-client until a
 * scrape: the metrics' `collect()` callbacks publish the accumulated totals into prom-client's own series
 * (one entry per series, created in first-seen order, so the exposition is the same text prom-client
 * produces when fed call by call, for `metrics()` and `getMetricsAsJSON()` — `--workers` aggregation —
 * alike). Those four metrics (listener requests and duration, route and backend requests) are written
 * only through this class.
 *
 * Labels never carry a path, a host or a client address; `method` is one of the standard methods or
 * `OTHER`. Accumulators are never dropped: a listener, rule or backend that leaves the configuration keeps
 * its totals until the process restarts (counters stay monotonic across reloads).
 */
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RoutingTable } from '@gatehouse/core';
import type { L4Record, RequestRecord, Telemetry } from './api.js';
import type { AccessLog } from './access-log.js';

export const STANDARD_METHODS: readonly string[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];
const METHOD_SET = new Set(STANDARD_METHODS);

/** Request-duration buckets in seconds: 0.5 ms to 60 s. */
export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function normaliseMethod(m: string): string {
  return METHOD_SET.has(m) ? m : METHOD_SET.has(m.toUpperCase()) ? m.toUpperCase() : 'OTHER';
}

/** Index of a normalised method (STANDARD_METHODS order, OTHER last). */
const METHOD_INDEX = new Map<string, number>(STANDARD_METHODS.map((m, i) => [m, i]));
const METHOD_NAMES: readonly string[] = [...STANDARD_METHODS, 'OTHER'];
/** Listener counter slot key: status * METHOD_KEYS + method index. */
const METHOD_KEYS = 16;

function methodIndexSlow(m: string): number {
  return METHOD_INDEX.get(normaliseMethod(m)) ?? STANDARD_METHODS.length;
}

/** DURATION_BUCKETS padded with +Infinity to a power of two above its length (for the bucket search). */
const BOUND_SEARCH = (() => {
  let size = 1;
  while (size <= DURATION_BUCKETS.length) size *= 2;
  const a = new Float64Array(size).fill(Infinity);
  a.set(DURATION_BUCKETS);
  return a;
})();
const BOUND_HALF = BOUND_SEARCH.length >> 1;

/**
 * Index of the first bucket whose upper bound is ≥ `v` (prom-client's `value <= bound`), or
 * DURATION_BUCKETS.length when `v` is above the last bound (counted in +Inf only). A fixed number of
 * steps, no data-dependent loop exit. `v` must not be NaN.
 */
export function durationBucket(v: number): number {
  const b = BOUND_SEARCH;
  let i = 0;
  for (let step = BOUND_HALF; step > 0; step >>= 1) if (b[i + step - 1] < v) i += step;
  return i;
}

type CounterChild = ReturnType<Counter<string>['labels']>;
type GaugeChild = ReturnType<Gauge<string>['labels']>;
type Labels = Record<string, string>;

/** prom-client's stored series (lib/counter.js, lib/histogram.js): what `get()` exports. */
interface PromCounterEntry {
  value: number;
  labels: Labels;
}
interface PromHistogramEntry {
  labels: Labels;
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

/** prom-client's series key (util.js hashObject with the sorted label names). */
function promHash(labels: Labels, sortedNames: readonly string[]): string {
  let h = '';
  for (const k of sortedNames) if (labels[k] !== undefined) h += `${k}:${labels[k]},`;
  return h;
}

/** prom-client 15's series store of a metric (checked: the exposition tests compare the exact text). */
function promSeries<E>(metric: object): Record<string, E> {
  const series = (metric as { hashMap?: Record<string, E> }).hashMap;
  if (typeof series !== 'object' || series === null) throw new Error('prom-client: unexpected metric internals (hashMap)');
  return series;
}

/**
 * The series of one counter: a value per slot in a Float64Array (the hot path adds to it), published to
 * the prom-client Counter on collect. Slots are never removed; their order is first-seen order.
 */
class CounterSlots {
  values = new Float64Array(16);
  size = 0;
  private readonly labels: Labels[] = [];
  private readonly entries: PromCounterEntry[] = [];
  metric!: Counter<string>;

  /** A new slot (value 0) for a label set whose keys are in the metric's labelNames order. */
  add(labels: Labels): number {
    if (this.size === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.labels.push(labels);
    return this.size++;
  }

  publish(): void {
    const series = promSeries<PromCounterEntry>(this.metric);
    const sorted = (this.metric as unknown as { sortedLabelNames: string[] }).sortedLabelNames;
    for (let i = this.entries.length; i < this.size; i++) {
      const e: PromCounterEntry = { value: 0, labels: this.labels[i] };
      series[promHash(e.labels, sorted)] = e;
      this.entries.push(e);
    }
    const v = this.values;
    for (let i = 0; i < this.size; i++) this.entries[i].value = v[i];
  }
}

class ListenerBound {
  /** Non-cumulative bucket counts; the last slot is above the last bound (+Inf only). */
  readonly buckets = new Float64Array(DURATION_BUCKETS.length + 1);
  sum = 0;
  count = 0;
  /** status * METHOD_KEYS + method index → slot in the listener-requests counter */
  readonly slots = new Map<number, number>();
  entry: PromHistogramEntry | null = null;
  /** In `observed` (its duration series is published): prepared as an HTTP(S) listener, or first request seen. */
  listed = false;
  constructor(
    readonly gateway: string,
    readonly listener: string,
  ) {}
}

interface RuleBound {
  route: string;
  rule: string;
  /** status → slot in the route-requests counter */
  slots: Map<number, number>;
}

interface BackendBound {
  backend: string;
  /** status → slot in the backend-requests counter */
  slots: Map<number, number>;
  errors: Map<string, CounterChild>;
}

export type ProcessErrorKind = 'uncaughtException' | 'unhandledRejection';

export interface MetricsOptions {
  version: string;
  /** Collect Node.js process metrics (prefixed `gatehouse_`). Default true. */
  processMetrics?: boolean;
  /** Labels on every series (e.g. `{ worker: '1' }`); none by default. */
  defaultLabels?: Record<string, string>;
}

export class Metrics {
  readonly registry: Registry;
  readonly listenerRequests: Counter<'gateway' | 'listener' | 'method' | 'code'>;
  readonly listenerDuration: Histogram<'gateway' | 'listener'>;
  readonly listenerConnections: Gauge<'listener'>;
  readonly routeRequests: Counter<'route' | 'rule' | 'code'>;
  readonly backendRequests: Counter<'backend' | 'code'>;
  readonly backendErrors: Counter<'backend' | 'reason'>;
  readonly tcpConnections: Counter<'listener' | 'result'>;
  readonly udpDatagrams: Counter<'listener' | 'direction' | 'result'>;
  readonly configReloads: Counter<'result'>;
  readonly configLastReloadSuccessful: Gauge;
  readonly configLastReloadTimestamp: Gauge;
  readonly buildInfo: Gauge<'version' | 'node'>;
  readonly accessLogDropped: Counter;
  readonly processErrors: Counter<'kind'>;

  private listeners = new Map<string, ListenerBound>();
  /** Listeners whose duration series is published (HTTP/HTTPS listeners of a prepared table, then any listener with a request), in that order. */
  private observed: ListenerBound[] = [];
  private readonly listenerSlots = new CounterSlots();
  private readonly routeSlots = new CounterSlots();
  private readonly backendSlots = new CounterSlots();
  private routes = new Map<string, RuleBound[]>();
  private backends = new Map<string, BackendBound>();
  private connections = new Map<string, GaugeChild>();
  private tcp = new Map<string, Map<string, CounterChild>>();
  private udp = new Map<string, CounterChild[]>();

  constructor(opts: MetricsOptions) {
    const registry = new Registry();
    if (opts.defaultLabels) registry.setDefaultLabels(opts.defaultLabels);
    this.registry = registry;
    const registers = [registry];
    this.listenerRequests = new Counter({
      name: 'gatehouse_listener_requests_total',
      help: 'HTTP requests answered, per Gateway listener, method and status code.',
      labelNames: ['gateway', 'listener', 'method', 'code'] as const,
      registers,
      collect: () => this.listenerSlots.publish(),
    });
    this.listenerSlots.metric = this.listenerRequests;
    this.listenerDuration = new Histogram({
      name: 'gatehouse_listener_request_duration_seconds',
      help: 'Time from the first request byte to the last response byte, per Gateway listener.',
      labelNames: ['gateway', 'listener'] as const,
      buckets: DURATION_BUCKETS,
      registers,
      collect: () => this.publishDurations(),
    });
    this.listenerConnections = new Gauge({
      name: 'gatehouse_listener_connections_open',
      help: 'Client connections currently open, per listener.',
      labelNames: ['listener'] as const,
      registers,
    });
    this.routeRequests = new Counter({
      name: 'gatehouse_route_requests_total',
      help: 'HTTP requests matched by a route rule, per status code.',
      labelNames: ['route', 'rule', 'code'] as const,
      registers,
      collect: () => this.routeSlots.publish(),
    });
    this.routeSlots.metric = this.routeRequests;
    this.backendRequests = new Counter({
      name: 'gatehouse_backend_requests_total',
      help: 'HTTP requests sent to a backend, per status code answered.',
      labelNames: ['backend', 'code'] as const,
      registers,
      collect: () => this.backendSlots.publish(),
    });
    this.backendSlots.metric = this.backendRequests;
    this.backendErrors = new Counter({
      name: 'gatehouse_backend_errors_total',
      help: 'Upstream failures per backend and reason (connect_refused, reset, timeout, dns, ...).',
      labelNames: ['backend', 'reason'] as const,
      registers,
    });
    this.tcpConnections = new Counter({
      name: 'gatehouse_tcp_connections_total',
      help: 'TCP and TLS (passthrough/terminated) connections handled by L4 listeners, per result.',
      labelNames: ['listener', 'result'] as const,
      registers,
    });
    this.udpDatagrams = new Counter({
      name: 'gatehouse_udp_datagrams_total',
      help: 'UDP datagrams per listener, direction (in = client to backend) and result.',
      labelNames: ['listener', 'direction', 'result'] as const,
      registers,
    });
    this.configReloads = new Counter({
      name: 'gatehouse_config_reloads_total',
      help: 'Configuration reloads attempted, per result (success, failure).',
      labelNames: ['result'] as const,
      registers,
    });
    this.configLastReloadSuccessful = new Gauge({
      name: 'gatehouse_config_last_reload_successful',
      help: '1 when the last configuration reload succeeded, 0 when it was rejected.',
      aggregator: 'max',
      registers,
    });
    this.configLastReloadTimestamp = new Gauge({
      name: 'gatehouse_config_last_reload_timestamp_seconds',
      help: 'Unix time of the last successful configuration reload.',
      aggregator: 'max',
      registers,
    });
    this.buildInfo = new Gauge({
      name: 'gatehouse_build_info',
      help: 'Build information (always 1).',
      labelNames: ['version', 'node'] as const,
      aggregator: 'max',
      registers,
    });
    this.accessLogDropped = new Counter({
      name: 'gatehouse_access_log_dropped_total',
      help: 'Access-log lines dropped because the destination could not keep up.',
      registers,
    });
    this.processErrors = new Counter({
      name: 'gatehouse_process_errors_total',
      help: 'Errors nobody handled (logged with their stack; the process kept serving), per kind (uncaughtException, unhandledRejection).',
      labelNames: ['kind'] as const,
      registers,
    });
    this.processErrors.labels('uncaughtException').inc(0);
    this.processErrors.labels('unhandledRejection').inc(0);
    this.buildInfo.labels(opts.version, process.version).set(1);
    this.configReloads.labels('success').inc(0);
    this.configReloads.labels('failure').inc(0);
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'gatehouse_' });
  }

  /**
   * Pre-binds the accumulators of every listener, route rule and backend of the table. Series that
   * exist from here on, before any traffic: `gatehouse_listener_connections_open` (0) for every listener,
   * `gatehouse_listener_request_duration_seconds` (count 0) for every HTTP/HTTPS listener,
   * `gatehouse_tcp_connections_total{result="ok"}` for TCP/TLS and the four `gatehouse_udp_datagrams_total`
   * for UDP listeners. Counters keyed by a status code or method appear with the first request of that
   * code (no code is invented).
   */
  prepare(table: RoutingTable): void {
    for (const port of table.ports) {
      for (const l of port.listeners) {
        const lb = this.listenerBound(l.id, l.gateway);
        if (!lb.listed && (l.protocol === 'HTTP' || l.protocol === 'HTTPS')) {
          lb.listed = true;
          this.observed.push(lb);
        }
        this.connectionGauge(l.id);
        if (port.protocol === 'TCP' || port.protocol === 'TLS') this.tcpChildren(l.id);
        if (port.protocol === 'UDP') this.udpChildren(l.id);
      }
      for (const g of port.httpGroups) for (const r of g.rules) this.ruleBound(r.route, r.ruleIndex);
    }
    for (const b of table.backends) this.backendBound(b.id);
  }

  private listenerBound(id: string, gateway: string): ListenerBound {
    let lb = this.listeners.get(id);
    if (lb === undefined) {
      lb = new ListenerBound(gateway, id);
      this.listeners.set(id, lb);
    }
    return lb;
  }

  private ruleBound(route: string, rule: number): RuleBound {
    let arr = this.routes.get(route);
    if (arr === undefined) {
      arr = [];
      this.routes.set(route, arr);
    }
    let rb = arr[rule];
    if (rb === undefined) {
      rb = { route, rule: String(rule), slots: new Map() };
      arr[rule] = rb;
    }
    return rb;
  }

  private backendBound(id: string): BackendBound {
    let bb = this.backends.get(id);
    if (bb === undefined) {
      bb = { backend: id, slots: new Map(), errors: new Map() };
      this.backends.set(id, bb);
    }
    return bb;
  }

  private connectionGauge(listener: string): GaugeChild {
    let g = this.connections.get(listener);
    if (g === undefined) {
      g = this.listenerConnections.labels(listener);
      g.inc(0); // the series exists (0) from now on
      this.connections.set(listener, g);
    }
    return g;
  }

  private tcpChildren(listener: string): Map<string, CounterChild> {
    let m = this.tcp.get(listener);
    if (m === undefined) {
      const ok = this.tcpConnections.labels(listener, 'ok');
      ok.inc(0);
      m = new Map([['ok', ok]]);
      this.tcp.set(listener, m);
    }
    return m;
  }

  /** [in/forwarded, in/dropped, out/forwarded, out/dropped] */
  private udpChildren(listener: string): CounterChild[] {
    let a = this.udp.get(listener);
    if (a === undefined) {
      a = [
        this.udpDatagrams.labels(listener, 'in', 'forwarded'),
        this.udpDatagrams.labels(listener, 'in', 'dropped'),
        this.udpDatagrams.labels(listener, 'out', 'forwarded'),
        this.udpDatagrams.labels(listener, 'out', 'dropped'),
      ];
      for (const c of a) c.inc(0);
      this.udp.set(listener, a);
    }
    return a;
  }

  onRequest(rec: RequestRecord): void {
    const status = rec.status;
    const lb = this.listeners.get(rec.listener) ?? this.listenerBound(rec.listener, rec.gateway);
    const mi = METHOD_INDEX.get(rec.method) ?? methodIndexSlow(rec.method);
    const ls = lb.slots.get(status * METHOD_KEYS + mi) ?? this.listenerSlot(lb, mi, status);
    this.listenerSlots.values[ls]++;

    const v = rec.durationMs / 1000;
    if (v === v && v !== Infinity && v !== -Infinity) {
      if (!lb.listed) {
        lb.listed = true;
        this.observed.push(lb);
      }
      lb.buckets[durationBucket(v)]++;
      lb.sum += v;
      lb.count++;
    }

    if (rec.route !== null && rec.rule >= 0) {
      const rb = this.routes.get(rec.route)?.[rec.rule] ?? this.ruleBound(rec.route, rec.rule);
      const rs = rb.slots.get(status) ?? this.ruleSlot(rb, status);
      this.routeSlots.values[rs]++;
    }
    if (rec.backend !== null) {
      const bb = this.backends.get(rec.backend) ?? this.backendBound(rec.backend);
      const bs = bb.slots.get(status) ?? this.backendSlot(bb, status);
      this.backendSlots.values[bs]++;
    }
  }

  private listenerSlot(lb: ListenerBound, mi: number, status: number): number {
    const slot = this.listenerSlots.add({ gateway: lb.gateway, listener: lb.listener, method: METHOD_NAMES[mi], code: String(status) });
    lb.slots.set(status * METHOD_KEYS + mi, slot);
    return slot;
  }

  private ruleSlot(rb: RuleBound, status: number): number {
    const slot = this.routeSlots.add({ route: rb.route, rule: rb.rule, code: String(status) });
    rb.slots.set(status, slot);
    return slot;
  }

  private backendSlot(bb: BackendBound, status: number): number {
    const slot = this.backendSlots.add({ backend: bb.backend, code: String(status) });
    bb.slots.set(status, slot);
    return slot;
  }

  /** collect() of the duration histogram: the per-listener buckets → prom-client's series. */
  private publishDurations(): void {
    const series = promSeries<PromHistogramEntry>(this.listenerDuration);
    const n = DURATION_BUCKETS.length;
    for (const lb of this.observed) {
      let e = lb.entry;
      if (e === null) {
        const labels = { gateway: lb.gateway, listener: lb.listener };
        e = { labels, bucketValues: { ...(this.listenerDuration as unknown as { bucketValues: Record<number, number> }).bucketValues }, sum: 0, count: 0 };
        series[promHash(labels, ['gateway', 'listener'])] = e;
        lb.entry = e;
      }
      for (let i = 0; i < n; i++) e.bucketValues[DURATION_BUCKETS[i]] = lb.buckets[i];
      e.sum = lb.sum;
      e.count = lb.count;
    }
  }

  onL4(rec: L4Record): void {
    if (rec.protocol === 'UDP') return; // UDP is counted per datagram (onUdpDatagram)
    const m = this.tcp.get(rec.listener) ?? this.tcpChildren(rec.listener);
    let c = m.get(rec.result);
    if (c === undefined) {
      c = this.tcpConnections.labels(rec.listener, rec.result);
      m.set(rec.result, c);
    }
    c.inc();
  }

  onConnection(listenerId: string, delta: 1 | -1): void {
    (this.connections.get(listenerId) ?? this.connectionGauge(listenerId)).inc(delta);
  }

  onBackendError(backendId: string, reason: string): void {
    const bb = this.backends.get(backendId) ?? this.backendBound(backendId);
    let c = bb.errors.get(reason);
    if (c === undefined) {
      c = this.backendErrors.labels(bb.backend, reason);
      bb.errors.set(reason, c);
    }
    c.inc();
  }

  onUdpDatagram(listenerId: string, direction: 'in' | 'out', result: 'forwarded' | 'dropped'): void {
    const a = this.udp.get(listenerId) ?? this.udpChildren(listenerId);
    a[(direction === 'in' ? 0 : 2) + (result === 'forwarded' ? 0 : 1)].inc();
  }

  /** Counts an uncaught exception or unhandled rejection (cli `run`'s last-resort handlers). */
  onProcessError(kind: ProcessErrorKind): void {
    this.processErrors.labels(kind).inc();
  }

  /** Records one reload attempt (`unchanged` saves are not counted). */
  onReload(ok: boolean, at: number = Date.now()): void {
    this.configReloads.labels(ok ? 'success' : 'failure').inc();
    this.configLastReloadSuccessful.set(ok ? 1 : 0);
    if (ok) this.configLastReloadTimestamp.set(Math.floor(at / 1000));
  }

  /** Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The registry as JSON (what a cluster worker sends to the primary). */
  json(): Promise<MetricsJson> {
    return this.registry.getMetricsAsJSON();
  }
}

/** One registry's metrics as JSON (prom-client `getMetricsAsJSON`). */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/**
 * Prometheus text of several processes' registries merged (node:cluster workers + the primary):
 * counters and histograms are summed, gauges follow their `aggregator` (sum by default; `max` for
 * the config and build-info gauges, which only the primary sets).
 */
export async function aggregateMetrics(parts: MetricsJson[]): Promise<{ contentType: string; body: string }> {
  const reg = AggregatorRegistry.aggregate(parts);
  return { contentType: reg.contentType, body: await reg.metrics() };
}

/**
 * The data plane's Telemetry: metrics plus the access log, called directly (no fan-out loop).
 */
export class GatewayTelemetry implements Telemetry {
  constructor(
    readonly metrics: Metrics,
    readonly accessLog: AccessLog | null,
  ) {}

  prepare(table: RoutingTable): void {
    this.metrics.prepare(table);
  }
  onRequest(rec: RequestRecord): void {
    this.metrics.onRequest(rec);
    this.accessLog?.request(rec);
  }
  onL4(rec: L4Record): void {
    this.metrics.onL4(rec);
    this.accessLog?.l4(rec);
  }
  onConnection(listenerId: string, delta: 1 | -1): void {
    this.metrics.onConnection(listenerId, delta);
  }
  onBackendError(backendId: string, reason: string): void {
    this.metrics.onBackendError(backendId, reason);
  }
  onUdpDatagram(listenerId: string, direction: 'in' | 'out', result: 'forwarded' | 'dropped'): void {
    this.metrics.onUdpDatagram(listenerId, direction, result);
  }
}

/** A Telemetry that records nothing (tests, benchmarks of the bare data plane). */
export const nullTelemetry: Telemetry = {
  prepare() {},
  onRequest() {},
  onL4() {},
  onConnection() {},
  onBackendError() {},
  onUdpDatagram() {},
};
