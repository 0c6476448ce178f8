/**
 * RequestMirror for the fast engine: the copies go through the engine's undici pools (fire-and-forget,
 * off the hot path), with the same rules as upstream/mirror.ts: bodies only when read into memory.
 */
import type { Dispatcher } from 'undici';
import type { Mirror } from '../filters/mirror.js';
import type { FastExchange } from './exchange.js';

class MirrorHandler {
  constructor(
    readonly backendId: string,
    readonly ex: FastExchange,
  ) {}
  onConnect(): void {}
  onHeaders(): boolean {
    return true;
  }
  onData(): boolean {
    return true;
  }
  onComplete(): void {}
  onError(err: Error): void {
    this.ex.pp.engine.telemetry.onBackendError(this.backendId, (err as { code?: string }).code === 'ECONNREFUSED' ? 'connect_refused' : 'mirror');
  }
}

export function sendFastMirrors(ex: FastExchange, mirrors: readonly Mirror[]): void {
  const engine = ex.pp.engine;
  const table = ex.pp.table;
  if (ex.hasBody && ex.bodyBuffer === null) return;
  for (const m of mirrors) {
    if (!m.sample()) continue;
    const backend = table.backends[m.backend];
    if (backend === undefined || backend.protocol === 'h2c') continue;
    const ep = engine.resolver.pick(backend);
    if (ep === null) continue;
    const pool = engine.pools.get(ep, backend.protocol === 'tls' ? 'tls' : 'http1');
    const handler = new MirrorHandler(backend.id, ex) as unknown as Dispatcher.DispatchHandler;
    pool.dispatch({ path: ex.upstreamPath, method: ex.head.method, headers: ex.headers, body: ex.bodyBuffer }, handler);
  }
}
