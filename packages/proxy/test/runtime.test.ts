import http from 'node:http';
import t from 'tap';
import { startEchoServer } from '../src/echo-server.js';
import { GatehouseRuntime } from '../src/runtime.js';
import { backend, emptyStatus, freePort, table } from './helpers/ir.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function get(port: number, path: string, agent: http.Agent): Promise<{ status: number; pod: string; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, agent, headers: { host: 'x' } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, pod: res.statusCode === 200 ? JSON.parse(body).pod : '', reused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('reload: swap keeps keep-alive connections and in-flight requests; ports diffed; pools reused', async (t) => {
  const a = await startEchoServer({ name: 'a' });
  const b = await startEchoServer({ name: 'b' });
  const port = await freePort();
  const port2 = await freePort();
  const backends = [backend('a', [{ address: '127.0.0.1', port: a.port }]), backend('b', [{ address: '127.0.0.1', port: b.port }])];
  const v1 = table([{ port, groups: [{ rules: [{ path: '/', refs: [{ backend: 0 }] }] }] }], backends, [], 'v1');
  const v2 = table(
    [
      { port, groups: [{ rules: [{ path: '/', refs: [{ backend: 1 }] }] }] },
      { port: port2, groups: [{ rules: [{ path: '/', refs: [{ backend: 0 }] }] }] },
    ],
    backends,
    [],
    'v2',
  );
  const v3 = table([{ port: port2, groups: [{ rules: [{ path: '/', refs: [{ backend: 0 }] }] }] }], [backends[0]], [], 'v3');
  const rt = new GatehouseRuntime({ bindAddress: '127.0.0.1', logger: quiet });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(async () => {
    agent.destroy();
    await rt.close(100);
    await a.close();
    await b.close();
  });

  let res = await rt.apply(v1, emptyStatus);
  t.same(res.opened, [v1.ports[0].key]);
  const gw = rt.boundPorts().get(v1.ports[0].key)!;
  let r = await get(gw, '/', agent);
  t.equal(r.pod, 'a');

  // a slow request in flight on another connection while the table swaps
  const slowAgent = new http.Agent({ keepAlive: false });
  const inflight = get(gw, '/slow?delay=400ms', slowAgent);
  await new Promise((r2) => setTimeout(r2, 100));
  res = await rt.apply(v2, emptyStatus);
  t.same(res.kept, [v1.ports[0].key], 'same key kept');
  t.same(res.opened, [v2.ports[1].key]);
  t.equal(rt.current()?.table.hash, 'v2');

  r = await get(gw, '/', agent);
  t.equal(r.pod, 'b', 'the new table serves');
  t.ok(r.reused, 'on the same keep-alive connection');
  const slow = await inflight;
  t.equal(slow.status, 200, 'the in-flight request finished');
  t.equal(slow.pod, 'a', 'with the table it started with');
  slowAgent.destroy();

  const gw2 = rt.boundPorts().get(v2.ports[1].key)!;
  r = await get(gw2, '/', new http.Agent());
  t.equal(r.pod, 'a');
  // the pools of whichever engine serves (undici pools, or the fast engine's socket pools)
  const poolsBefore = rt.upstreamStats().pools;
  t.equal(poolsBefore, 2, `one pool per backend used (${rt.httpEngine} engine)`);
  res = await rt.apply(v3, emptyStatus);
  t.same(res.closed, [v1.ports[0].key], 'a removed port is closed');
  t.equal(rt.upstreamStats().pools, poolsBefore - 1, "b's pool closed: no table uses it");
  r = await get(gw2, '/', new http.Agent());
  t.equal(r.pod, 'a');
  await t.rejects(get(gw, '/', new http.Agent()), 'the removed port refuses connections');
});

t.test('a port that cannot bind is reported, the rest serves', async (t) => {
  const a = await startEchoServer({ name: 'a' });
  const blocker = http.createServer();
  const taken = await freePort();
  await new Promise<void>((r) => blocker.listen(taken, '127.0.0.1', () => r()));
  const free = await freePort();
  const tbl = table(
    [
      { port: taken, groups: [{ rules: [{ path: '/', refs: [{ backend: 0 }] }] }] },
      { port: free, groups: [{ rules: [{ path: '/', refs: [{ backend: 0 }] }] }] },
    ],
    [backend('a', [{ address: '127.0.0.1', port: a.port }])],
  );
  const rt = new GatehouseRuntime({ bindAddress: '127.0.0.1', logger: quiet });
  t.teardown(async () => {
    await rt.close(100);
    await a.close();
    await new Promise((r) => blocker.close(r));
  });
  const res = await rt.apply(tbl, emptyStatus);
  t.equal(res.failed.length, 1);
  t.match(res.failed[0].error, /EADDRINUSE/);
  t.same(res.opened, [tbl.ports[1].key]);
  const r = await get(rt.boundPorts().get(tbl.ports[1].key)!, '/', new http.Agent());
  t.equal(r.pod, 'a');
});

t.test('close(drainMs): in-flight requests finish, then everything stops', async (t) => {
  const a = await startEchoServer({ name: 'a' });
  const port = await freePort();
  const tbl = table([{ port, groups: [{ rules: [{ path: '/', refs: [{ backend: 0 }] }] }] }], [backend('a', [{ address: '127.0.0.1', port: a.port }])]);
  const rt = new GatehouseRuntime({ bindAddress: '127.0.0.1', logger: quiet });
  t.teardown(() => a.close());
  await rt.apply(tbl, emptyStatus);
  const gw = rt.boundPorts().get(tbl.ports[0].key)!;
  const slow = get(gw, '/slow?delay=300ms', new http.Agent({ keepAlive: true }));
  await new Promise((r) => setTimeout(r, 50));
  const started = Date.now();
  await rt.close(2000);
  const r = await slow;
  t.equal(r.status, 200, 'the in-flight request completed during the drain');
  t.ok(Date.now() - started < 1500, 'close returned once idle, before the drain deadline');
  await t.rejects(get(gw, '/', new http.Agent()), 'no longer accepting');
});
