/**
 * Backend faults against real loopback servers misbehaving on purpose: each answers the documented
 * status (docs/reliability.md), logs a line, calls onBackendError(backend, reason), never crashes and
 * leaves no socket or pool request behind.
 */
import http from 'node:http';
import http2 from 'node:http2';
import t, { type Test } from 'tap';
import { backend, freePort, refusedPort, table } from '../helpers/ir.js';
import { eventually, rawRequest, startGateway, type GatewayUnderTest } from '../hardening/harness.js';
import { hangingPort, poolStats, rawBackend, tcpHandles } from './helpers.js';

const GET = 'GET /x HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n';

async function single(t: Test, bePort: number, rule: { backendRequestMs?: number } = {}, limits = {}): Promise<GatewayUnderTest> {
  const port = await freePort();
  const tbl = table([{ port, groups: [{ rules: [{ path: '/', refs: [{ backend: 0 }], ...rule }] }] }], [backend('be', [{ address: '127.0.0.1', port: bePort }])]);
  const gw = await startGateway(tbl, { limits });
  t.teardown(() => gw.close());
  return gw;
}

async function noLeaks(t: Test, gw: GatewayUnderTest, handlesBefore: number): Promise<void> {
  t.ok(await eventually(() => poolStats(gw).running === 0 && poolStats(gw).pending === 0), 'no upstream request left in the pools');
  t.ok(await eventually(() => tcpHandles() <= handlesBefore + 2), `sockets released (${tcpHandles()} vs ${handlesBefore})`);
  t.equal(gw.rt.engine.inFlight, 0, 'no exchange left in flight');
}

t.test('connection refused → 502 connect_refused', async (t) => {
  const gw = await single(t, await refusedPort());
  const h0 = tcpHandles();
  const a = await rawRequest(gw.port, GET);
  t.equal(a.status, 502);
  t.ok(gw.backendErrors.some((e) => e === 'be:connect_refused'), 'onBackendError(be, connect_refused)');
  t.ok(gw.logs.some((l) => l.level === 'warn' && l.msg === 'upstream failed' && l.fields?.reason === 'connect_refused'), 'a log line');
  t.equal(gw.records.at(-1)?.error, 'connect_refused');
  await noLeaks(t, gw, h0);
});

t.test('reset before the response → 502 reset', async (t) => {
  const be = await rawBackend((s) => s.resetAndDestroy());
  t.teardown(() => be.close());
  const gw = await single(t, be.port);
  const h0 = tcpHandles();
  const a = await rawRequest(gw.port, GET);
  t.equal(a.status, 502);
  t.ok(gw.backendErrors.includes('be:reset'));
  t.ok(gw.logs.some((l) => l.msg === 'upstream failed'));
  await noLeaks(t, gw, h0);
});

t.test('reset during the body: the client sees the connection cut, never a complete body', async (t) => {
  const be = await rawBackend((s, head) => {
    const chunked = head.includes('/chunked');
    if (chunked) s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
    else s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n' + 'a'.repeat(100));
    setTimeout(() => s.resetAndDestroy(), 50);
  });
  t.teardown(() => be.close());
  const gw = await single(t, be.port);
  const h0 = tcpHandles();
  for (const path of ['/cl', '/chunked']) {
    const r = await new Promise<{ status: number; complete: boolean; error: string | null }>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: gw.port, path, agent: false }, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => resolve({ status: res.statusCode!, complete: res.complete, error: null }));
        res.on('error', (e) => resolve({ status: res.statusCode!, complete: res.complete, error: e.message }));
        res.on('aborted', () => resolve({ status: res.statusCode!, complete: false, error: 'aborted' }));
      });
      req.on('error', (e) => resolve({ status: 0, complete: false, error: e.message }));
    });
    t.equal(r.status, 200, `${path}: the head was already sent`);
    t.notOk(r.complete, `${path}: the body is not presented as complete (${r.error})`);
  }
  t.ok(gw.backendErrors.filter((e) => e === 'be:reset').length >= 2);
  t.ok(gw.logs.some((l) => l.msg === 'upstream reset during the response'));
  // the same over h2c: the stream is reset
  const session = http2.connect(`http://127.0.0.1:${gw.port}`);
  const code = await new Promise<number | string>((resolve) => {
    const st = session.request({ ':path': '/cl', ':authority': 'example.com' });
    st.on('data', () => undefined);
    st.on('end', () => resolve('end'));
    st.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    st.on('close', () => resolve(st.rstCode));
  });
  session.destroy();
  t.not(code, 'end', `h2 stream cut (${code})`);
  t.not(code, 0, 'with a non-zero RST code or error');
  await noLeaks(t, gw, h0);
});

t.test('malformed response → 502 malformed', async (t) => {
  const be = await rawBackend((s) => s.end('HELLO THERE\r\n\r\n'));
  t.teardown(() => be.close());
  const gw = await single(t, be.port);
  const h0 = tcpHandles();
  const a = await rawRequest(gw.port, GET);
  t.equal(a.status, 502);
  t.ok(gw.backendErrors.includes('be:malformed'), gw.backendErrors.join());
  t.ok(
    gw.logs.some((l) => l.level === 'warn' && l.msg === 'upstream failed' && l.fields?.reason === 'malformed' && l.fields?.backend === 'be'),
    'a log line (warn, upstream failed, reason malformed)',
  );
  t.equal(gw.records.at(-1)?.error, 'malformed');
  // a response header with an invalid value
  const be2 = await rawBackend((s) => s.end('HTTP/1.1 200 OK\r\nX-Bad: a\x01b\r\nContent-Length: 0\r\n\r\n'));
  t.teardown(() => be2.close());
  const gw2 = await single(t, be2.port);
  const b = await rawRequest(gw2.port, GET);
  t.equal(b.status, 502);
  t.ok(gw2.logs.some((l) => l.level === 'warn' && l.msg === 'upstream failed' && l.fields?.reason === 'malformed'), 'invalid header value: a log line too');
  await noLeaks(t, gw, h0);
  await noLeaks(t, gw2, h0);
});

t.test('slow response → 504 at the backend timeout', async (t) => {
  const be = await rawBackend(() => undefined); // reads the request, never answers
  t.teardown(() => be.close());
  const gw = await single(t, be.port, { backendRequestMs: 200 });
  const h0 = tcpHandles();
  const start = Date.now();
  const a = await rawRequest(gw.port, GET, 3000);
  t.equal(a.status, 504);
  t.ok(Date.now() - start < 1500, 'at the deadline');
  t.ok(gw.backendErrors.includes('be:timeout'));
  t.ok(gw.logs.some((l) => l.msg === 'upstream timeout'));
  await noLeaks(t, gw, h0);
});

t.test('an endpoint that hangs on connect → 503 connect_timeout', async (t) => {
  const hang = await hangingPort();
  if (hang === null) {
    t.skip('python3 not available', () => undefined);
    return;
  }
  t.teardown(() => hang.close());
  const gw = await single(t, hang.port, {}, { connectTimeoutMs: 300 });
  const h0 = tcpHandles();
  const start = Date.now();
  const a = await rawRequest(gw.port, GET, 5000);
  t.equal(a.status, 503, a.statusLine);
  t.ok(Date.now() - start < 2500, `answered after the connect timeout (${Date.now() - start} ms, one connect retry)`);
  t.ok(gw.backendErrors.includes('be:connect_timeout'), gw.backendErrors.join());
  t.equal(gw.records.at(-1)?.error, 'connect_timeout');
  t.ok(
    gw.logs.some((l) => l.level === 'warn' && l.msg === 'upstream failed' && l.fields?.reason === 'connect_timeout' && l.fields?.backend === 'be'),
    'a log line (warn, upstream failed, reason connect_timeout)',
  );
  await noLeaks(t, gw, h0);
});

t.test('many faults in a row: the process keeps serving', async (t) => {
  let n = 0;
  const be = await rawBackend((s) => {
    n++;
    if (n % 3 === 0) s.resetAndDestroy();
    else if (n % 3 === 1) s.end('garbage\r\n\r\n');
    else s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
  });
  t.teardown(() => be.close());
  const gw = await single(t, be.port);
  const h0 = tcpHandles();
  const statuses = new Map<number, number>();
  await Promise.all(
    Array.from({ length: 60 }, async () => {
      const a = await rawRequest(gw.port, GET, 3000);
      statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
    }),
  );
  t.same([...statuses.keys()].filter((s) => s !== 200 && s !== 502), [], `only 200 and 502 (${JSON.stringify([...statuses])})`);
  await noLeaks(t, gw, h0);
});
