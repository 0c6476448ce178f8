import type { Dispatcher } from 'undici';
import type { PreparedPort } from '../engine/prepared.js';
import type { FilterPlan } from '../filters/plan.js';

/** What a mirror copy needs from an exchange of either HTTP engine (engine/exchange.ts, fast/exchange.ts). */
export interface MirroredExchange {
  readonly pp: PreparedPort;
  readonly hasBody: boolean;
  readonly bodyBuffer: Buffer | null;
  readonly upstreamPath: string;
  readonly head: { readonly method: string };
  readonly headers: string[];
  /** The path (with query) and header list the request would have under `plan` instead of its own. */
  mirrorRequest(plan: FilterPlan): { path: string; headers: string[] };
}

/** The mirror's response is read and dropped; errors are only counted. One shared handler object. */
class MirrorHandler {
  constructor(readonly backendId: string, readonly ex: MirroredExchange) {}
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

/**
 * Fire-and-forget copies (features.md §9.9): after the request filters, to one endpoint of each mirror
 * backend, sampled by fraction. A request body is mirrored only when the exchange read it into
 * `bodyBuffer` (Content-Length ≤ MIRROR_BODY_LIMIT); bigger or chunked bodies are not mirrored.
 */
export function sendMirrors(ex: MirroredExchange, plan: FilterPlan): void {
  const engine = ex.pp.engine;
  const table = ex.pp.table;
  if (ex.hasBody && ex.bodyBuffer === null) return;
  const mirrors = plan.mirrors;
  let ruleRequest: { path: string; headers: string[] } | null = null;
  for (let i = 0; i < mirrors.length; i++) {
    const m = mirrors[i]!;
    if (!m.sample()) continue;
    const backend = table.backends[m.backend];
    if (backend === undefined || backend.protocol === 'h2c') continue;
    const ep = engine.resolver.pick(backend);
    if (ep === null) continue;
    const pool = engine.pools.get(ep, backend.protocol === 'tls' ? 'tls' : 'http1');
    const handler = new MirrorHandler(backend.id, ex) as unknown as Dispatcher.DispatchHandler;
    let path = ex.upstreamPath;
    let headers = ex.headers;
    if (i < plan.ruleMirrors && plan.mirrorBase !== null) {
      ruleRequest ??= ex.mirrorRequest(plan.mirrorBase);
      path = ruleRequest.path;
      headers = ruleRequest.headers;
    }
    pool.dispatch({ path, method: ex.head.method, headers, body: ex.bodyBuffer }, handler);
  }
}
