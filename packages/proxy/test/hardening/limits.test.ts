/** Configurable limits (limits.ts): each refused with its status and the connection closed, nothing forwarded. */
import http2 from 'node:http2';
import net from 'node:net';
import t, { type Test } from 'tap';
import { backend, freePort, table } from '../helpers/ir.js';
import { eventually, gatewayInFront, rawRequest, recordingBackend, startGateway, type GatewayUnderTest } from './harness.js';

const H = 'Host: example.com\r\n';

/** A gateway with `limits` in front of a recording backend (one route, `/`), both closed at the end. */
async function limited(t: Test, limits: Record<string, number>): Promise<{ gw: GatewayUnderTest; be: Awaited<ReturnType<typeof recordingBackend>> }> {
  const be = await recordingBackend();
  return { gw: await gatewayInFront(t, be, { limits }, 'rec'), be };
}

t.test('header size, header count, URI length, body size', async (t) => {
  const { gw, be } = await limited(t, { maxHeaderBytes: 4096, maxHeaderCount: 10, maxUriBytes: 100, maxBodyBytes: 10 });
  const cases: [string, string | string[], number][] = [
    ['header bytes', `GET / HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(5000)}\r\n\r\n`, 431],
    ['header count', `GET / HTTP/1.1\r\n${H}${Array.from({ length: 11 }, (_, i) => `X-H${i}: v\r\n`).join('')}\r\n`, 431],
    ['URI length', `GET /${'a'.repeat(150)} HTTP/1.1\r\n${H}\r\n`, 414],
    ['Content-Length over the body limit', `POST / HTTP/1.1\r\n${H}Content-Length: 20\r\n\r\n${'b'.repeat(20)}`, 413],
    ['chunked body over the limit', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n14\r\n${'b'.repeat(20)}\r\n0\r\n\r\n`, 413],
    ['chunked body over the limit, in pieces', [`POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n`, `8\r\n${'b'.repeat(8)}\r\n`, `8\r\n${'b'.repeat(8)}\r\n`, '0\r\n\r\n'], 413],
  ];
  for (const [name, bytes, status] of cases) {
    const a = await rawRequest(gw.port, bytes, 2000, 50);
    t.equal(a.status, status, `${name}: ${status} (${a.statusLine})`);
    t.ok(a.closed, `${name}: closed`);
  }
  const seen = be.requests.filter((r) => r.body.length > 10 || r.url.length > 100);
  t.equal(seen.length, 0, 'no over-limit request completed at the backend');
  // within the limits: forwarded
  const ok = await rawRequest(gw.port, `POST /ok HTTP/1.1\r\n${H}Content-Length: 10\r\nConnection: close\r\n\r\n${'c'.repeat(10)}`);
  t.equal(ok.status, 200);
  const ok2 = await rawRequest(gw.port, `POST /ok HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n`);
  t.equal(ok2.status, 200);
  t.equal(be.requests.at(-1)?.body, 'hello');
  t.ok(gw.records.some((r) => r.error === 'body_too_large' && r.status === 413), 'recorded as body_too_large');
});

t.test('slow clients: headers timeout (slowloris) → 408 and closed; idle keep-alive closed', async (t) => {
  const { gw, be } = await limited(t, { headersTimeoutMs: 300, requestTimeoutMs: 600, idleTimeoutMs: 300 });
  // a head trickled one header line at a time, never finished
  const start = Date.now();
  const parts = [`GET / HTTP/1.1\r\n`, ...Array.from({ length: 40 }, (_, i) => `X-Slow-${i}: v\r\n`)];
  const a = await rawRequest(gw.port, parts, 4000, 100);
  t.equal(a.status, 408, a.statusLine);
  t.ok(a.closed);
  t.ok(Date.now() - start < 2500, `cut within the timeout + the 1 s sweep (${Date.now() - start} ms)`);
  // a body that never finishes: request timeout
  const b = await rawRequest(gw.port, `POST / HTTP/1.1\r\n${H}Content-Length: 100\r\n\r\nabc`, 4000);
  t.ok(b.closed, 'a request whose body never finishes is cut');
  // idle keep-alive
  const s = net.connect(gw.port, '127.0.0.1');
  await new Promise((r) => s.once('connect', r));
  s.write(`GET / HTTP/1.1\r\n${H}\r\n`);
  let answeredAt = 0;
  s.on('data', () => (answeredAt ||= Date.now()));
  const closedAt = await new Promise<number>((r) => s.once('close', () => r(Date.now())));
  t.ok(answeredAt >= start, 'the keep-alive request was answered');
  const idle = closedAt - answeredAt;
  t.ok(idle >= 250 && idle < 2500, `idle keep-alive closed by the gateway after the idle timeout (${idle} ms; + the 1 s sweep)`);
  t.equal(be.requests.filter((r) => r.method === 'POST').length, 0, 'the unfinished POST never completed upstream');
});

t.test('a connection that never sends a byte is closed after the headers timeout', async (t) => {
  const { gw, be } = await limited(t, { headersTimeoutMs: 300, requestTimeoutMs: 600, idleTimeoutMs: 60_000 });
  const s = net.connect(gw.port, '127.0.0.1');
  await new Promise((r) => s.once('connect', r));
  const start = Date.now();
  const closedAfter = await new Promise<number>((r) => {
    const timer = setTimeout(() => r(-1), 5000);
    s.once('close', () => {
      clearTimeout(timer);
      r(Date.now() - start);
    });
    s.on('error', () => undefined);
  });
  t.ok(closedAfter >= 250, `not before the headers timeout (${closedAfter} ms)`);
  t.ok(closedAfter > 0 && closedAfter < 2500, `closed within the timeout + the 1 s sweep (${closedAfter} ms)`);
  t.equal(be.requests.length, 0, 'nothing reached the backend');
});

t.test('max connections per listener', async (t) => {
  const be = await recordingBackend();
  const port = await freePort();
  const tbl = table([{ port, groups: [{ rules: [{ path: '/', refs: [{ backend: 0 }] }] }] }], [backend('rec', [{ address: '127.0.0.1', port: be.port }])]);
  const gw = await startGateway(tbl, { limits: { maxConnections: 3 } });
  const held: net.Socket[] = [];
  t.teardown(async () => {
    for (const s of held) s.destroy();
    await gw.close();
    await be.close();
  });
  for (let i = 0; i < 3; i++) {
    const s = net.connect(gw.port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    held.push(s);
  }
  await new Promise((r) => setTimeout(r, 50));
  const extra = await rawRequest(gw.port, `GET / HTTP/1.1\r\n${H}\r\n`, 1000);
  t.ok(extra.closed && extra.status === 0, 'the 4th connection is closed without an answer');
  held.pop()!.destroy();
  await new Promise((r) => setTimeout(r, 50));
  const again = await rawRequest(gw.port, `GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, 1000);
  t.equal(again.status, 200, 'below the limit again: served');
  t.ok(gw.logs.some((l) => l.msg.startsWith('connection refused: max connections')), 'logged');
});

t.test('h2: max concurrent streams advertised', async (t) => {
  const { gw, be } = await limited(t, { maxConcurrentStreams: 7 });
  const session = http2.connect(`http://127.0.0.1:${gw.port}`);
  await new Promise((r) => session.once('remoteSettings', r));
  t.equal(session.remoteSettings.maxConcurrentStreams, 7);
  const st = session.request({ ':path': '/h2', ':authority': 'example.com' });
  const status = await new Promise<number>((r) => st.once('response', (h) => r(Number(h[':status']))));
  st.resume();
  t.equal(status, 200);
  session.destroy();
  t.ok(await eventually(() => be.requests.some((r) => r.url === '/h2')));
});

t.test('h2: an idle session gets GOAWAY after the idle timeout', async (t) => {
  const { gw } = await limited(t, { idleTimeoutMs: 300 });
  const session = http2.connect(`http://127.0.0.1:${gw.port}`);
  session.on('error', () => undefined);
  const st = session.request({ ':path': '/h2', ':authority': 'example.com' });
  st.resume();
  await new Promise((r) => st.once('close', r));
  const start = Date.now();
  const got = await Promise.race([
    new Promise<string>((r) => session.once('goaway', () => r('goaway'))),
    new Promise<string>((r) => session.once('close', () => r('close'))),
    new Promise<string>((r) => setTimeout(() => r('none'), 3000)),
  ]);
  t.not(got, 'none', `idle session ended (${got})`);
  t.ok(Date.now() - start < 2000);
  session.destroy();
});
