/**
 * Engine-independent harness for the hardening, fault and soak tests: a gateway is started from a
 * RoutingTable (or Gateway API YAML) by a `GatewayFactory` and the tests only ever see its port, so the
 * same tables run against every HTTP/1.1 engine. `GATEHOUSE_HTTP_ENGINE` (`node` | `fast`, as for
 * `gatehouse run`) picks the factory, default the proxy's own (`fast`).
 */
import http from 'node:http';
import net from 'node:net';
import type { RoutingTable } from '@gatehouse/core';
import { GatehouseRuntime, type RuntimeOptions } from '../../src/runtime.js';
import { DEFAULT_HTTP_ENGINE } from '../../src/fast/engine.js';
import type { RequestRecord } from '../../src/api.js';
import type { Test } from 'tap';
import { backend, emptyStatus, freePort, table } from '../helpers/ir.js';
import { compileYaml } from '../helpers/yaml.js';

export interface GatewayUnderTest {
  port: number;
  rt: GatehouseRuntime;
  /** Finished requests (RequestRecord), in order. */
  records: RequestRecord[];
  /** onBackendError calls as `backend:reason`. */
  backendErrors: string[];
  logs: { level: string; msg: string; fields?: Record<string, unknown> }[];
  close(): Promise<void>;
}

export type GatewayFactory = (t: RoutingTable, opts?: RuntimeOptions) => Promise<GatewayUnderTest>;

/** A Runtime on loopback with recording telemetry and logger (the engine comes from `opts.httpEngine`). */
export const runtimeGateway: GatewayFactory = async (t, opts = {}) => {
  const records: RequestRecord[] = [];
  const backendErrors: string[] = [];
  const logs: GatewayUnderTest['logs'] = [];
  const log = (level: string) => (msg: string, fields?: Record<string, unknown>) => void logs.push({ level, msg, fields });
  const rt = new GatehouseRuntime({
    bindAddress: '127.0.0.1',
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    telemetry: {
      prepare() {},
      onRequest: (r) => void records.push(r),
      onL4() {},
      onConnection() {},
      onBackendError: (b, reason) => void backendErrors.push(`${b}:${reason}`),
      onUdpDatagram() {},
    },
    ...opts,
  });
  const r = await rt.apply(t, emptyStatus);
  if (r.failed.length > 0) throw new Error('bind failed: ' + JSON.stringify(r.failed));
  return { port: rt.boundPorts().get(t.ports[0].key)!, rt, records, backendErrors, logs, close: () => rt.close(100) };
};

export const ENGINES: Record<string, GatewayFactory> = {
  node: (t, opts) => runtimeGateway(t, { ...opts, httpEngine: 'node' }),
  fast: (t, opts) => runtimeGateway(t, { ...opts, httpEngine: 'fast' }),
};

/** The engine under test (`GATEHOUSE_HTTP_ENGINE`, else the proxy's default, DEFAULT_HTTP_ENGINE). */
export function startGateway(t: RoutingTable, opts?: RuntimeOptions): Promise<GatewayUnderTest> {
  const name = process.env.GATEHOUSE_HTTP_ENGINE ?? DEFAULT_HTTP_ENGINE;
  const f = ENGINES[name];
  if (f === undefined) throw new Error(`unknown GATEHOUSE_HTTP_ENGINE ${name}`);
  return f(t, opts);
}

/** Same from Gateway API YAML (compiled as the cli does). */
/**
 * The engine under test on a free port with one route, `/` → `be` (backend id `name`); the gateway and
 * the backend are closed when `t` ends.
 */
export async function gatewayInFront(t: Test, be: { port: number; close(): Promise<void> }, opts?: RuntimeOptions, name = 'be'): Promise<GatewayUnderTest> {
  const port = await freePort();
  const tbl = table([{ port, groups: [{ rules: [{ path: '/', refs: [{ backend: 0 }] }] }] }], [backend(name, [{ address: '127.0.0.1', port: be.port }])]);
  const gw = await startGateway(tbl, opts);
  t.teardown(async () => {
    await gw.close();
    await be.close();
  });
  return gw;
}

export function startGatewayYaml(yaml: string, opts?: RuntimeOptions): Promise<GatewayUnderTest> {
  const c = compileYaml(yaml);
  if (c.decodeErrors.length > 0) throw new Error(c.decodeErrors.join('\n'));
  return startGateway(c.table, opts);
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

/**
 * A recording HTTP/1.1 backend: counts connections and bytes at the TCP level (so even a partial head
 * is seen) and records every parsed request. Answers `200 {"path":...}` or what `handler` says.
 */
export async function recordingBackend(handler?: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void): Promise<{
  port: number;
  connections: () => number;
  bytes: () => number;
  requests: SeenRequest[];
  close: () => Promise<void>;
}> {
  const requests: SeenRequest[] = [];
  let connections = 0;
  let bytes = 0;
  const sockets = new Set<net.Socket>();
  const h = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined);
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('latin1');
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, body });
      if (handler) return handler(req, res, body);
      const out = JSON.stringify({ path: req.url, method: req.method, body });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
  const server = net.createServer((s) => {
    connections++;
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('data', (c: Buffer) => (bytes += c.length));
    h.emit('connection', s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => connections,
    bytes: () => bytes,
    requests,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

export interface RawAnswer {
  /** Everything the gateway sent (latin1). */
  text: string;
  /** First line (`HTTP/1.1 400 Bad Request`), '' when nothing came. */
  statusLine: string;
  status: number;
  /** The gateway closed (FIN or reset) within the wait. */
  closed: boolean;
  reset: boolean;
}

/**
 * Raw bytes to the gateway over a fresh `net` socket (optionally in several writes, `gapMs` apart);
 * reads until the gateway closes or `waitMs` passes.
 */
export function rawRequest(port: number, data: string | Buffer | (string | Buffer)[], waitMs = 1500, gapMs = 20): Promise<RawAnswer> {
  const parts = Array.isArray(data) ? data : [data];
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closed = false;
    let reset = false;
    let settled = false;
    const done = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const statusLine = text.split('\r\n', 1)[0] ?? '';
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
      resolve({ text, statusLine, status: m ? Number(m[1]) : 0, closed, reset });
    };
    const timer = setTimeout(done, waitMs);
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => {
      closed = true;
      done();
    });
    s.on('close', () => {
      closed = true;
      done();
    });
    s.on('error', () => {
      reset = true;
      closed = true;
      done();
    });
    s.on('connect', async () => {
      for (let i = 0; i < parts.length; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, gapMs));
        if (s.destroyed) return;
        s.write(parts[i]);
      }
    });
  });
}

/** Poll `cond` every 10 ms up to `ms`. */
export async function eventually(cond: () => boolean, ms = 2000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return cond();
}
