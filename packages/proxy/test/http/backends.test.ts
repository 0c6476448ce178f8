import t from 'tap';
import { startEchoServer } from '../../src/echo-server.js';
import { closeAgent, request } from '../helpers/client.js';
import { gateway } from '../helpers/gateway.js';
import { backend, freePort, table } from '../helpers/ir.js';

t.test('weights, invalid refs, no endpoints, refused', async (t) => {
  const a = await startEchoServer({ name: 'a' });
  const b = await startEchoServer({ name: 'b' });
  const port = await freePort();
  const dead = await freePort();
  const tbl = table(
    [
      {
        port,
        groups: [
          {
            rules: [
              { path: '/canary', refs: [{ backend: 0, weight: 3 }, { backend: 1, weight: 1 }, { backend: 1, weight: 0 }] },
              { path: '/invalid', refs: [{ backend: 0, weight: 1 }, { backend: 0, weight: 1, invalid: 'BackendNotFound' }] },
              { path: '/zero', refs: [{ backend: 0, weight: 0 }] },
              { path: '/none', refs: [] },
              { path: '/empty', refs: [{ backend: 2 }] },
              { path: '/refused', refs: [{ backend: 3 }] },
              { path: '/grpc-invalid', grpc: true, refs: [{ backend: 0, invalid: 'BackendNotFound' }] },
            ],
          },
        ],
      },
    ],
    [
      backend('a', [{ address: '127.0.0.1', port: a.port }]),
      backend('b', [{ address: '127.0.0.1', port: b.port }]),
      backend('empty', []),
      backend('dead', [{ address: '127.0.0.1', port: dead }]),
    ],
  );
  const { rt, port: gw } = await gateway(tbl);
  t.teardown(async () => {
    closeAgent();
    await rt.close(100);
    await a.close();
    await b.close();
  });

  const counts: Record<string, number> = {};
  for (let i = 0; i < 400; i++) {
    const r = await request(gw, '/canary', { host: 'x' });
    const pod = r.json().pod;
    counts[pod] = (counts[pod] ?? 0) + 1;
  }
  t.same(counts, { a: 300, b: 100 }, '3:1 with smooth weighted round-robin is exact; weight 0 never');

  const st: Record<number, number> = {};
  for (let i = 0; i < 100; i++) {
    const r = await request(gw, '/invalid', { host: 'x' });
    st[r.status] = (st[r.status] ?? 0) + 1;
    if (r.status === 500) t.equal(r.body, 'backend not found\n');
  }
  t.same(st, { 200: 50, 500: 50 }, 'the invalid ref answers 500 for its share');

  let r = await request(gw, '/zero', { host: 'x' });
  t.equal(r.status, 500, 'all weights zero → 500');
  r = await request(gw, '/none', { host: 'x' });
  t.equal(r.status, 500, 'no backendRefs → 500');
  r = await request(gw, '/empty', { host: 'x' });
  t.equal(r.status, 503, 'no endpoints → 503');
  t.equal(r.body, 'backend unavailable\n');
  r = await request(gw, '/refused', { host: 'x' });
  t.equal(r.status, 502, 'connection refused → 502');
  t.equal(r.body, 'bad gateway\n');
  r = await request(gw, '/refused', { host: 'x', method: 'POST', body: 'x' });
  t.equal(r.status, 502, 'refused POST → 502');
  r = await request(gw, '/grpc-invalid', { host: 'x', method: 'POST', headers: { 'content-type': 'application/grpc' } });
  t.equal(r.headers['grpc-status'], '14', 'gRPC invalid backend → UNAVAILABLE');
  r = await request(gw, '/nothing-here', { host: 'x', method: 'POST', headers: { 'content-type': 'application/grpc+proto' } });
  t.equal(r.headers['grpc-status'], '12', 'gRPC no route → UNIMPLEMENTED');
});

t.test('connect errors on idempotent requests are retried once on another endpoint', async (t) => {
  const a = await startEchoServer({ name: 'a' });
  const port = await freePort();
  const dead = await freePort();
  const tbl = table(
    [{ port, groups: [{ rules: [{ path: '/', refs: [{ backend: 0 }] }] }] }],
    [backend('ab', [{ address: '127.0.0.1', port: dead }, { address: '127.0.0.1', port: a.port }])],
  );
  const { rt, port: gw } = await gateway(tbl);
  t.teardown(async () => {
    closeAgent();
    await rt.close(100);
    await a.close();
  });
  for (let i = 0; i < 6; i++) {
    const r = await request(gw, '/', { host: 'x' });
    t.equal(r.status, 200, `request ${i} succeeds despite the dead endpoint`);
  }
});
