/** Configurable limits (limits.ts): each refused with its status and the connection closed, nothing forwarded. */
import http from 'node:http';
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
  const bStart = Date.now();
  const b = await rawRequest(gw.port, `POST / HTTP/1.1\r\n${H}Content-Length: 100\r\n\r\nabc`, 4000);
  t.equal(b.status, 408, `a request whose body never finishes: 408 (docs/reliability.md §2) (${b.statusLine})`);
  t.ok(b.closed, 'a request whose body never finishes is cut');
  t.ok(Date.now() - bStart >= 500 && Date.now() - bStart < 3000, `cut after the request timeout (${Date.now() - bStart} ms)`);
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

t.test('h2: N+1 concurrent streams with the limit N: at most N reach the backend at once, the extra one waits', async (t) => {
  // A backend that holds every request until released, counting how many it holds at once.
  const N = 3;
  let held: http.ServerResponse[] = [];
  let peak = 0;
  let arrived = 0;
  const be = http.createServer((req, res) => {
    arrived++;
    held.push(res);
    peak = Math.max(peak, held.length);
    req.resume();
  });
  await new Promise<void>((r) => be.listen(0, '127.0.0.1', () => r()));
  const bePort = (be.address() as net.AddressInfo).port;
  const gw = await gatewayInFront(t, { port: bePort, close: () => new Promise<void>((r) => { be.closeAllConnections(); be.close(() => r()); }) }, { limits: { maxConcurrentStreams: N } });
  const session = http2.connect(`http://127.0.0.1:${gw.port}`);
  session.on('error', () => undefined);
  t.teardown(() => session.destroy());
  await new Promise((r) => session.once('remoteSettings', r));
  t.equal(session.remoteSettings.maxConcurrentStreams, N, 'SETTINGS_MAX_CONCURRENT_STREAMS advertised');
  // node's client (nghttp2) holds a stream over the peer's limit until one closes: the user sees the
  // extra request wait, never more than N at the backend, then every request answered.
  const results = Array.from({ length: N + 1 }, (_, i) =>
    new Promise<number | string>((resolve) => {
      const st = session.request({ ':path': `/s${i}`, ':authority': 'example.com' });
      st.on('response', (h) => resolve(Number(h[':status'])));
      st.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      st.on('close', () => resolve(`closed rst=${st.rstCode}`));
      st.resume();
    }),
  );
  t.ok(await eventually(() => arrived >= N, 3000), `${N} requests reached the backend (${arrived})`);
  await new Promise((r) => setTimeout(r, 300)); // room for a wrongly admitted extra stream to arrive
  t.equal(arrived, N, `the stream over the limit is not forwarded while ${N} are open (${arrived} arrived)`);
  // release one: the waiting stream goes through
  held.shift()!.end('ok');
  t.ok(await eventually(() => arrived === N + 1, 3000), `after one stream closed the extra one reached the backend (${arrived})`);
  for (const res of held) res.end('ok');
  held = [];
  const statuses = await Promise.all(results);
  t.same(statuses, Array.from({ length: N + 1 }, () => 200), 'all N+1 requests answered 200');
  t.equal(peak, N, `at most ${N} requests at the backend at once (peak ${peak})`);
});

/** One HTTP/2 frame (RFC 9113 §4.1). */
function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream, 5);
  return Buffer.concat([h, payload]);
}

/** A GET header block in HPACK without Huffman or the dynamic table (literal without indexing). */
function getHeaders(path: string): Buffer {
  const lit = (nameIndex: number, v: string) => Buffer.concat([Buffer.from([nameIndex, v.length]), Buffer.from(v, 'latin1')]);
  return Buffer.concat([Buffer.from([0x82, 0x86]), lit(0x04, path), lit(0x01, 'example.com')]);
}

/** A raw h2c connection to `port`: the frames received, in order, and whether the socket closed. */
async function rawH2(t: Test, port: number) {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => undefined);
  t.teardown(() => s.destroy());
  const frames: { type: number; flags: number; stream: number; payload: Buffer }[] = [];
  let closed = false;
  s.once('close', () => (closed = true));
  let buf = Buffer.alloc(0);
  s.on('data', (c: Buffer) => {
    buf = Buffer.concat([buf, c]);
    while (buf.length >= 9) {
      const len = buf.readUIntBE(0, 3);
      if (buf.length < 9 + len) break;
      frames.push({ type: buf[3], flags: buf[4], stream: buf.readUInt32BE(5) & 0x7fffffff, payload: buf.subarray(9, 9 + len) });
      buf = buf.subarray(9 + len);
    }
  });
  await new Promise((r) => s.once('connect', r));
  s.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), frame(4, 0, 0)]));
  t.ok(await eventually(() => frames.some((f) => f.type === 4 && (f.flags & 1) === 0), 2000), 'server SETTINGS received');
  const settings = frames.find((f) => f.type === 4 && (f.flags & 1) === 0)!.payload;
  let maxStreams = -1;
  for (let i = 0; i + 6 <= settings.length; i += 6) if (settings.readUInt16BE(i) === 3) maxStreams = settings.readUInt32BE(i + 2);
  return { s, frames, maxStreams, closed: () => closed };
}

/** A backend that holds every request until `release()`, counting arrivals. */
async function holdingBackend(): Promise<{ port: number; arrived: () => number; release: () => void; close: () => Promise<void> }> {
  let arrived = 0;
  const held: http.ServerResponse[] = [];
  const be = http.createServer((req, res) => {
    arrived++;
    held.push(res);
    req.resume();
  });
  await new Promise<void>((r) => be.listen(0, '127.0.0.1', () => r()));
  return {
    port: (be.address() as net.AddressInfo).port,
    arrived: () => arrived,
    release: () => {
      for (const res of held.splice(0)) res.end('ok');
    },
    close: () =>
      new Promise<void>((r) => {
        be.closeAllConnections();
        be.close(() => r());
      }),
  };
}

const rstCodes = (frames: { type: number; stream: number; payload: Buffer }[]) => JSON.stringify(frames.filter((f) => f.type === 3 || f.type === 7).map((f) => [f.type === 3 ? 'RST' : 'GOAWAY', f.stream, f.payload.readUInt32BE(0) & 0x7fffffff, f.payload.length >= 8 ? f.payload.readUInt32BE(4) : null]));

t.test('h2: a client that ignores the limit never gets more than N streams to the backend', async (t) => {
  const N = 2;
  const streams = Array.from({ length: N + 1 }, (_, i) => 2 * i + 1);
  const extra = streams[N];

  t.test('streams opened before the SETTINGS ACK: the extra one gets RST_STREAM REFUSED_STREAM, the others are served', async (t) => {
    const be = await holdingBackend();
    const gw = await gatewayInFront(t, be, { limits: { maxConcurrentStreams: N } });
    const c = await rawH2(t, gw.port);
    t.equal(c.maxStreams, N, 'SETTINGS_MAX_CONCURRENT_STREAMS = N');
    c.s.write(Buffer.concat(streams.map((id) => frame(1, 0x5, id, getHeaders(`/raw${id}`)))));
    const refused = () => c.frames.some((f) => f.type === 3 && f.stream === extra && f.payload.readUInt32BE(0) === 0x7);
    t.ok(await eventually(refused, 2000), `stream ${extra}: RST_STREAM REFUSED_STREAM (${rstCodes(c.frames)})`);
    t.ok(await eventually(() => be.arrived() === N, 2000), `the ${N} streams within the limit reached the backend (${be.arrived()})`);
    await new Promise((r) => setTimeout(r, 200));
    t.equal(be.arrived(), N, 'the refused stream never did');
    be.release();
    t.ok(await eventually(() => streams.slice(0, N).every((id) => c.frames.some((f) => f.type === 1 && f.stream === id)), 2000), 'the streams within the limit got their responses');
    t.notOk(c.frames.some((f) => f.type === 1 && f.stream === extra), `no response on the refused stream ${extra}`);
  });

  t.test('streams opened after the SETTINGS ACK: a connection error (RFC 9113 §5.1.2), nothing over the limit forwarded', async (t) => {
    const be = await holdingBackend();
    const gw = await gatewayInFront(t, be, { limits: { maxConcurrentStreams: N } });
    const c = await rawH2(t, gw.port);
    c.s.write(Buffer.concat([frame(4, 1, 0), ...streams.map((id) => frame(1, 0x5, id, getHeaders(`/raw${id}`)))]));
    const ended = () => c.closed() || c.frames.some((f) => f.type === 7) || c.frames.some((f) => f.type === 3 && f.stream === extra);
    t.ok(await eventually(ended, 2000), `refused: the connection closed, GOAWAY or RST_STREAM on ${extra} (${rstCodes(c.frames)}, closed ${c.closed()})`);
    await new Promise((r) => setTimeout(r, 300));
    t.ok(be.arrived() <= N, `at most ${N} requests reached the backend (${be.arrived()})`);
    be.release();
    t.notOk(c.frames.some((f) => f.type === 1 && f.stream === extra), `no response on stream ${extra}`);
  });
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
