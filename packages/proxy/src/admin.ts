/**
 * The admin HTTP server (DESIGN.md §4, a contract): /healthz, /readyz, /metrics, /config, /status,
 * POST /reload, /version. It knows nothing about files or reloading: the cli hands it an AdminSource.
 * With `dashboard` it also serves the read-only web dashboard on `GET /`, `/ui/*` and `/api/*`
 * (dashboard/server.ts; docs/dashboard.md).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as core from '@gatehouse/core';
import type { RoutingTable } from '@gatehouse/core';
import type { Logger } from './api.js';
import type { Metrics } from './metrics.js';
import { Dashboard, type DashboardOptions } from './dashboard/server.js';

/** What a reload answered; the cli's reloader produces it. */
export interface AdminReloadResult {
  /** `ok` applied, `unchanged` same content as the serving table, `error` rejected (old table kept). */
  result: 'ok' | 'unchanged' | 'error';
}

export interface AdminSource {
  /** Serving a first table with its listeners bound, and not draining. */
  ready(): boolean;
  draining(): boolean;
  /** The serving table, or null before the first one. */
  table(): RoutingTable | null;
  /** The JSON of /status: StatusReport + last reload result. */
  status(): unknown;
  /** Triggers a reload and resolves with its result. */
  reload(trigger: string): Promise<AdminReloadResult>;
  version(): Record<string, unknown>;
}

export interface AdminServerOptions {
  source: AdminSource;
  metrics: Metrics | null;
  /** Prometheus text for /metrics when it is not `metrics.text()` (e.g. aggregated over workers). */
  metricsText?: () => Promise<{ contentType: string; body: string }>;
  logger?: Logger;
  /** Serve the web dashboard (`GET /`, `/ui/*`, `/api/*`); off when absent. */
  dashboard?: DashboardOptions;
}

/** Parses `HOST:PORT`, `[v6]:PORT`, `:PORT` or `PORT` (host default 127.0.0.1). */
export function parseHostPort(s: string, defaultHost = '127.0.0.1'): { host: string; port: number } {
  let host = defaultHost;
  let portStr = s;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(s);
  if (v6) {
    host = v6[1];
    portStr = v6[2];
  } else if (s.includes(':')) {
    const i = s.lastIndexOf(':');
    host = s.slice(0, i) || defaultHost;
    portStr = s.slice(i + 1);
  }
  if (!/^\d+$/.test(portStr)) throw new Error(`invalid address "${s}": expected HOST:PORT`);
  const port = Number(portStr);
  if (port > 65535) throw new Error(`invalid address "${s}": port ${port} out of range`);
  return { host, port };
}

/** JSON of the compiled table with private keys redacted (the core serialiser when it exists). */
export function tableJson(table: RoutingTable): string {
  const ser = (core as Record<string, unknown>)['serializeTable'];
  if (typeof ser === 'function') {
    const out = (ser as (t: RoutingTable) => unknown)(table);
    if (typeof out === 'string') return out.endsWith('\n') ? out : out + '\n';
    return JSON.stringify(out, null, 2) + '\n';
  }
  const redacted = { ...table, certificates: table.certificates.map((c) => ({ ...c, key: '<redacted>' })) };
  return JSON.stringify(redacted, null, 2) + '\n';
}

/**
 * DNS-rebinding and cross-site-request guard for what a browser can reach. A rebinding page arrives with
 * the attacker's hostname in `Host` (and a matching `Origin`); a cross-site form posts with a foreign
 * `Origin`. So: the dashboard (a browser UI) answers only to an IP-literal or `localhost` Host; a POST
 * that carries browser headers (`Origin` / `Sec-Fetch-Site`) must come from such a Host and be
 * same-origin. Scripts are not browsers: `curl -X POST http://gatehouse:9901/reload` from another
 * container, or a scraper reading /metrics by service name, keep working.
 */
function localHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  const lower = name.toLowerCase();
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(lower) || lower.includes(':') || lower === 'localhost';
}

function browserSafe(req: http.IncomingMessage, isDashboard: boolean): boolean {
  const host = req.headers.host;
  const origin = req.headers.origin;
  const fromBrowser = origin !== undefined || req.headers['sec-fetch-site'] !== undefined;
  if (!isDashboard && !fromBrowser) return true;
  if (!localHost(host)) return false;
  if (origin === undefined) return true;
  return origin === `http://${host}` || origin === `https://${host}`;
}

const ROUTES: Record<string, string> = {
  '/healthz': 'GET',
  '/readyz': 'GET',
  '/metrics': 'GET',
  '/config': 'GET',
  '/status': 'GET',
  '/reload': 'POST',
  '/version': 'GET',
};

export class AdminServer {
  readonly server: http.Server;
  private readonly opts: AdminServerOptions;
  readonly dashboard: Dashboard | null;

  constructor(opts: AdminServerOptions) {
    this.opts = opts;
    this.dashboard = opts.dashboard ? new Dashboard(opts.source, opts.dashboard) : null;
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        opts.logger?.error('admin request failed', { path: req.url, error: err instanceof Error ? err.message : String(err) });
        if (!res.headersSent) send(res, 500, { error: 'internal error' });
        else res.destroy();
      });
    });
    this.server.keepAliveTimeout = 5000;
    this.server.requestTimeout = 60000;
  }

  /** Binds; rejects with a clear message when the address is taken. */
  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        this.server.off('listening', onListening);
        const what = err.code === 'EADDRINUSE' ? 'address already in use' : err.code === 'EACCES' ? 'permission denied' : err.message;
        reject(Object.assign(new Error(`admin server cannot listen on ${fmtAddr(host, port)}: ${what}`), { code: err.code }));
      };
      const onListening = () => {
        this.server.off('error', onError);
        this.dashboard?.start();
        resolve();
      };
      this.server.once('error', onError);
      this.server.once('listening', onListening);
      this.server.listen(port, host);
    });
  }

  address(): { host: string; port: number } {
    const a = this.server.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  /** Stops accepting and closes idle keep-alive connections; bounded. */
  close(timeoutMs = 1000): Promise<void> {
    this.dashboard?.close();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.server.closeAllConnections();
        resolve();
      }, timeoutMs);
      t.unref();
      this.server.close(() => {
        clearTimeout(t);
        resolve();
      });
      this.server.closeIdleConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const isDashboard = this.dashboard !== null && Dashboard.owns(path);
    if ((isDashboard || req.method === 'POST') && !browserSafe(req, isDashboard)) {
      return send(res, 403, { error: 'forbidden: browser requests to the admin port must use an IP-literal or localhost Host and be same-origin' });
    }
    if (isDashboard) return this.dashboard!.handle(req, res, path);
    const want = ROUTES[path];
    if (want === undefined) return send(res, 404, { error: `not found: ${path}`, endpoints: Object.keys(ROUTES) });
    const method = req.method ?? 'GET';
    if (method !== want && !(want === 'GET' && method === 'HEAD')) {
      res.setHeader('allow', want === 'GET' ? 'GET, HEAD' : want);
      return send(res, 405, { error: `method ${method} not allowed on ${path}; use ${want}` });
    }
    const src = this.opts.source;
    switch (path) {
      case '/healthz':
        return sendText(res, 200, 'ok\n');
      case '/readyz': {
        if (src.draining()) return sendText(res, 503, 'draining\n');
        if (!src.ready()) return sendText(res, 503, 'not ready\n');
        return sendText(res, 200, 'ready\n');
      }
      case '/metrics': {
        if (this.opts.metricsText) {
          const m = await this.opts.metricsText();
          return sendText(res, 200, m.body, m.contentType);
        }
        if (!this.opts.metrics) return sendText(res, 200, '', 'text/plain; version=0.0.4; charset=utf-8');
        return sendText(res, 200, await this.opts.metrics.text(), this.opts.metrics.contentType);
      }
      case '/config': {
        const t = src.table();
        if (t === null) return send(res, 503, { error: 'no configuration is serving yet' });
        return sendText(res, 200, tableJson(t), 'application/json; charset=utf-8');
      }
      case '/status':
        return send(res, 200, src.status());
      case '/version':
        return send(res, 200, src.version());
      case '/reload': {
        // Drain the (ignored) request body first so keep-alive stays usable.
        for await (const _ of req) void _;
        const r = await src.reload('admin');
        return send(res, r.result === 'error' ? 422 : 200, r);
      }
    }
  }
}

function fmtAddr(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function send(res: http.ServerResponse, code: number, body: unknown): void {
  sendText(res, code, JSON.stringify(body, null, 2) + '\n', 'application/json; charset=utf-8');
}

function sendText(res: http.ServerResponse, code: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.statusCode = code;
  res.setHeader('content-type', type);
  res.setHeader('content-length', Buffer.byteLength(body));
  res.setHeader('cache-control', 'no-store');
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
