import { Pool } from 'undici';
import type { ResolvedEndpoint } from '../api.js';

export type UpstreamProtocol = 'http1' | 'tls';

interface Entry {
  pool: Pool;
  lastUsed: number;
}

export interface PoolOptions {
  /** Connect timeout per attempt (default 5 s). */
  connectTimeoutMs?: number;
  /** Idle keep-alive sockets are closed after this (default 30 s; the upstream's Keep-Alive hint wins). */
  keepAliveMs?: number;
  /** Pools unused for this long are closed by the sweep (default 120 s). */
  idleCloseMs?: number;
}

/**
 * One undici Pool per endpoint + protocol, created lazily, keep-alive, reused across table swaps.
 * `retain(keys)` after a swap closes pools whose endpoint no table uses any more; undici's `close()` lets
 * requests in flight finish. A request of an old table that still needs a closed endpoint gets a new pool.
 */
export class UpstreamPools {
  readonly #pools = new Map<string, Entry>();
  readonly #opts: Required<PoolOptions>;
  #sweep: NodeJS.Timeout | null = null;
  #now = Date.now();

  constructor(opts: PoolOptions = {}) {
    this.#opts = {
      connectTimeoutMs: opts.connectTimeoutMs ?? 5_000,
      keepAliveMs: opts.keepAliveMs ?? 30_000,
      idleCloseMs: opts.idleCloseMs ?? 120_000,
    };
  }

  static key(ep: ResolvedEndpoint, protocol: UpstreamProtocol): string {
    return protocol === 'http1' ? ep.key : protocol + '|' + ep.key;
  }

  get(ep: ResolvedEndpoint, protocol: UpstreamProtocol): Pool {
    const key = protocol === 'http1' ? ep.key : protocol + '|' + ep.key;
    let e = this.#pools.get(key);
    if (e === undefined) {
      e = { pool: this.#create(ep, protocol), lastUsed: this.#now };
      this.#pools.set(key, e);
      this.#startSweep();
    } else {
      e.lastUsed = this.#now;
    }
    return e.pool;
  }

  /** Close pools not in `keep` (keys from `UpstreamPools.key`). Static endpoints of the new table. */
  retain(keep: Set<string>, dynamic: (key: string) => boolean = () => false): void {
    for (const [key, e] of this.#pools) {
      if (keep.has(key) || dynamic(key)) continue;
      this.#pools.delete(key);
      void e.pool.close().catch(() => undefined);
    }
  }

  get size(): number {
    return this.#pools.size;
  }

  /** Sockets and requests across every pool (leak checks, debugging). */
  stats(): { pools: number; connected: number; free: number; pending: number; running: number } {
    const out = { pools: this.#pools.size, connected: 0, free: 0, pending: 0, running: 0 };
    for (const e of this.#pools.values()) {
      const st = e.pool.stats;
      out.connected += st.connected;
      out.free += st.free;
      out.pending += st.pending;
      out.running += st.running;
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.#sweep !== null) clearInterval(this.#sweep);
    this.#sweep = null;
    const all = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(all.map((e) => e.pool.close().catch(() => undefined)));
  }

  /** Force-close (after a drain deadline). */
  async destroy(): Promise<void> {
    if (this.#sweep !== null) clearInterval(this.#sweep);
    this.#sweep = null;
    const all = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(all.map((e) => e.pool.destroy().catch(() => undefined)));
  }

  #create(ep: ResolvedEndpoint, protocol: UpstreamProtocol): Pool {
    const o = this.#opts;
    const common = {
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: o.keepAliveMs,
      connect: { timeout: o.connectTimeoutMs },
      // Timeouts of the IR are enforced by the engine's sweep; these are only a backstop.
      headersTimeout: 300_000,
      bodyTimeout: 300_000,
    };
    if (ep.unix) return new Pool('http://localhost', { ...common, socketPath: ep.address });
    const host = ep.address.includes(':') ? `[${ep.address}]` : ep.address;
    if (protocol === 'tls') return new Pool(`https://${host}:${ep.port}`, common);
    return new Pool(`http://${host}:${ep.port}`, common);
  }

  #startSweep(): void {
    if (this.#sweep !== null) return;
    this.#sweep = setInterval(() => {
      this.#now = Date.now();
      const limit = this.#now - this.#opts.idleCloseMs;
      for (const [key, e] of this.#pools) {
        if (e.lastUsed < limit) {
          this.#pools.delete(key);
          void e.pool.close().catch(() => undefined);
        }
      }
    }, 1_000);
    this.#sweep.unref();
  }
}
