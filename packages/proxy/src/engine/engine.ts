import type { BackendResolver, Logger, Telemetry } from '../api.js';
import { resolveLimits, type LimitOptions, type Limits } from '../limits.js';
import { H2cSessions } from '../upstream/h2c.js';
import { UpstreamPools, type PoolOptions } from '../upstream/pools.js';
import { DefaultBackendResolver } from '../upstream/resolver.js';
import { Deadlines } from './deadlines.js';

export interface EngineOptions {
  /** Append to an incoming X-Forwarded-For (and keep incoming -Proto/-Host) instead of overwriting. */
  trustForwarded?: boolean;
  pools?: PoolOptions;
  /** Request limits, timeouts, circuit breaking, outlier detection, request ids (limits.ts; docs/reliability.md). */
  limits?: LimitOptions;
}

/** Requests in flight to one backend (by BackendIR.id), shared by every table that names it. */
export interface PendingCounter {
  n: number;
}

/**
 * What every request of every table shares: telemetry, logger, resolver, upstream pools and h2c
 * sessions (keyed by endpoint, reused across swaps) and the timeout sweep. One per Runtime.
 */
export class HttpEngine {
  readonly pools: UpstreamPools;
  readonly h2c = new H2cSessions();
  readonly deadlines = new Deadlines();
  readonly trustForwarded: boolean;
  readonly limits: Limits;
  readonly #pending = new Map<string, PendingCounter>();
  /** Requests in flight (for drain). */
  inFlight = 0;

  constructor(
    public logger: Logger,
    public telemetry: Telemetry,
    public resolver: BackendResolver,
    options: EngineOptions = {},
  ) {
    this.limits = resolveLimits(options.limits);
    this.pools = new UpstreamPools({ connectTimeoutMs: this.limits.connectTimeoutMs, ...options.pools });
    this.trustForwarded = options.trustForwarded ?? false;
    if (resolver instanceof DefaultBackendResolver) resolver.outlier.configure(this.limits.outlier);
  }

  /** The in-flight counter of a backend (looked up once per prepared backendRef, never per request). */
  pendingCounter(backendId: string): PendingCounter {
    let c = this.#pending.get(backendId);
    if (c === undefined) {
      c = { n: 0 };
      this.#pending.set(backendId, c);
    }
    return c;
  }

  async close(): Promise<void> {
    this.deadlines.stop();
    this.h2c.close();
    await this.pools.close();
  }
}
