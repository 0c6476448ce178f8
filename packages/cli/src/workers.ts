/**
 * `gatehouse run --workers N`: one primary and N node:cluster workers sharing the listen sockets.
 *
 * The primary keeps everything that must happen once: the admin server, the watcher, signals, loading
 * and compiling. It drives the workers through `ClusterRuntime`, a Runtime whose `apply` sends the
 * compiled table to every worker over IPC and resolves when all have swapped it in (if one refuses, the
 * ones that took it are put back on the previous table, so workers never serve different configs for
 * longer than a swap). Each worker runs a normal GatehouseRuntime with its own metrics and access log;
 * `/metrics` on the primary aggregates every worker's registry with prom-client's AggregatorRegistry.
 * With an admin server, each worker also records the dashboard's live numbers and sends what changed
 * once a second (`gh:live`); the primary adds them into its LiveStats, which `/api/stats` reads.
 *
 * Workers ignore SIGINT/SIGTERM/SIGHUP (a terminal sends them to the whole process group): the primary
 * decides, and tells them to drain.
 */
import cluster, { type Worker } from 'node:cluster';
import { VERSION, withBindFailures, type RoutingTable, type StatusReport } from '@gatehouse/core';
import {
  AccessLog,
  GatehouseRuntime,
  GatewayTelemetry,
  LiveStats,
  LiveTelemetry,
  Metrics,
  aggregateMetrics,
  type MetricsJson,
  ProcessLogger,
  type ApplyResult,
  type LiveDelta,
  type Logger,
  type Runtime,
} from '@gatehouse/proxy';
import type { GatewayConfig } from './gateway.js';

type ToWorker =
  | { type: 'gh:apply'; id: number; table: RoutingTable; status: StatusReport }
  | { type: 'gh:metrics'; id: number }
  | { type: 'gh:drain'; ms: number };

type FromWorker =
  | { type: 'gh:hello' }
  | { type: 'gh:applied'; id: number; result: ApplyResult; bound: [string, number][] }
  | { type: 'gh:failed'; id: number; error: string }
  | { type: 'gh:metrics'; id: number; metrics: MetricsJson }
  | { type: 'gh:live'; delta: LiveDelta };

const APPLY_TIMEOUT_MS = 30_000;
/** How often a worker sends its live numbers to the primary (when it recorded anything). */
const LIVE_REPORT_MS = 1000;
const MAX_RESTARTS_PER_MINUTE = 10;

interface Slot {
  index: number;
  worker: Worker | null;
  /** Resolves once the worker has said hello (its IPC handler is installed). */
  ready: Promise<void> | null;
  /** The worker has swapped in the serving table. */
  serving: boolean;
}

export class ClusterRuntime implements Runtime {
  private readonly slots: Slot[];
  private cur: { table: RoutingTable; status: StatusReport } | null = null;
  private bound = new Map<string, number>();
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (m: FromWorker) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private closing = false;
  private restarts: number[] = [];

  constructor(
    readonly count: number,
    private readonly logger: Logger,
    /** The primary's dashboard numbers, fed by the workers' `gh:live` reports (null: admin off). */
    private readonly live: LiveStats | null = null,
  ) {
    this.slots = Array.from({ length: count }, (_x, index) => ({ index, worker: null, ready: null, serving: false }));
  }

  /** Every worker is alive (for /readyz). */
  healthy(): boolean {
    return this.slots.every((s) => s.serving && s.worker !== null && !s.worker.isDead());
  }

  /** Workers alive now. */
  alive(): number {
    return this.slots.filter((s) => s.worker !== null && !s.worker.isDead()).length;
  }

  private fork(slot: Slot): Promise<void> {
    const worker = cluster.fork({ GATEHOUSE_WORKER_INDEX: String(slot.index) });
    slot.worker = worker;
    slot.ready = new Promise<void>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`worker ${slot.index} exited during start (code ${code})`));
      worker.once('exit', onExit);
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'gh:hello') {
          worker.off('exit', onExit);
          resolve();
        } else if (m.type === 'gh:live') this.live?.addDelta(m.delta);
        else if ('id' in m) this.settle(m);
      });
    });
    worker.on('exit', (code, signal) => this.onExit(slot, worker, code, signal));
    return slot.ready;
  }

  private settle(m: FromWorker & { id: number }): void {
    const w = this.waiting.get(m.id);
    if (!w) return;
    this.waiting.delete(m.id);
    clearTimeout(w.timer);
    w.resolve(m);
  }

  private ask(worker: Worker, msg: ToWorker & { id: number }, timeoutMs: number): Promise<FromWorker> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(msg.id);
        reject(new Error(`worker ${worker.id} did not answer ${msg.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(msg.id, { resolve, reject, timer });
      worker.send(msg, (err: Error | null) => {
        if (err) {
          this.waiting.delete(msg.id);
          clearTimeout(timer);
          reject(err);
        }
      });
    });
  }

  private onExit(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== worker) return;
    slot.worker = null;
    slot.serving = false;
    if (this.closing) return;
    this.logger.error('worker exited', { worker: slot.index, code, signal });
    const now = Date.now();
    this.restarts = this.restarts.filter((t) => now - t < 60_000);
    if (this.restarts.length >= MAX_RESTARTS_PER_MINUTE) {
      this.logger.error('workers are crashing repeatedly; not restarting', { worker: slot.index });
      return;
    }
    this.restarts.push(now);
    void this.fork(slot)
      .then(async () => {
        if (this.cur && slot.worker) await this.applyTo(slot.worker, this.cur.table, this.cur.status);
        slot.serving = true;
        this.logger.info('worker restarted', { worker: slot.index });
      })
      .catch((err: unknown) => this.logger.error('worker restart failed', { worker: slot.index, error: (err as Error).message }));
  }

  private async applyTo(worker: Worker, table: RoutingTable, status: StatusReport): Promise<{ result: ApplyResult; bound: [string, number][] }> {
    const m = await this.ask(worker, { type: 'gh:apply', id: ++this.seq, table, status }, APPLY_TIMEOUT_MS);
    if (m.type === 'gh:failed') throw new Error(m.error);
    if (m.type !== 'gh:applied') throw new Error(`unexpected answer ${m.type}`);
    return { result: m.result, bound: m.bound };
  }

  async apply(table: RoutingTable, status: StatusReport): Promise<ApplyResult> {
    if (this.closing) throw new Error('runtime is closed');
    await Promise.all(this.slots.map((s) => (s.worker ? s.ready : this.fork(s))));
    const live = this.slots.filter((s): s is Slot & { worker: Worker } => s.worker !== null);
    const results = await Promise.allSettled(live.map((s) => this.applyTo(s.worker, table, status)));
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`worker ${live[i].index}: ${(r.reason as Error).message}`] : []));
    if (failed.length > 0) {
      // put the workers that took the new table back on the previous one: never serve two configs
      const prev = this.cur;
      if (prev) {
        await Promise.allSettled(live.map((s, i) => (results[i].status === 'fulfilled' ? this.applyTo(s.worker, prev.table, prev.status) : null)));
      }
      throw new Error(failed.join('; '));
    }
    this.cur = { table, status };
    this.live?.prepare(table);
    for (const sl of live) sl.serving = true;
    const oks = results.map((r) => (r as PromiseFulfilledResult<{ result: ApplyResult; bound: [string, number][] }>).value);
    this.bound = new Map(oks[0]?.bound ?? []);
    const failedPorts = new Map<string, ApplyResult['failed'][number]>();
    for (const o of oks) for (const f of o.result.failed) failedPorts.set(f.key, f);
    const first = oks[0]?.result ?? { opened: [], kept: [], closed: [], failed: [] };
    // a port that could not be bound shows in /status (Listener PortUnavailable, Gateway AddressNotUsable)
    if (failedPorts.size > 0) this.cur = { table, status: withBindFailures(status, table, [...failedPorts.values()]) };
    return { ...first, failed: [...failedPorts.values()] };
  }

  current(): { table: RoutingTable; status: StatusReport } | null {
    return this.cur;
  }

  boundPorts(): Map<string, number> {
    return new Map(this.bound);
  }

  /** Every worker's metrics as JSON (for AggregatorRegistry.aggregate). */
  async workerMetrics(): Promise<MetricsJson[]> {
    const live = this.slots.filter((s): s is Slot & { worker: Worker } => s.worker !== null && !s.worker.isDead());
    const answers = await Promise.allSettled(live.map((s) => this.ask(s.worker, { type: 'gh:metrics', id: ++this.seq }, 2000)));
    return answers.flatMap((a) => (a.status === 'fulfilled' && a.value.type === 'gh:metrics' ? [a.value.metrics] : []));
  }

  /** Tells every worker to drain and waits (bounded) for them to exit. */
  async close(drainMs: number): Promise<void> {
    this.closing = true;
    // a worker still starting has no IPC handler yet: wait (bounded) until it has said hello
    await Promise.allSettled(this.slots.map((s) => (s.ready ? Promise.race([s.ready, new Promise((r) => setTimeout(r, 5000).unref())]) : null)));
    const live = this.slots.flatMap((s) => (s.worker && !s.worker.isDead() ? [s.worker] : []));
    await Promise.all(
      live.map(
        (w) =>
          new Promise<void>((resolve) => {
            const kill = setTimeout(() => {
              this.logger.warn('worker did not stop in time; killing it', { worker: w.id });
              w.process.kill('SIGKILL');
            }, drainMs + 5000);
            w.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            w.send({ type: 'gh:drain', ms: drainMs } satisfies ToWorker);
          }),
      ),
    );
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.reject(new Error('runtime closed'));
    }
    this.waiting.clear();
  }
}

/** /metrics of the primary: its own registry (reloads, build info) plus every worker's, aggregated. */
export function aggregatedMetrics(primary: Metrics, runtime: ClusterRuntime): () => Promise<{ contentType: string; body: string }> {
  return async () => {
    return aggregateMetrics([await primary.json(), ...(await runtime.workerMetrics())]);
  };
}

/** The body of a worker process. Never resolves: the worker exits after the primary tells it to drain. */
export function runWorker(config: GatewayConfig, onCreated?: (t: { logger: Logger; metrics: Metrics }) => void): Promise<number> {
  const index = Number(process.env.GATEHOUSE_WORKER_INDEX ?? cluster.worker?.id ?? 0);
  const logger = new ProcessLogger({ level: config.logLevel, format: config.logFormat, base: { worker: index } });
  const metrics = new Metrics({ version: VERSION });
  const accessLog = new AccessLog({ format: config.accessLog, maxWriteBytes: 4096, onDrop: () => metrics.accessLogDropped.inc() });
  const gatewayTelemetry = new GatewayTelemetry(metrics, accessLog.enabled ? accessLog : null);
  // the dashboard's live numbers, when the primary serves a dashboard: reported once a second
  const live = config.admin !== null ? new LiveStats() : null;
  const telemetry = live !== null ? new LiveTelemetry(gatewayTelemetry, live) : gatewayTelemetry;
  const send = (m: FromWorker) => process.send?.(m);
  if (live !== null) {
    const report = setInterval(() => {
      if (!process.connected) return;
      const delta = live.takeDelta();
      if (delta !== null) send({ type: 'gh:live', delta });
    }, LIVE_REPORT_MS);
    report.unref();
  }
  // the last-resort handlers (commands/run.ts) log with this worker's logger and count in its metrics
  onCreated?.({ logger, metrics });
  const runtime = new GatehouseRuntime({
    logger,
    telemetry,
    bindAddress: config.bind,
    drainTimeoutMs: config.drainTimeoutMs,
    trustForwarded: config.trustForwarded === true,
  });
  /** The last live numbers before exiting (bounded wait for the IPC write). */
  const flushLive = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const delta = live?.takeDelta() ?? null;
      if (delta === null || !process.connected || process.send === undefined) return resolve();
      const timer = setTimeout(resolve, 500);
      process.send({ type: 'gh:live', delta } satisfies FromWorker, undefined, {}, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => {});
  let draining = false;
  const drain = async (ms: number) => {
    if (draining) return;
    draining = true;
    try {
      await runtime.close(ms);
    } catch (err) {
      logger.error('error while draining', { error: (err as Error).message });
    }
    await accessLog.close();
    await flushLive();
    process.exit(0);
  };
  process.on('message', (m: ToWorker) => {
    if (m.type === 'gh:apply') {
      runtime.apply(m.table, m.status).then(
        (result) => send({ type: 'gh:applied', id: m.id, result, bound: [...runtime.boundPorts()] }),
        (err: unknown) => send({ type: 'gh:failed', id: m.id, error: err instanceof Error ? err.message : String(err) }),
      );
    } else if (m.type === 'gh:metrics') {
      metrics.json().then((json) => send({ type: 'gh:metrics', id: m.id, metrics: json }));
    } else if (m.type === 'gh:drain') void drain(m.ms);
  });
  // The primary is gone (crashed or killed): finish what is in flight and leave.
  process.on('disconnect', () => void drain(config.drainTimeoutMs));
  send({ type: 'gh:hello' });
  return new Promise<number>(() => {});
}
