import t from 'tap';
import { closeAgent, request } from '../helpers/client.js';
import { gateway } from '../helpers/gateway.js';
import { backend, freePort, table } from '../helpers/ir.js';
import { upstream } from '../helpers/upstream.js';

t.test('retry on codes, connect errors and per-attempt timeouts (features.md §9.7)', async (t) => {
  const tries = new Map<string, number>();
  const up = await upstream((req, res) => {
    const u = new URL(req.url!, 'http://x');
    const id = u.searchParams.get('id')!;
    const n = (tries.get(id) ?? 0) + 1;
    tries.set(id, n);
    const failFor = Number(u.searchParams.get('fail') ?? 0);
    if (n <= failFor) {
      const mode = u.searchParams.get('mode') ?? '500';
      if (mode === 'reset') {
        req.socket.destroy();
        return;
      }
      if (mode === 'slow') {
        setTimeout(() => res.end('late'), 500);
        return;
      }
      res.statusCode = Number(mode);
      res.end('fail ' + n);
      return;
    }
    res.end('ok after ' + n);
  });
  const port = await freePort();
  const tbl = table(
    [
      {
        port,
        groups: [
          {
            rules: [
              { path: '/retry', retry: { codes: [500, 502, 503], attempts: 2, backoffMs: 10 }, backendRequestMs: 200, refs: [{ backend: 0 }] },
              { path: '/noretry', refs: [{ backend: 0 }] },
            ],
          },
        ],
      },
    ],
    [backend('up', [{ address: '127.0.0.1', port: up.port }])],
  );
  const { rt, port: gw } = await gateway(tbl);
  t.teardown(async () => {
    closeAgent();
    await rt.close(100);
    await up.close();
  });
  let r = await request(gw, '/retry?id=a&fail=2', { host: 'x' });
  t.equal(r.status, 200, 'two failures, two retries: 3 tries in total');
  t.equal(r.body, 'ok after 3');
  r = await request(gw, '/retry?id=b&fail=3', { host: 'x' });
  t.equal(r.status, 500, 'retries exhausted: the last upstream status');
  t.equal(r.body, 'fail 3');
  t.equal(tries.get('b'), 3);
  r = await request(gw, '/retry?id=c&fail=1&mode=404', { host: 'x' });
  t.equal(r.status, 404, 'codes not listed are not retried');
  r = await request(gw, '/retry?id=d&fail=2&mode=reset', { host: 'x' });
  t.equal(r.status, 200, 'connection resets are retried');
  r = await request(gw, '/retry?id=e&fail=1&mode=slow', { host: 'x' });
  t.equal(r.status, 200, 'a backendRequest timeout is retried');
  r = await request(gw, '/retry?id=f&fail=1', { host: 'x', method: 'POST', body: 'payload' });
  t.equal(r.status, 500, 'a streamed request body is never replayed');
  r = await request(gw, '/noretry?id=g&fail=1', { host: 'x' });
  t.equal(r.status, 500, 'no retry stanza: no retry on status');
});
