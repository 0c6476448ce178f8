import type { BackendResolver, Logger, Telemetry } from '../api.js';
import { H2cSessions } from '../upstream/h2c.js';
import { UpstreamPools, type PoolOptions } from '../upstream/pools.js';
import { Deadlines } from './deadlines.js';

export interface EngineOptions {
  /** Append to an incoming X-Forwarded-For (and keep incoming -Proto/-Host) instead of overwriting. */
  trustForwarded?: boolean;
  pools?: PoolOptions;
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
  /** Requests in flight (for drain). */
  inFlight = 0;

  constructor(
    public logger: Logger,
    public telemetry: Telemetry,
    public resolver: BackendResolver,
    options: EngineOptions = {},
  ) {
    this.pools = new UpstreamPools(options.pools);
    this.trustForwarded = options.trustForwarded ?? false;
  }

  async close(): Promise<void> {
    this.deadlines.stop();
    this.h2c.close();
    await this.pools.close();
  }
}
