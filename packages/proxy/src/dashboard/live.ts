/**
 * Live numbers for the admin dashboard: requests per second, 5xx rate and p50/p99 latency per
 * listener, route and backend, with a 60-second history per series.
 *
 * Hot path (`record`, called once per finished request through LiveTelemetry): one Map lookup per
 * series (listener, route, backend) and a few integer increments into cumulative counters and a
 * log-linear latency histogram (8 sub-buckets per power of two of microseconds: ≤ 12.5 % error).
 * Nothing is allocated, nothing is reset there. Once a second `tick()` (the admin side) turns the
 * cumulative counters into per-second deltas kept in 60-slot rings; every snapshot reads the rings.
 */
import type { RoutingTable } from '@gatehouse/core';
import type { L4Record, RequestRecord, Telemetry } from '../api.js';

/** Seconds of history kept per series. */
export const HISTORY_SECONDS = 60;
/** Seconds averaged for the req/s figure. */
export const RATE_WINDOW_SECONDS = 5;

const BUCKETS = 200;

/** Histogram bucket of a duration in microseconds (0..BUCKETS-1). */
export function bucketOf(us: number): number {
  if (!(us < 1e9)) return BUCKETS - 1; // NaN, huge
  if (us < 8) return us < 0 ? 0 : us | 0;
  const v = us | 0;
  const e = 31 - Math.clz32(v);
  const i = (e - 2) * 8 + ((v >>> (e - 3)) & 7);
  return i < BUCKETS ? i : BUCKETS - 1;
}

/** Middle of a bucket, in microseconds. */
export function bucketMid(i: number): number {
  if (i < 8) return i + 0.5;
  const e = (i >> 3) + 2;
  const step = 1 << (e - 3);
  return (8 + (i & 7)) * step + step / 2;
}

export type SeriesKind = 'listener' | 'route' | 'backend';

class Series {
  /** Cumulative since start (hot path). */
  count = 0;
  errors = 0;
  backendErrors = 0;
  readonly hist = new Uint32Array(BUCKETS);
  /** Values at the last tick. */
  lastCount = 0;
  lastErrors = 0;
  lastBackendErrors = 0;
  readonly lastHist = new Uint32Array(BUCKETS);
  /** Per-second rings (index = tick number % HISTORY_SECONDS). */
  readonly countRing = new Float64Array(HISTORY_SECONDS);
  readonly errorRing = new Float64Array(HISTORY_SECONDS);
  readonly backendErrorRing = new Float64Array(HISTORY_SECONDS);
  /** Per second: [bucket, n, bucket, n, ...] of the second's requests, or null when none. */
  readonly histRing: (Uint32Array | null)[] = new Array(HISTORY_SECONDS).fill(null);
  /** Values at the last takeDelta() (a `--workers` worker's report to the primary); unused otherwise. */
  sentCount = 0;
  sentErrors = 0;
  sentBackendErrors = 0;
  sentHist: Uint32Array | null = null;
  constructor(readonly id: string) {}
}

/** What one series recorded since the previous report: counts and `[bucket, n, bucket, n, ...]`. */
export interface SeriesDelta {
  id: string;
  count: number;
  errors: number;
  backendErrors: number;
  hist: number[];
}

/**
 * A `--workers` worker's live numbers since its previous report (structured-clone friendly, for IPC).
 * The primary adds them into its own LiveStats, which it ticks and snapshots as if it had served the
 * requests itself.
 */
export interface LiveDelta {
  listeners: SeriesDelta[];
  routes: SeriesDelta[];
  backends: SeriesDelta[];
}

export interface SeriesSnapshot {
  id: string;
  /** Requests since the process started. */
  total: number;
  /** Mean requests per second over the last RATE_WINDOW_SECONDS complete seconds. */
  rps: number;
  /** Requests, 5xx answers and upstream failures over the last minute. */
  minute: { requests: number; errors5xx: number; backendErrors: number };
  /** 5xx answers / requests over the last minute (0..1), null without requests. */
  errorRate: number | null;
  /** Milliseconds, over the last minute; null without requests. */
  p50: number | null;
  p99: number | null;
  /** Requests per second for each of the last HISTORY_SECONDS seconds, oldest first. */
  spark: number[];
}

export interface LiveSnapshot {
  /** Unix ms of the last tick. */
  time: number;
  windowSeconds: number;
  listeners: SeriesSnapshot[];
  routes: SeriesSnapshot[];
  backends: SeriesSnapshot[];
}

export class LiveStats {
  private readonly listeners = new Map<string, Series>();
  private readonly routes = new Map<string, Series>();
  private readonly backends = new Map<string, Series>();
  /** Complete seconds recorded (the ring slot of the next tick is `ticks % HISTORY_SECONDS`). */
  private ticks = 0;
  private lastTick = Date.now();

  /** Pre-creates the series of a table (so a first request allocates nothing). */
  prepare(table: RoutingTable): void {
    for (const port of table.ports) {
      for (const l of port.listeners) series(this.listeners, l.id);
      for (const g of port.httpGroups) for (const r of g.rules) series(this.routes, r.route);
      for (const r of port.tlsRoutes) series(this.routes, r.route);
      if (port.l4Route) series(this.routes, port.l4Route.route);
    }
    for (const b of table.backends) series(this.backends, b.id);
  }

  /** Hot path: one finished HTTP request. */
  record(rec: RequestRecord): void {
    const err = rec.status >= 500 ? 1 : 0;
    const b = bucketOf(rec.durationMs * 1000);
    let s = this.listeners.get(rec.listener) ?? series(this.listeners, rec.listener);
    s.count++;
    s.errors += err;
    s.hist[b]++;
    if (rec.route !== null) {
      s = this.routes.get(rec.route) ?? series(this.routes, rec.route);
      s.count++;
      s.errors += err;
      s.hist[b]++;
    }
    if (rec.backend !== null) {
      s = this.backends.get(rec.backend) ?? series(this.backends, rec.backend);
      s.count++;
      s.errors += err;
      s.hist[b]++;
    }
  }

  /** One finished L4 connection (counted as one "request" of its listener, route and backend). */
  recordL4(rec: L4Record): void {
    const err = rec.result === 'ok' || rec.result === 'idle_timeout' ? 0 : 1;
    const b = bucketOf(rec.durationMs * 1000);
    const ids: [Map<string, Series>, string | null][] = [
      [this.listeners, rec.listener],
      [this.routes, rec.route],
      [this.backends, rec.backend],
    ];
    for (const [m, id] of ids) {
      if (id === null) continue;
      const s = m.get(id) ?? series(m, id);
      s.count++;
      s.errors += err;
      s.hist[b]++;
    }
  }

  recordBackendError(backendId: string): void {
    (this.backends.get(backendId) ?? series(this.backends, backendId)).backendErrors++;
  }

  /** Closes the current second: cumulative counters → per-second ring slots. Call once a second. */
  tick(now = Date.now()): void {
    const slot = this.ticks % HISTORY_SECONDS;
    for (const m of [this.listeners, this.routes, this.backends]) {
      for (const s of m.values()) {
        s.countRing[slot] = s.count - s.lastCount;
        s.errorRing[slot] = s.errors - s.lastErrors;
        s.backendErrorRing[slot] = s.backendErrors - s.lastBackendErrors;
        s.lastCount = s.count;
        s.lastErrors = s.errors;
        s.lastBackendErrors = s.backendErrors;
        if (s.countRing[slot] === 0) {
          s.histRing[slot] = null;
          continue;
        }
        let nz = 0;
        for (let i = 0; i < BUCKETS; i++) if (s.hist[i] !== s.lastHist[i]) nz++;
        const pairs = new Uint32Array(nz * 2);
        let j = 0;
        for (let i = 0; i < BUCKETS; i++) {
          const d = s.hist[i] - s.lastHist[i];
          if (d !== 0) {
            pairs[j++] = i;
            pairs[j++] = d;
            s.lastHist[i] = s.hist[i];
          }
        }
        s.histRing[slot] = pairs;
      }
    }
    this.ticks++;
    this.lastTick = now;
  }

  /**
   * What was recorded since the previous call (null when nothing was): a worker sends it to the primary.
   * Runs on a timer, never on the request path.
   */
  takeDelta(): LiveDelta | null {
    const out: LiveDelta = { listeners: [], routes: [], backends: [] };
    let any = false;
    const pairs: [Map<string, Series>, SeriesDelta[]][] = [
      [this.listeners, out.listeners],
      [this.routes, out.routes],
      [this.backends, out.backends],
    ];
    for (const [m, list] of pairs) {
      for (const s of m.values()) {
        const count = s.count - s.sentCount;
        const errors = s.errors - s.sentErrors;
        const backendErrors = s.backendErrors - s.sentBackendErrors;
        if (count === 0 && errors === 0 && backendErrors === 0) continue;
        s.sentCount = s.count;
        s.sentErrors = s.errors;
        s.sentBackendErrors = s.backendErrors;
        const sent = (s.sentHist ??= new Uint32Array(BUCKETS));
        const hist: number[] = [];
        if (count !== 0) {
          for (let i = 0; i < BUCKETS; i++) {
            const d = s.hist[i] - sent[i];
            if (d !== 0) {
              hist.push(i, d);
              sent[i] = s.hist[i];
            }
          }
        }
        list.push({ id: s.id, count, errors, backendErrors, hist });
        any = true;
      }
    }
    return any ? out : null;
  }

  /** Adds a worker's report (takeDelta() of its LiveStats), as if these requests were recorded here. */
  addDelta(d: LiveDelta): void {
    const pairs: [Map<string, Series>, SeriesDelta[] | undefined][] = [
      [this.listeners, d.listeners],
      [this.routes, d.routes],
      [this.backends, d.backends],
    ];
    for (const [m, list] of pairs) {
      if (!Array.isArray(list)) continue;
      for (const x of list) {
        if (typeof x?.id !== 'string') continue;
        const s = series(m, x.id);
        s.count += nonNegative(x.count);
        s.errors += nonNegative(x.errors);
        s.backendErrors += nonNegative(x.backendErrors);
        const h = Array.isArray(x.hist) ? x.hist : [];
        for (let i = 0; i + 1 < h.length; i += 2) {
          const b = h[i];
          if (Number.isInteger(b) && b >= 0 && b < BUCKETS) s.hist[b] += nonNegative(h[i + 1]);
        }
      }
    }
  }

  snapshot(): LiveSnapshot {
    return {
      time: this.lastTick,
      windowSeconds: HISTORY_SECONDS,
      listeners: this.snap(this.listeners),
      routes: this.snap(this.routes),
      backends: this.snap(this.backends),
    };
  }

  private snap(m: Map<string, Series>): SeriesSnapshot[] {
    const out: SeriesSnapshot[] = [];
    const n = Math.min(this.ticks, HISTORY_SECONDS);
    const merged = new Float64Array(BUCKETS);
    for (const s of m.values()) {
      const spark: number[] = new Array(HISTORY_SECONDS).fill(0);
      let requests = 0, errors = 0, berr = 0, recent = 0;
      merged.fill(0);
      for (let k = 0; k < n; k++) {
        // k = 0 is the most recent complete second
        const slot = (this.ticks - 1 - k + HISTORY_SECONDS * 2) % HISTORY_SECONDS;
        const c = s.countRing[slot];
        spark[HISTORY_SECONDS - 1 - k] = c;
        requests += c;
        errors += s.errorRing[slot];
        berr += s.backendErrorRing[slot];
        if (k < RATE_WINDOW_SECONDS) recent += c;
        const h = s.histRing[slot];
        if (h !== null) for (let i = 0; i < h.length; i += 2) merged[h[i]] += h[i + 1];
      }
      out.push({
        id: s.id,
        total: s.count,
        rps: n === 0 ? 0 : Math.round((recent / Math.min(n, RATE_WINDOW_SECONDS)) * 100) / 100,
        minute: { requests, errors5xx: errors, backendErrors: berr },
        errorRate: requests === 0 ? null : Math.round((errors / requests) * 10000) / 10000,
        p50: quantile(merged, requests, 0.5),
        p99: quantile(merged, requests, 0.99),
        spark,
      });
    }
    out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return out;
  }
}

function nonNegative(n: unknown): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

function series(m: Map<string, Series>, id: string): Series {
  let s = m.get(id);
  if (s === undefined) {
    s = new Series(id);
    m.set(id, s);
  }
  return s;
}

/** Quantile of a bucket histogram, in milliseconds (3 significant digits). */
function quantile(hist: Float64Array, total: number, q: number): number | null {
  if (total <= 0) return null;
  const rank = Math.max(1, Math.ceil(total * q));
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i];
    if (seen >= rank) return Number((bucketMid(i) / 1000).toPrecision(3));
  }
  return null;
}

/**
 * A Telemetry that records into LiveStats and then calls the process's Telemetry (metrics + access
 * log) unchanged.
 */
export class LiveTelemetry implements Telemetry {
  constructor(
    readonly inner: Telemetry,
    readonly live: LiveStats,
  ) {}
  prepare(table: RoutingTable): void {
    this.live.prepare(table);
    this.inner.prepare(table);
  }
  onRequest(rec: RequestRecord): void {
    this.live.record(rec);
    this.inner.onRequest(rec);
  }
  onL4(rec: L4Record): void {
    if (rec.protocol !== 'UDP') this.live.recordL4(rec);
    this.inner.onL4(rec);
  }
  onConnection(listenerId: string, delta: 1 | -1): void {
    this.inner.onConnection(listenerId, delta);
  }
  onBackendError(backendId: string, reason: string): void {
    this.live.recordBackendError(backendId);
    this.inner.onBackendError(backendId, reason);
  }
  onUdpDatagram(listenerId: string, direction: 'in' | 'out', result: 'forwarded' | 'dropped'): void {
    this.inner.onUdpDatagram(listenerId, direction, result);
  }
}
