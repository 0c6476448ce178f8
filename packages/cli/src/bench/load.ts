/**
 * The load loop: `connections` workers, each sending one request at a time over keep-alive undici
 * Pools (one Pool per origin), the requests taken in turn from a precomputed mix sequence. Bounded by
 * a duration (always) and optionally a request count; `rate` spreads the sends evenly (open loop
 * pacing: request k is due at start + k/rate). Stopping (duration, count, or `stop()` from Ctrl-C)
 * lets the requests in flight finish, bounded by the per-request timeout.
 */
import { Pool } from 'undici';
import { LatencyHistogram } from './histogram.js';

export interface PlannedRequest {
  origin: string;
  method: string;
  path: string;
  /** Flat `[name, value, …]` list (includes `host`). */
  headers: string[];
  body: string | null;
}

export interface LoadProgress {
  elapsedMs: number;
  completed: number;
  errors: number;
}

export interface LoadOptions {
  connections: number;
  durationMs: number;
  maxRequests: number | null;
  /** Requests per second over all connections, or null for as fast as possible. */
  rate: number | null;
  /** Indices into the plan, repeated in this order. */
  sequence: readonly number[];
  timeoutMs?: number;
  onResponse(index: number, status: number, body: string): void;
  onError(index: number, code: string): void;
  onProgress?: (p: LoadProgress) => void;
  progressIntervalMs?: number;
}

export interface LoadResult {
  elapsedMs: number;
  completed: number;
  errors: number;
  histogram: LatencyHistogram;
  stoppedBy: 'duration' | 'requests' | 'interrupted';
}

export interface LoadRun {
  result: Promise<LoadResult>;
  /** Stop early (Ctrl-C): in-flight requests finish, then the result resolves. */
  stop(): void;
}

function errorCode(err: unknown): string {
  const e = err as { code?: string; name?: string; message?: string };
  return e?.code ?? e?.name ?? String(err);
}

export function startLoad(plan: readonly PlannedRequest[], opts: LoadOptions): LoadRun {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const pools = new Map<string, Pool>();
  for (const p of plan) {
    if (!pools.has(p.origin)) {
      pools.set(
        p.origin,
        new Pool(p.origin, { connections: opts.connections, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: timeoutMs, bodyTimeout: timeoutMs }),
      );
    }
  }
  const poolOf = plan.map((p) => pools.get(p.origin)!);
  const seq = opts.sequence;
  const histogram = new LatencyHistogram();
  let stopped = false;
  let stoppedBy: LoadResult['stoppedBy'] = 'duration';
  let next = 0;
  let completed = 0;
  let errors = 0;
  const t0 = performance.now();
  const stop = (why: LoadResult['stoppedBy']): void => {
    if (stopped) return;
    stopped = true;
    stoppedBy = why;
  };
  const timer = setTimeout(() => stop('duration'), opts.durationMs);
  const progress =
    opts.onProgress !== undefined
      ? setInterval(() => opts.onProgress!({ elapsedMs: performance.now() - t0, completed, errors }), opts.progressIntervalMs ?? 250)
      : null;
  progress?.unref();

  const worker = async (): Promise<void> => {
    while (!stopped) {
      const k = next++;
      if (opts.maxRequests !== null && k >= opts.maxRequests) {
        stop('requests');
        break;
      }
      if (opts.rate !== null) {
        const due = t0 + (k * 1000) / opts.rate;
        for (let wait = due - performance.now(); wait > 0.5 && !stopped; wait = due - performance.now()) {
          await new Promise((r) => setTimeout(r, Math.min(wait, 100)));
        }
        if (stopped) break;
      }
      const i = seq[k % seq.length]!;
      const p = plan[i]!;
      const start = performance.now();
      try {
        const res = await poolOf[i]!.request({ path: p.path, method: p.method, headers: p.headers, body: p.body });
        const text = await res.body.text();
        histogram.record((performance.now() - start) * 1000);
        completed++;
        opts.onResponse(i, res.statusCode, text);
      } catch (err) {
        errors++;
        opts.onError(i, errorCode(err));
      }
    }
  };

  const result = (async (): Promise<LoadResult> => {
    const n = Math.max(1, opts.connections);
    await Promise.all(Array.from({ length: n }, () => worker()));
    const elapsedMs = performance.now() - t0;
    clearTimeout(timer);
    if (progress) clearInterval(progress);
    await Promise.all([...pools.values()].map((p) => p.destroy().catch(() => undefined)));
    return { elapsedMs, completed, errors, histogram, stoppedBy };
  })();
  return { result, stop: () => stop('interrupted') };
}
