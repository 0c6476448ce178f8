import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import t from 'tap';
import { startEchoServer } from '../../src/echo-server.js';
import { HttpsTerminator } from '../../src/listeners/https.js';
import { GatehouseRuntime, NoopTelemetry } from '../../src/runtime.js';
import { DefaultBackendResolver } from '../../src/upstream/resolver.js';
import { selfSigned } from '../helpers/certs.js';
import { backend, emptyStatus, freePort, table } from '../helpers/ir.js';

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
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
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
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
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
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
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
