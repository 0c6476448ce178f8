import t from 'tap';
import { startEchoServer } from '../../src/echo-server.js';
import { closeAgent, request } from '../helpers/client.js';
import { gateway } from '../helpers/gateway.js';
import { backend, freePort, table } from '../helpers/ir.js';

t.test('request and backendRequest timeouts → 504', async (t) => {
  const a = await startEchoServer({ name: 'a' });
  const port = await freePort();
  const tbl = table(
    [
      {
        port,
        groups: [
          {
            rules: [
              { path: '/request', requestMs: 200, refs: [{ backend: 0 }] },
              { path: '/backend', backendRequestMs: 150, refs: [{ backend: 0 }] },
            ],
          },
        ],
      },
    ],
    [backend('a', [{ address: '127.0.0.1', port: a.port }])],
  );
  const { rt, port: gw } = await gateway(tbl);
  t.teardown(async () => {
    closeAgent();
    await rt.close(100);
    await a.close();
  });
  let start = Date.now();
  let r = await request(gw, '/request?delay=1s', { host: 'x' });
  t.equal(r.status, 504);
  t.equal(r.body, 'gateway timeout\n');
  t.ok(Date.now() - start < 600, 'answered at the deadline, not when the backend answers');
  r = await request(gw, '/request?delay=50ms', { host: 'x' });
  t.equal(r.status, 200, 'fast enough');
  start = Date.now();
  r = await request(gw, '/backend?delay=1s', { host: 'x' });
  t.equal(r.status, 504);
  t.ok(Date.now() - start < 600);
  r = await request(gw, '/backend', { host: 'x' });
  t.equal(r.status, 200);
});
