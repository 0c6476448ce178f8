import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { BackendIR, CertificateIR, RoutingTable } from '@gatehouse/core';
import t from 'tap';
import { decodeFrame, encodeFrame, startEchoServer } from '../../src/echo-server.js';
import { DEFAULT_HTTP_ENGINE } from '../../src/fast/engine.js';
import { HttpsTerminator } from '../../src/listeners/https.js';
import { GatehouseRuntime, NoopTelemetry } from '../../src/runtime.js';
import { DefaultBackendResolver } from '../../src/upstream/resolver.js';
import { selfSigned } from '../helpers/certs.js';
import { backend, emptyStatus, freePort, freePorts, table } from '../helpers/ir.js';
import { grpcBackend } from '../helpers/upstream.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function get(port: number, servername: string, host: string, path = '/'): Promise<{ status: number; body: string; alpn: string | false | null; cert: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, path, servername, headers: { host }, rejectUnauthorized: false, agent: false },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => {
          const s = res.socket as tls.TLSSocket;
          resolve({ status: res.statusCode!, body, alpn: s.alpnProtocol ?? null, cert: (s.getPeerCertificate().subject?.CN as string) ?? '' });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function h2get(port: number, servername: string, authority: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const c = http2.connect(`https://127.0.0.1:${port}`, { servername, rejectUnauthorized: false });
    c.on('error', reject);
    const s = c.request({ ':path': path, ':authority': authority });
    let status = 0;
    let body = '';
    s.on('response', (h) => (status = Number(h[':status'])));
    s.on('data', (d) => (body += d));
    s.on('end', () => {
      c.close();
      resolve({ status, body });
    });
    s.on('error', reject);
  });
}

t.test('HTTPS termination: certificate by SNI, ALPN h2/http1.1, 421 and 404 (features.md §9.3)', async (t) => {
  const a = await startEchoServer({ name: 'a' });
  const b = await startEchoServer({ name: 'b' });
  const certs = [selfSigned('ns/default', ['example.org']), selfSigned('ns/second', ['second-example.org']), selfSigned('ns/wild', ['*.wildcard.org'])];
  const port = await freePort();
  const tbl = table(
    [
      {
        port,
        protocol: 'TLS',
        groups: [
          { hostname: 'second-example.org', certificate: 1, rules: [{ path: '/', refs: [{ backend: 1 }] }] },
          { hostname: '*.wildcard.org', certificate: 2, rules: [{ path: '/', refs: [{ backend: 1 }] }] },
          { hostname: null, certificate: 0, rules: [{ path: '/', hostname: 'example.org', refs: [{ backend: 0 }] }] },
        ],
      },
    ],
    [backend('a', [{ address: '127.0.0.1', port: a.port }]), backend('b', [{ address: '127.0.0.1', port: b.port }])],
    certs,
  );
  const ctx = { logger: quiet, telemetry: new NoopTelemetry(), resolver: new DefaultBackendResolver(), table: tbl, bindAddress: '127.0.0.1' };
  const term = new HttpsTerminator(tbl.ports[0], ctx);
  const server = net.createServer((s) => term.accept(s));
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  t.teardown(async () => {
    await term.close(100);
    await new Promise((r) => server.close(r));
    await a.close();
    await b.close();
  });

  let r = await get(port, 'second-example.org', 'second-example.org');
  t.equal(r.status, 200);
  t.equal(JSON.parse(r.body).pod, 'b');
  t.equal(r.cert, 'second-example.org', 'certificate chosen by SNI');
  t.not(r.alpn, 'h2', 'an HTTP/1.1 client (no ALPN) is served by the HTTP/1.1 fallback');
  r = await get(port, 'foo.wildcard.org', 'foo.wildcard.org');
  t.equal(r.cert, '*.wildcard.org', 'wildcard listener certificate');
  r = await get(port, 'example.org', 'example.org');
  t.equal(r.status, 200);
  t.equal(JSON.parse(r.body).pod, 'a');
  t.equal(r.cert, 'example.org', 'catch-all listener certificate');
  t.equal(JSON.parse(r.body).headers['X-Forwarded-Proto'][0], 'https');

  r = await get(port, 'example.org', 'second-example.org');
  t.equal(r.status, 421, 'Host of another listener than the SNI one → 421');
  r = await get(port, 'second-example.org', 'unknown-example.org');
  t.equal(r.status, 421, 'SNI second-example.org, Host unknown → 421');
  r = await get(port, 'example.org', 'unknown-example.org');
  t.equal(r.status, 404, 'same listener, no route → 404');

  let h = await h2get(port, 'example.org', 'second-example.org');
  t.equal(h.status, 421, 'h2: 421');
  h = await h2get(port, 'second-example.org', 'second-example.org', '/x?y');
  t.equal(h.status, 200, 'h2 via ALPN');
  t.equal(JSON.parse(h.body).path, '/x?y');
  h = await h2get(port, 'example.org', 'unknown-example.org');
  t.equal(h.status, 404);
});

t.test('HTTPS end to end through the Runtime (TLS port server → HttpsTerminator)', async (t) => {
  const a = await startEchoServer({ name: 'a' });
  const certs = [selfSigned('ns/default', ['example.org']), selfSigned('ns/second', ['second-example.org'])];
  const port = await freePort();
  const tbl = table(
    [
      {
        port,
        protocol: 'TLS',
        groups: [
          { hostname: 'second-example.org', certificate: 1, rules: [{ path: '/', refs: [{ backend: 0 }] }] },
          { hostname: null, certificate: 0, rules: [{ path: '/', refs: [{ backend: 0 }] }] },
        ],
      },
    ],
    [backend('a', [{ address: '127.0.0.1', port: a.port }])],
    certs,
  );
  const rt = new GatehouseRuntime({ bindAddress: '127.0.0.1', logger: quiet });
  t.teardown(async () => {
    await rt.close(100);
    await a.close();
  });
  const res = await rt.apply(tbl, emptyStatus);
  t.same(res.failed, []);
  const gw = rt.boundPorts().get(tbl.ports[0].key)!;
  let r = await get(gw, 'second-example.org', 'second-example.org', '/e2e');
  t.equal(r.status, 200);
  t.equal(r.cert, 'second-example.org');
  t.equal(JSON.parse(r.body).path, '/e2e');
  r = await get(gw, 'example.org', 'second-example.org');
  t.equal(r.status, 421);
  const h = await h2get(gw, 'example.org', 'example.org', '/h2');
  t.equal(h.status, 200);
  t.equal(JSON.parse(h.body).proto, 'HTTP/1.1', 'h2 downstream, HTTP/1.1 upstream');
});

t.test('HttpsTerminator.close drains: in-flight finishes, idle keep-alive closes early', async (t) => {
  const a = await startEchoServer({ name: 'a' });
  const certs = [selfSigned('ns/default', ['example.org'])];
  const port = await freePort();
  const tbl = table([{ port, protocol: 'TLS', groups: [{ hostname: null, certificate: 0, rules: [{ path: '/', refs: [{ backend: 0 }] }] }] }], [backend('a', [{ address: '127.0.0.1', port: a.port }])], certs);
  const ctx = { logger: quiet, telemetry: new NoopTelemetry(), resolver: new DefaultBackendResolver(), table: tbl, bindAddress: '127.0.0.1' };
  const term = new HttpsTerminator(tbl.ports[0], ctx);
  const server = net.createServer((s) => term.accept(s));
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  t.teardown(async () => {
    await new Promise((r) => server.close(r));
    await a.close();
  });
  const agent = new https.Agent({ keepAlive: true, rejectUnauthorized: false });
  const slow = new Promise<number>((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path: '/?delay=300ms', servername: 'example.org', headers: { host: 'example.org' }, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    }).on('error', reject);
  });
  await new Promise((r) => setTimeout(r, 100));
  const started = Date.now();
  await term.close(3000);
  t.equal(await slow, 200, 'the in-flight request finished');
  t.ok(Date.now() - started < 2000, 'close returned when the connection went idle');
  agent.destroy();
});

// ------------------------------------------------------------------ HTTP/1.1 over TLS, engine by engine

interface RawResponse {
  status: number;
  /** Header names in order, lower case. */
  names: string[];
  headers: Record<string, string>;
  body: string;
}

/**
 * A raw HTTP/1.1 client over one TLS connection (real loopback socket): requests are written as bytes,
 * responses (Content-Length framed) read in order, so keep-alive reuse and pipelining are visible.
 */
class TlsClient {
  readonly socket: tls.TLSSocket;
  #buf = Buffer.alloc(0);
  #wake: (() => void) | null = null;
  closed = false;
  closedAt = 0;

  private constructor(socket: tls.TLSSocket) {
    this.socket = socket;
    socket.on('data', (c: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, c]);
      this.#wake?.();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.closedAt = Date.now();
      this.#wake?.();
    });
  }

  static open(port: number, servername: string, alpn: string[] = ['http/1.1']): Promise<TlsClient> {
    return new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, servername, ALPNProtocols: alpn, rejectUnauthorized: false });
      s.once('error', reject);
      s.once('secureConnect', () => {
        s.removeListener('error', reject);
        resolve(new TlsClient(s));
      });
    });
  }

  get alpn(): string | false {
    return this.socket.alpnProtocol ?? false;
  }

  get cert(): string {
    return (this.socket.getPeerCertificate().subject?.CN as string) ?? '';
  }

  write(text: string): void {
    this.socket.write(text, 'latin1');
  }

  /** The next response, or null when the connection closed first (bounded by `ms`). */
  async next(ms = 3000): Promise<RawResponse | null> {
    const until = Date.now() + ms;
    for (;;) {
      const r = this.#take();
      if (r !== null) return r;
      if (this.closed || Date.now() > until) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, until - Date.now()));
        this.#wake = () => {
          clearTimeout(timer);
          this.#wake = null;
          resolve();
        };
      });
    }
  }

  /** Resolves when the server closed the connection (or after `ms`): whether it did. */
  async closedWithin(ms: number): Promise<boolean> {
    const until = Date.now() + ms;
    while (!this.closed && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }

  #take(): RawResponse | null {
    const end = this.#buf.indexOf('\r\n\r\n');
    if (end === -1) return null;
    const lines = this.#buf.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0])?.[1] ?? 0);
    const names: string[] = [];
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      const n = l.slice(0, i).toLowerCase();
      names.push(n);
      headers[n] = l.slice(i + 1).trim();
    }
    const len = Number(headers['content-length'] ?? 0);
    if (this.#buf.length < end + 4 + len) return null;
    const body = this.#buf.subarray(end + 4, end + 4 + len).toString();
    this.#buf = this.#buf.subarray(end + 4 + len);
    return { status, names, headers, body };
  }
}

const expectedEngine = process.env.GATEHOUSE_HTTP_ENGINE === 'node' ? 'node' : process.env.GATEHOUSE_HTTP_ENGINE === 'fast' ? 'fast' : DEFAULT_HTTP_ENGINE;

function plainGet(port: number, path: string, host: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    s.on('data', (c) => (buf += c.toString('latin1')));
    s.on('error', reject);
    s.on('end', () => {
      const end = buf.indexOf('\r\n\r\n');
      const lines = buf.slice(0, end).split('\r\n');
      const names = lines.slice(1).map((l) => l.slice(0, l.indexOf(':')).toLowerCase());
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
      resolve({ status: Number(lines[0].split(' ')[1]), names, headers, body: buf.slice(end + 4) });
    });
    s.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    // keep-alive on the plain port: close our side once the answer is in
    const poll = setInterval(() => {
      if (buf.includes('\r\n\r\n') && buf.length > buf.indexOf('\r\n\r\n') + 4) {
        clearInterval(poll);
        s.end();
      }
    }, 10);
    s.once('close', () => clearInterval(poll));
  });
}

/** A TLS port (example.org catch-all + second-example.org) and a plain HTTP port, both to `a`. */
function tlsTable(tlsPort: number, httpPort: number, certs: CertificateIR[], backends: BackendIR[], pod = 0): RoutingTable {
  return table(
    [
      {
        port: tlsPort,
        protocol: 'TLS',
        groups: [
          { hostname: 'second-example.org', certificate: 1, rules: [{ path: '/', refs: [{ backend: pod }] }] },
          { hostname: null, certificate: 0, rules: [{ path: '/ws', refs: [{ backend: 2 }] }, { path: '/', hostname: 'example.org', refs: [{ backend: pod }] }] },
        ],
      },
      { port: httpPort, groups: [{ rules: [{ path: '/', refs: [{ backend: pod }] }] }] },
    ],
    backends,
    certs,
  );
}

t.test('HTTP/1.1 over TLS on the selected engine: keep-alive, pipelining, X-Forwarded-Proto, 421, 400, h2 alongside, wss', async (t) => {
  const a = await startEchoServer({ name: 'a' });
  const b = await startEchoServer({ name: 'b' });
  const certs = [selfSigned('ns/default', ['example.org']), selfSigned('ns/second', ['second-example.org'])];
  const [tlsPort, httpPort] = await freePorts(2);
  const backends = [
    backend('a', [{ address: '127.0.0.1', port: a.port }]),
    backend('b', [{ address: '127.0.0.1', port: b.port }]),
    backend('ws', [{ address: '127.0.0.1', port: a.port }], 'ws'),
  ];
  const tbl = tlsTable(tlsPort, httpPort, certs, backends);
  const rt = new GatehouseRuntime({ bindAddress: '127.0.0.1', logger: quiet });
  const clients: TlsClient[] = [];
  t.teardown(async () => {
    for (const c of clients) c.socket.destroy();
    await rt.close(100);
    await a.close();
    await b.close();
  });
  t.same((await rt.apply(tbl, emptyStatus)).failed, []);
  t.equal(rt.httpEngine, expectedEngine, `the runtime runs the ${expectedEngine} engine`);
  const gw = rt.boundPorts().get(tbl.ports[0].key)!;
  const plain = rt.boundPorts().get(tbl.ports[1].key)!;

  // keep-alive reuse: two requests, one TLS connection
  const c = await TlsClient.open(gw, 'second-example.org');
  clients.push(c);
  t.equal(c.alpn, 'http/1.1', 'ALPN http/1.1 offered by the client → HTTP/1.1');
  t.equal(c.cert, 'second-example.org', 'certificate chosen by SNI');
  c.write('GET /one HTTP/1.1\r\nHost: second-example.org\r\n\r\n');
  let r = await c.next();
  t.equal(r?.status, 200);
  const echo = JSON.parse(r!.body);
  t.equal(echo.path, '/one');
  t.same(echo.headers['X-Forwarded-Proto'], ['https'], 'X-Forwarded-Proto: https at the backend');
  t.same(echo.headers['X-Forwarded-Host'], ['second-example.org']);
  t.equal(r?.headers.connection, 'keep-alive');
  if (rt.httpEngine === 'fast') {
    // the same engine answers HTTPS and plain HTTP: the same response head (node:http2's allowHTTP1
    // path, used by the node engine, sends no Keep-Alive header)
    const p = await plainGet(plain, '/one', 'x');
    t.same(r!.names, p.names, 'HTTPS and plain-HTTP responses have the same head (fast engine on both)');
    t.match(r!.headers['keep-alive'], /^timeout=\d+$/);
  }
  c.write('GET /two HTTP/1.1\r\nHost: second-example.org\r\n\r\n');
  r = await c.next();
  t.equal(r?.status, 200);
  t.equal(JSON.parse(r!.body).path, '/two', 'second request on the same TLS connection');
  t.notOk(c.closed, 'the connection stayed open');

  // pipelining over TLS: three requests in one write, answered in order
  c.write(['/p1', '/p2', '/p3'].map((p) => `GET ${p} HTTP/1.1\r\nHost: second-example.org\r\n\r\n`).join(''));
  const paths: string[] = [];
  for (let i = 0; i < 3; i++) {
    const x = await c.next();
    paths.push(x === null ? 'none' : `${x.status} ${JSON.parse(x.body).path}`);
  }
  t.same(paths, ['200 /p1', '200 /p2', '200 /p3'], 'pipelined requests answered in order');

  // 421: a Host of another listener than the SNI one, on the same connection
  c.write('GET / HTTP/1.1\r\nHost: example.org\r\n\r\n');
  r = await c.next();
  t.equal(r?.status, 421, 'SNI second-example.org, Host example.org → 421');
  // an absolute-form target naming https is the same authority as the Host
  c.write('GET https://second-example.org/abs HTTP/1.1\r\nHost: second-example.org\r\n\r\n');
  r = await c.next();
  t.equal(r?.status, 200);
  t.equal(JSON.parse(r!.body).path, '/abs');

  // no ALPN: HTTP/1.1 too
  const n = await TlsClient.open(gw, 'example.org', []);
  clients.push(n);
  t.equal(n.alpn, false, 'no ALPN');
  n.write('GET /noalpn HTTP/1.1\r\nHost: example.org\r\n\r\n');
  r = await n.next();
  t.equal(r?.status, 200);
  t.equal(JSON.parse(r!.body).pod, 'a');

  // a malformed request over TLS → 400 and the connection closes
  const m = await TlsClient.open(gw, 'example.org');
  clients.push(m);
  m.write('GET / HTTP/1.1\r\nHost: example.org\r\nBad Header\r\n\r\n');
  r = await m.next();
  t.equal(r?.status, 400, 'malformed header line → 400');
  t.equal(r?.headers.connection, 'close');
  t.ok(await m.closedWithin(2000), 'and the connection is closed');

  // h2 by ALPN on the same port, while HTTP/1.1 connections are open
  const h = await h2get(gw, 'example.org', 'example.org', '/h2');
  t.equal(h.status, 200, 'ALPN h2 is still served by node:http2');
  t.equal(JSON.parse(h.body).path, '/h2');
  t.equal((await h2get(gw, 'example.org', 'second-example.org')).status, 421, 'h2: 421');

  // WebSocket over TLS (wss): 101, frames both ways
  const w = await TlsClient.open(gw, 'example.org');
  clients.push(w);
  w.write('GET /ws HTTP/1.1\r\nHost: example.org\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  const frame = await new Promise<{ head: string; payload: string }>((resolve, reject) => {
    let buf = Buffer.alloc(0);
    let head = '';
    const timer = setTimeout(() => reject(new Error('no WebSocket answer')), 3000);
    w.socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (head === '') {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        head = buf.subarray(0, end).toString('latin1');
        buf = buf.subarray(end + 4);
        w.socket.write(encodeFrame(1, Buffer.from('over tls'), true));
      }
      const f = decodeFrame(buf);
      if (f !== null) {
        clearTimeout(timer);
        resolve({ head, payload: f.payload.toString() });
      }
    });
  });
  t.match(frame.head, /^HTTP\/1\.1 101/, 'wss: 101 Switching Protocols');
  t.equal(frame.payload, 'over tls', 'wss: a frame round-trips');
});

t.test('HTTPS reload: an open TLS keep-alive connection keeps serving, with the new table', async (t) => {
  const a = await startEchoServer({ name: 'a' });
  const b = await startEchoServer({ name: 'b' });
  const certs = [selfSigned('ns/default', ['example.org']), selfSigned('ns/second', ['second-example.org'])];
  const [tlsPort, httpPort] = await freePorts(2);
  const backends = [
    backend('a', [{ address: '127.0.0.1', port: a.port }]),
    backend('b', [{ address: '127.0.0.1', port: b.port }]),
    backend('ws', [{ address: '127.0.0.1', port: a.port }], 'ws'),
  ];
  const rt = new GatehouseRuntime({ bindAddress: '127.0.0.1', logger: quiet });
  let c: TlsClient | null = null;
  t.teardown(async () => {
    c?.socket.destroy();
    await rt.close(100);
    await a.close();
    await b.close();
  });
  const first = tlsTable(tlsPort, httpPort, certs, backends, 0);
  t.same((await rt.apply(first, emptyStatus)).failed, []);
  const gw = rt.boundPorts().get(first.ports[0].key)!;
  c = await TlsClient.open(gw, 'example.org');
  c.write('GET /before HTTP/1.1\r\nHost: example.org\r\n\r\n');
  let r = await c.next();
  t.equal(r === null ? 'none' : JSON.parse(r.body).pod, 'a', 'before the reload: a');

  const res = await rt.apply(tlsTable(tlsPort, httpPort, certs, backends, 1), emptyStatus);
  t.same(res.failed, []);
  t.ok(res.kept.includes(first.ports[0].key), 'the TLS port was kept');
  c.write('GET /after HTTP/1.1\r\nHost: example.org\r\n\r\n');
  r = await c.next();
  t.equal(r?.status, 200, 'the open TLS connection still serves after the reload');
  t.equal(r === null ? 'none' : JSON.parse(r.body).pod, 'b', 'with the new table');
  t.notOk(c.closed, 'and stays open');
  const d = await TlsClient.open(gw, 'example.org');
  d.write('GET /new HTTP/1.1\r\nHost: example.org\r\nConnection: close\r\n\r\n');
  r = await d.next();
  t.equal(r === null ? 'none' : JSON.parse(r.body).pod, 'b', 'a new connection: the new table');
  d.socket.destroy();
});

t.test('idle HTTP/1.1-over-TLS connections close after limits.idleTimeoutMs; a busy one does not', async (t) => {
  const a = await startEchoServer({ name: 'a' });
  const certs = [selfSigned('ns/default', ['example.org'])];
  const port = await freePort();
  const tbl = table([{ port, protocol: 'TLS', groups: [{ hostname: null, certificate: 0, rules: [{ path: '/', refs: [{ backend: 0 }] }] }] }], [backend('a', [{ address: '127.0.0.1', port: a.port }])], certs);
  const rt = new GatehouseRuntime({ bindAddress: '127.0.0.1', logger: quiet, limits: { idleTimeoutMs: 1500 } });
  const clients: TlsClient[] = [];
  t.teardown(async () => {
    for (const c of clients) c.socket.destroy();
    await rt.close(100);
    await a.close();
  });
  t.same((await rt.apply(tbl, emptyStatus)).failed, []);
  const gw = rt.boundPorts().get(tbl.ports[0].key)!;

  const used = await TlsClient.open(gw, 'example.org');
  const silent = await TlsClient.open(gw, 'example.org');
  const busy = await TlsClient.open(gw, 'example.org');
  clients.push(used, silent, busy);
  used.write('GET / HTTP/1.1\r\nHost: example.org\r\n\r\n');
  t.equal((await used.next())?.status, 200);
  // a request whose answer takes longer than the idle limit is not cut
  busy.write('GET /?delay=1800ms HTTP/1.1\r\nHost: example.org\r\n\r\n');
  // the fast engine checks idleness once a second: a connection may close up to 1 s early or late
  t.notOk(await used.closedWithin(300), 'a keep-alive TLS connection is not closed long before the limit');
  t.ok(await used.closedWithin(3500), 'a keep-alive TLS connection idle past the limit is closed');
  t.ok(await silent.closedWithin(1500), 'a TLS connection that never sent a request is closed too');
  const slow = await busy.next(4000);
  t.equal(slow?.status, 200, 'the slow request was answered');
});

t.test('HTTPS drain (Runtime.close): an idle TLS keep-alive connection closes at once, a busy one finishes first', async (t) => {
  const a = await startEchoServer({ name: 'a' });
  const certs = [selfSigned('ns/default', ['example.org'])];
  const port = await freePort();
  const tbl = table([{ port, protocol: 'TLS', groups: [{ hostname: null, certificate: 0, rules: [{ path: '/', refs: [{ backend: 0 }] }] }] }], [backend('a', [{ address: '127.0.0.1', port: a.port }])], certs);
  const rt = new GatehouseRuntime({ bindAddress: '127.0.0.1', logger: quiet });
  const clients: TlsClient[] = [];
  t.teardown(async () => {
    for (const c of clients) c.socket.destroy();
    await a.close();
  });
  t.same((await rt.apply(tbl, emptyStatus)).failed, []);
  const gw = rt.boundPorts().get(tbl.ports[0].key)!;
  const idle = await TlsClient.open(gw, 'example.org');
  const busy = await TlsClient.open(gw, 'example.org');
  clients.push(idle, busy);
  idle.write('GET / HTTP/1.1\r\nHost: example.org\r\n\r\n');
  t.equal((await idle.next())?.status, 200);
  busy.write('GET /?delay=600ms HTTP/1.1\r\nHost: example.org\r\n\r\n');
  await new Promise((r) => setTimeout(r, 100));
  const started = Date.now();
  const closing = rt.close(5000);
  t.ok(await idle.closedWithin(400), 'the idle keep-alive connection is closed at once');
  const r = await busy.next(3000);
  t.equal(r?.status, 200, 'the request in flight is answered');
  t.equal(r?.headers.connection, 'close', 'with Connection: close');
  await closing;
  t.ok(Date.now() - started < 2500, `close returned once the busy connection finished (${Date.now() - started} ms)`);
  t.ok(await busy.closedWithin(500), 'and that connection is closed');
});

t.test('gRPC over HTTPS (ALPN h2, h2c backend) next to HTTP/1.1 over TLS on the same port', async (t) => {
  const g = await grpcBackend();
  const a = await startEchoServer({ name: 'a' });
  const certs = [selfSigned('ns/default', ['example.org'])];
  const port = await freePort();
  const tbl = table(
    [
      {
        port,
        protocol: 'TLS',
        groups: [
          {
            hostname: null,
            certificate: 0,
            rules: [
              { path: '/svc.Echo/', grpc: true, kind: 'GRPCRoute', refs: [{ backend: 0 }] },
              { path: '/', refs: [{ backend: 1 }] },
            ],
          },
        ],
      },
    ],
    [backend('grpc', [{ address: '127.0.0.1', port: g.port }], 'h2c'), backend('a', [{ address: '127.0.0.1', port: a.port }])],
    certs,
  );
  const rt = new GatehouseRuntime({ bindAddress: '127.0.0.1', logger: quiet });
  let c: TlsClient | null = null;
  t.teardown(async () => {
    c?.socket.destroy();
    await rt.close(100);
    await a.close();
    await g.close();
  });
  t.same((await rt.apply(tbl, emptyStatus)).failed, []);
  const gw = rt.boundPorts().get(tbl.ports[0].key)!;
  const session = http2.connect(`https://127.0.0.1:${gw}`, { servername: 'example.org', rejectUnauthorized: false });
  session.on('error', () => undefined);
  const msg = Buffer.from([0, 0, 0, 0, 3, 1, 2, 3]);
  const res = await new Promise<{ status: number; trailers: http2.IncomingHttpHeaders | null; body: Buffer }>((resolve, reject) => {
    const s = session.request({ ':method': 'POST', ':path': '/svc.Echo/Echo', ':authority': 'example.org', 'content-type': 'application/grpc', te: 'trailers' });
    let status = 0;
    let trailers: http2.IncomingHttpHeaders | null = null;
    const chunks: Buffer[] = [];
    s.on('response', (h) => (status = Number(h[':status'])));
    s.on('trailers', (h) => (trailers = h));
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('end', () => resolve({ status, trailers, body: Buffer.concat(chunks) }));
    s.on('error', reject);
    s.end(msg);
  });
  session.close();
  t.equal(res.status, 200, 'gRPC over h2 (TLS)');
  t.same(res.body, msg, 'message echoed');
  t.equal(res.trailers?.['grpc-status'], '0', 'grpc-status trailer');
  c = await TlsClient.open(gw, 'example.org');
  c.write('GET /h1 HTTP/1.1\r\nHost: example.org\r\n\r\n');
  const r = await c.next();
  t.equal(r?.status, 200, 'HTTP/1.1 over TLS on the same port');
  t.equal(JSON.parse(r!.body).headers['X-Forwarded-Proto'][0], 'https');
});

t.test('a reload during the TLS handshake that moves the port to node:http still serves the connection', async (t) => {
  // the engine is chosen when the connection is accepted and checked again after the handshake: a port
  // whose new rules use an h2c backend is served by node:http (allowHTTP1) from then on
  const a = await startEchoServer({ name: 'a' });
  const certs = [selfSigned('ns/default', ['example.org'])];
  const port = await freePort();
  const mk = (protocol: BackendIR['protocol']): RoutingTable =>
    table(
      [{ port, protocol: 'TLS', groups: [{ hostname: null, certificate: 0, rules: [{ path: '/', refs: [{ backend: 0 }] }] }] }],
      [backend('a', [{ address: '127.0.0.1', port: a.port }], protocol)],
      certs,
    );
  const first = mk('http1');
  const ctx = { logger: quiet, telemetry: new NoopTelemetry(), resolver: new DefaultBackendResolver(), table: first, bindAddress: '127.0.0.1' };
  const term = new HttpsTerminator(first.ports[0], ctx);
  let accepted: () => void = () => undefined;
  const wasAccepted = new Promise<void>((r) => (accepted = r));
  const server = net.createServer((s) => {
    term.accept(s);
    accepted();
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  const raw = net.connect(port, '127.0.0.1');
  t.teardown(async () => {
    raw.destroy();
    await term.close(100);
    await new Promise((r) => server.close(r));
    await a.close();
  });
  await wasAccepted;
  // an h2c backend (the echo server speaks h2c too): only the node engine forwards to it
  const second = mk('h2c');
  term.update(second.ports[0], { ...ctx, table: second });
  const s = tls.connect({ socket: raw, servername: 'example.org', ALPNProtocols: ['http/1.1'], rejectUnauthorized: false });
  s.on('error', () => undefined);
  await new Promise<void>((r) => s.once('secureConnect', () => r()));
  s.write('GET / HTTP/1.1\r\nHost: example.org\r\nConnection: close\r\n\r\n');
  const head = await new Promise<string>((resolve) => {
    let buf = '';
    const timer = setTimeout(() => resolve(buf), 3000);
    s.on('data', (d: Buffer) => (buf += d.toString('latin1')));
    s.on('close', () => {
      clearTimeout(timer);
      resolve(buf);
    });
  });
  t.match(head, /^HTTP\/1\.1 200 /, `the connection was answered by node:http (${head.split('\r\n')[0]})`);
});
