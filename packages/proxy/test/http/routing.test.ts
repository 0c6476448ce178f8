import t from 'tap';
import { startEchoServer } from '../../src/echo-server.js';
import { closeAgent, raw, request } from '../helpers/client.js';
import { gateway } from '../helpers/gateway.js';
import { backend, freePort, table } from '../helpers/ir.js';

t.test('routing by host and path, 404 when nothing matches', async (t) => {
  const a = await startEchoServer({ name: 'a' });
  const b = await startEchoServer({ name: 'b' });
  const port = await freePort();
  const tbl = table(
    [
      {
        port,
        groups: [
          { hostname: 'exact.example.com', rules: [{ path: '/', refs: [{ backend: 1 }] }] },
          {
            hostname: null,
            rules: [
              { path: '/exact', pathType: 'Exact', refs: [{ backend: 1 }] },
              { path: '/api', refs: [{ backend: 0 }] },
            ],
          },
        ],
      },
    ],
    [backend('a', [{ address: '127.0.0.1', port: a.port }]), backend('b', [{ address: '127.0.0.1', port: b.port }])],
  );
  const { rt, port: gw } = await gateway(tbl);
  t.teardown(async () => {
    closeAgent();
    await rt.close(100);
    await a.close();
    await b.close();
  });

  let r = await request(gw, '/api/x?y=1', { host: 'foo.example.com' });
  t.equal(r.status, 200);
  t.equal(r.json().pod, 'a');
  t.equal(r.json().path, '/api/x?y=1', 'query forwarded unchanged');
  t.equal(r.json().host, 'foo.example.com', 'Host forwarded unmodified');

  r = await request(gw, '/api', { host: 'EXACT.example.com:1234' });
  t.equal(r.json().pod, 'b', 'host matched case-insensitively with the port stripped');
  t.equal(r.json().host, 'EXACT.example.com:1234');

  r = await request(gw, '/exact', { host: 'x' });
  t.equal(r.json().pod, 'b');
  r = await request(gw, '/exact/', { host: 'x' });
  t.equal(r.status, 404, 'Exact is exact');
  t.equal(r.body, 'no route\n');
  t.match(r.headers['content-type'], /^text\/plain/);

  r = await request(gw, '/apix', { host: 'x' });
  t.equal(r.status, 404, 'prefix matches whole segments only');

  r = await request(gw, '/api/../exact', { host: 'x' });
  t.equal(r.json().pod, 'b', 'dot segments are resolved before matching');
  t.equal(r.json().path, '/exact', 'and the normalised path is forwarded');
});

t.test('400 for bad Host and bad paths, never forwarded', async (t) => {
  const a = await startEchoServer({ name: 'a' });
  const port = await freePort();
  const tbl = table([{ port, groups: [{ rules: [{ path: '/', refs: [{ backend: 0 }] }] }] }], [backend('a', [{ address: '127.0.0.1', port: a.port }])]);
  const { rt, port: gw } = await gateway(tbl);
  t.teardown(async () => {
    closeAgent();
    await rt.close(100);
    await a.close();
  });
  let out = await raw(gw, 'GET / HTTP/1.1\r\n\r\n');
  t.match(out, /^HTTP\/1\.1 400/, 'missing Host');
  out = await raw(gw, 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
  t.match(out, /^HTTP\/1\.1 400/, 'duplicate Host');
  out = await raw(gw, 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n');
  t.match(out, /^HTTP\/1\.1 400/, 'invalid Host');
  out = await raw(gw, 'GET / HTTP/1.1\r\nHost: a:12x\r\n\r\n');
  t.match(out, /^HTTP\/1\.1 400/, 'invalid port in Host');
  out = await raw(gw, 'GET /a%2fb HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  t.match(out, /^HTTP\/1\.1 400/, 'encoded slash refused');
  t.match(out, /invalid path\n$/);
  out = await raw(gw, 'GET /a%zz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  t.match(out, /^HTTP\/1\.1 400/, 'bad percent-encoding refused');
  out = await raw(gw, 'GET /ok HTTP/1.0\r\n\r\n');
  t.match(out, /^HTTP\/1\.1 200/, 'HTTP/1.0 without Host is fine');
  t.equal(a.count(), 1, 'only the valid request reached the backend');
});
