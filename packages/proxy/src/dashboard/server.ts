/**
 * The dashboard's HTTP side, mounted by the admin server on `GET /`, `GET /ui/*` and `/api/*`.
 * Read-only: the only state change the page can ask for is the existing `POST /reload`.
 *
 *   GET  /                the page (HTML); /ui/app.js, /ui/app.css its script and style
 *   GET  /api/model       Gateways → listeners → routes → rules → backends, conditions, last reload
 *   GET  /api/stats       live numbers (LiveSnapshot), or {available:false} without a LiveStats
 *   GET  /api/events      SSE: `stats` every second, `model` when the serving config or last reload changes
 *   POST /api/explain     {method, url, headers} → the `gatehouse explain -o json` report
 *
 * Assets are compiled into the package (assets.generated.ts) so the page works offline.
 */
import type * as http from 'node:http';
import { ASSETS } from './assets.generated.js';
import type { LiveStats } from './live.js';
import { buildModel, type ModelInput } from './model.js';

export interface DashboardOptions {
  /** Live numbers; null when this process does not see the requests (e.g. `--workers`). */
  live: LiveStats | null;
  /** `gatehouse explain` on the serving table: a report object, or a string when the input is refused. */
  explain?: (method: string, url: string, headers: [string, string][]) => unknown;
  /** Tick period (ms); 1000 by default (tests). */
  tickMs?: number;
}

/** The parts of the admin source the dashboard reads. */
export interface DashboardSource {
  table(): ModelInput['table'];
  status(): unknown;
}

const MAX_SSE_CLIENTS = 32;
const MAX_BODY = 64 * 1024;

export class Dashboard {
  private readonly clients = new Set<http.ServerResponse>();
  private timer: NodeJS.Timeout | null = null;
  private lastModelKey = '';

  constructor(
    private readonly source: DashboardSource,
    private readonly opts: DashboardOptions,
  ) {}

  /** Starts the once-a-second tick (the admin server calls it once it listens). */
  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.tick(), this.opts.tickMs ?? 1000);
    this.timer.unref();
  }

  /** Is this path the dashboard's? */
  static owns(path: string): boolean {
    return path === '/' || path.startsWith('/ui/') || path.startsWith('/api/');
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const c of this.clients) c.end();
    this.clients.clear();
  }

  private modelKey(): string {
    const s = this.source.status() as { serving?: { hash?: unknown } | null; lastReload?: { time?: unknown } | null; ready?: unknown; draining?: unknown };
    return `${String(s.serving?.hash)}|${String(s.lastReload?.time)}|${String(s.ready)}|${String(s.draining)}`;
  }

  private tick(): void {
    this.opts.live?.tick();
    if (this.clients.size === 0) return;
    const stats = this.statsJson();
    let payload = `event: stats\ndata: ${stats}\n\n`;
    const key = this.modelKey();
    if (key !== this.lastModelKey) {
      this.lastModelKey = key;
      payload += `event: model\ndata: ${JSON.stringify({ key })}\n\n`;
    }
    for (const c of this.clients) c.write(payload);
  }

  private statsJson(): string {
    const live = this.opts.live;
    return JSON.stringify(live ? { available: true, ...live.snapshot() } : { available: false, reason: 'live numbers are not collected in this process (--workers): see /metrics' });
  }

  model() {
    return buildModel({ table: this.source.table(), status: this.source.status() as ModelInput['status'] });
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> {
    const method = req.method ?? 'GET';
    if (path === '/api/explain') {
      if (method !== 'POST') return methodNotAllowed(res, 'POST');
      return this.explain(req, res);
    }
    if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(res, 'GET, HEAD');
    const asset = path === '/' ? ASSETS['index.html'] : path.startsWith('/ui/') ? ASSETS[path.slice(4)] : undefined;
    if (asset !== undefined) {
      res.statusCode = 200;
      res.setHeader('content-type', asset.type);
      res.setHeader('content-length', Buffer.byteLength(asset.body));
      res.setHeader('cache-control', 'no-cache');
      res.setHeader('x-content-type-options', 'nosniff');
      if (path === '/') {
        res.setHeader('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'");
        res.setHeader('x-frame-options', 'DENY');
      }
      res.end(method === 'HEAD' ? undefined : asset.body);
      return;
    }
    switch (path) {
      case '/api/model':
        return json(res, 200, this.model());
      case '/api/stats':
        return text(res, 200, this.statsJson() + '\n', 'application/json; charset=utf-8');
      case '/api/events':
        return this.events(req, res);
    }
    return json(res, 404, { error: `not found: ${path}` });
  }

  private events(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.clients.size >= MAX_SSE_CLIENTS) return json(res, 503, { error: 'too many dashboard clients' });
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    if (req.method === 'HEAD') return void res.end();
    res.socket?.setNoDelay(true);
    this.clients.add(res);
    const drop = () => this.clients.delete(res);
    res.on('close', drop);
    res.write(`retry: 2000\nevent: stats\ndata: ${this.statsJson()}\n\n`);
  }

  private async explain(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let body = '';
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) return json(res, 413, { error: 'request body too large' });
      body += chunk;
    }
    if (!this.opts.explain) return json(res, 501, { error: 'explain is not available in this process' });
    let input: unknown;
    try {
      input = JSON.parse(body);
    } catch {
      return json(res, 400, { error: 'body must be JSON: {"method": "GET", "url": "http://host:port/path", "headers": {"name": "value"}}' });
    }
    const o = (input ?? {}) as { method?: unknown; url?: unknown; headers?: unknown };
    const method = typeof o.method === 'string' && o.method !== '' ? o.method.trim().toUpperCase() : 'GET';
    if (!/^[A-Z]+$/.test(method)) return json(res, 400, { error: `method must be a word like GET, got ${JSON.stringify(o.method)}` });
    if (typeof o.url !== 'string' || o.url === '') return json(res, 400, { error: 'url is required (http://host:port/path)' });
    const headers = parseHeaders(o.headers);
    if (typeof headers === 'string') return json(res, 400, { error: headers });
    if (this.source.table() === null) return json(res, 503, { error: 'no configuration is serving yet' });
    const report = this.opts.explain(method, o.url.trim(), headers);
    if (typeof report === 'string') return json(res, 400, { error: report });
    return json(res, 200, report);
  }
}

/** `{name: value}`, `[[name, value]]`, or `"name: value\n..."` → lowercased pairs. */
export function parseHeaders(h: unknown): [string, string][] | string {
  const out: [string, string][] = [];
  const add = (k: unknown, v: unknown): string | null => {
    if (typeof k !== 'string' || typeof v !== 'string') return 'headers must be strings';
    const name = k.trim().toLowerCase();
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) return `invalid header name ${JSON.stringify(k)}`;
    out.push([name, v.trim()]);
    return null;
  };
  if (h === undefined || h === null || h === '') return out;
  if (typeof h === 'string') {
    for (const line of h.split(/\r?\n/)) {
      if (line.trim() === '') continue;
      const c = line.indexOf(':');
      if (c <= 0) return `header line ${JSON.stringify(line)} must look like "name: value"`;
      const e = add(line.slice(0, c), line.slice(c + 1));
      if (e) return e;
    }
  } else if (Array.isArray(h)) {
    for (const p of h) {
      if (!Array.isArray(p) || p.length !== 2) return 'headers as a list must be [name, value] pairs';
      const e = add(p[0], p[1]);
      if (e) return e;
    }
  } else if (typeof h === 'object') {
    for (const [k, v] of Object.entries(h as Record<string, unknown>)) {
      const e = add(k, v);
      if (e) return e;
    }
  } else return 'headers must be an object, a list of pairs or "name: value" lines';
  if (out.length > 100) return 'too many headers';
  return out;
}

function methodNotAllowed(res: http.ServerResponse, allow: string): void {
  res.setHeader('allow', allow);
  json(res, 405, { error: `method not allowed; use ${allow}` });
}

function json(res: http.ServerResponse, code: number, body: unknown): void {
  text(res, code, JSON.stringify(body, null, 2) + '\n', 'application/json; charset=utf-8');
}

function text(res: http.ServerResponse, code: number, body: string, type: string): void {
  res.statusCode = code;
  res.setHeader('content-type', type);
  res.setHeader('content-length', Buffer.byteLength(body));
  res.setHeader('cache-control', 'no-store');
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
