/** Passive health (outlier ejection) and the per-backend pending bound (circuit breaking). */
import t from 'tap';
import { backend, freePort, table } from '../helpers/ir.js';
import { gatewayInFront, rawRequest, recordingBackend, startGateway } from '../hardening/harness.js';
import { OutlierDetector, newHealthState } from '../../src/upstream/health.js';

const GET = 'GET /x HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n';

t.test('OutlierDetector: 5 in a row eject, the interval grows and is capped, never the last healthy one', async (t) => {
  const d = new OutlierDetector({ consecutiveFailures: 5, baseEjectionMs: 30_000, maxEjectionMs: 70_000, maxEjectionPercent: 10 });
  const a = newHealthState('a');
  const b = newHealthState('b');
  const group = [a, b];
  let now = 1_000_000;
  for (let i = 0; i < 4; i++) t.notOk(d.failure(a, group, now));
  d.success(a);
  for (let i = 0; i < 4; i++) t.notOk(d.failure(a, group, now), 'a success resets the count');
  t.ok(d.failure(a, group, now), '5th failure in a row ejects');
  t.equal(a.ejectedUntil - now, 30_000, 'first ejection: 30 s');
  t.notOk(OutlierDetector.available(a, now + 29_999));
  t.ok(OutlierDetector.available(a, now + 30_000), 'back after the interval');
  // b fails too while a is ejected: it is the last healthy one
  for (let i = 0; i < 10; i++) t.notOk(d.failure(b, group, now + 1000), 'the last healthy endpoint is never ejected');
  now += 31_000;
  for (let i = 0; i < 4; i++) d.failure(a, group, now);
  d.success(b);
  b.consecutive = 0;
  t.ok(d.failure(a, group, now));
  t.equal(a.ejectedUntil - now, 60_000, 'second ejection: 2 × 30 s');
  now += 61_000;
  for (let i = 0; i < 5; i++) d.failure(a, group, now);
  t.equal(a.ejectedUntil - now, 70_000, 'third: capped');
  const single = newHealthState('only');
  for (let i = 0; i < 20; i++) t.notOk(d.failure(single, [single], now), 'a backend with one endpoint never ejects it');
  const off = new OutlierDetector({ consecutiveFailures: 0 });
  for (let i = 0; i < 20; i++) t.notOk(off.failure(a, group, now + 1e9), 'consecutiveFailures 0 = off');
});

t.test('an endpoint answering 5xx is ejected; traffic goes to the healthy one', async (t) => {
  const bad = await recordingBackend((_q, res) => {
    res.writeHead(503, { 'content-length': 3 });
    res.end('bad');
  });
  const good = await recordingBackend();
  const port = await freePort();
  const tbl = table(
    [{ port, groups: [{ rules: [{ path: '/', refs: [{ backend: 0 }] }] }] }],
    [backend('be', [{ address: '127.0.0.1', port: bad.port }, { address: '127.0.0.1', port: good.port }])],
  );
  const gw = await startGateway(tbl);
  t.teardown(async () => {
    await gw.close();
    await bad.close();
    await good.close();
  });
  const statuses: number[] = [];
  for (let i = 0; i < 30; i++) statuses.push((await rawRequest(gw.port, GET)).status);
  t.equal(bad.requests.length, 5, 'the bad endpoint got exactly 5 requests (then ejected)');
  t.same(statuses.slice(10), Array(20).fill(200), 'after the ejection every request is served by the healthy endpoint');
  t.ok(gw.logs.some((l) => l.msg.startsWith('endpoint ejected') && l.fields?.ejectedMs === 30_000), 'ejection logged with its interval');
});

t.test('a single failing endpoint is never ejected: its errors are answered', async (t) => {
  const bad = await recordingBackend((_q, res) => {
    res.writeHead(500, { 'content-length': 3 });
    res.end('bad');
  });
  const gw = await gatewayInFront(t, bad);
  for (let i = 0; i < 12; i++) t.equal((await rawRequest(gw.port, GET)).status, 500);
  t.equal(bad.requests.length, 12);
});

t.test('pending requests per backend are bounded → 503 overflow', async (t) => {
  const held: (() => void)[] = [];
  const be = await recordingBackend((_q, res) => {
    held.push(() => {
      res.writeHead(200, { 'content-length': 2 });
      res.end('ok');
    });
  });
  const gw = await gatewayInFront(t, be, { limits: { maxPendingPerBackend: 2 } });
  const first = [rawRequest(gw.port, GET, 3000), rawRequest(gw.port, GET, 3000)];
  while (held.length < 2) await new Promise((r) => setTimeout(r, 10));
  const over = await Promise.all([rawRequest(gw.port, GET), rawRequest(gw.port, GET)]);
  t.same(over.map((a) => a.status), [503, 503], 'beyond the bound: 503');
  t.ok(gw.backendErrors.filter((e) => e === 'be:overflow').length === 2);
  for (const h of held) h();
  t.same((await Promise.all(first)).map((a) => a.status), [200, 200]);
  const next = rawRequest(gw.port, GET, 3000);
  while (held.length < 3) await new Promise((r) => setTimeout(r, 10));
  held[2]();
  t.equal((await next).status, 200, 'slots released: served again');
  t.equal(gw.rt.engine.pendingCounter('be').n, 0, 'the counter is back to 0');
});
