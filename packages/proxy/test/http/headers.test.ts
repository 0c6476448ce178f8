import t from 'tap';
import { closeAgent, raw, request } from '../helpers/client.js';
import { gateway } from '../helpers/gateway.js';
import { backend, freePort, table } from '../helpers/ir.js';
import { upstream } from '../helpers/upstream.js';

t.test('hop-by-hop removed both ways, X-Forwarded-*, case and order kept', async (t) => {
  let seen: string[] = [];
  const up = await upstream((req, res) => {
    seen = req.rawHeaders;
    res.writeHead(200, ['Content-Type', 'text/plain', 'X-Up-Case', 'v', 'Connection', 'keep-alive, X-Private', 'X-Private', 'secret', 'Keep-Alive', 'timeout=5', 'Proxy-Authenticate', 'Basic']);
    res.end('ok');
  });
  const port = await freePort();
  const tbl = table([{ port, groups: [{ rules: [{ path: '/', refs: [{ backend: 0 }] }] }] }], [backend('up', [{ address: '127.0.0.1', port: up.port }])]);
  const { rt, port: gw } = await gateway(tbl);
  t.teardown(async () => {
    closeAgent();
    await rt.close(100);
    await up.close();
  });

  const out = await raw(
    gw,
    'GET /h HTTP/1.1\r\nHost: Example.COM:81\r\nX-First: 1\r\nConnection: keep-alive, X-Drop\r\nX-Drop: d\r\nKeep-Alive: timeout=1\r\nProxy-Authorization: p\r\nTE: trailers\r\nUpgrade: h2c\r\nX-Forwarded-For: 6.6.6.6\r\nx-MiXeD: m\r\nX-Last: 2\r\n\r\n',
    500,
  );
  t.match(out, /^HTTP\/1\.1 200/);
  const names = seen.filter((_, i) => i % 2 === 0);
  // undici writes `host` first (lowercased) and its own `connection: keep-alive` for the upstream hop
  const endToEnd = names.filter((n) => !/^(host|connection|x-forwarded-.*|x-request-id)$/i.test(n));
  t.same(endToEnd, ['X-First', 'x-MiXeD', 'X-Last'], 'order and case of end-to-end headers preserved');
  t.equal(seen[names.findIndex((n) => n === 'connection') * 2 + 1], 'keep-alive', "only the gateway's own hop Connection");
  const lower = names.map((n) => n.toLowerCase());
  for (const hop of ['x-drop', 'keep-alive', 'proxy-authorization', 'te', 'upgrade']) t.notOk(lower.includes(hop), `${hop} not forwarded`);
  const get = (n: string): string | undefined => seen[seen.findIndex((x, i) => i % 2 === 0 && x.toLowerCase() === n) + 1];
  t.equal(get('host'), 'Example.COM:81', 'Host forwarded unmodified');
  t.equal(get('x-forwarded-for'), '127.0.0.1', 'X-Forwarded-For overwritten by default');
  t.equal(get('x-forwarded-proto'), 'http');
  t.equal(get('x-forwarded-host'), 'Example.COM:81');
  t.match(out, /X-Up-Case: v/, 'response header case kept');
  t.notMatch(out, /X-Private/i, 'headers named in the upstream Connection removed');
  t.notMatch(out, /Proxy-Authenticate/i);
  t.notMatch(out, /timeout=5/);
});

t.test('trustForwarded appends', async (t) => {
  let seen: Record<string, unknown> = {};
  const up = await upstream((req, res) => {
    seen = req.headers;
    res.end('ok');
  });
  const port = await freePort();
  const tbl = table([{ port, groups: [{ rules: [{ path: '/', refs: [{ backend: 0 }] }] }] }], [backend('up', [{ address: '127.0.0.1', port: up.port }])]);
  const { rt, port: gw } = await gateway(tbl, { trustForwarded: true });
  t.teardown(async () => {
    closeAgent();
    await rt.close(100);
    await up.close();
  });
  await request(gw, '/', { host: 'h', headers: { 'x-forwarded-for': '10.0.0.1', 'x-forwarded-proto': 'https' } });
  t.equal(seen['x-forwarded-for'], '10.0.0.1, 127.0.0.1');
  t.equal(seen['x-forwarded-proto'], 'https');
});

t.test('an upstream header Node refuses to forward → 502, not a crash', async (t) => {
  const net = await import('node:net');
  const bad = net.createServer((s) => {
    s.once('data', () => s.end('HTTP/1.1 200 OK\r\nX-Bad: caf\xc3\xa9\x01x\r\nContent-Length: 2\r\n\r\nok', 'latin1'));
  });
  await new Promise<void>((r) => bad.listen(0, '127.0.0.1', () => r()));
  const port = await freePort();
  const badPort = (bad.address() as import('node:net').AddressInfo).port;
  const tbl = table([{ port, groups: [{ rules: [{ path: '/', refs: [{ backend: 0 }] }] }] }], [backend('bad', [{ address: '127.0.0.1', port: badPort }])]);
  const { rt, port: gw } = await gateway(tbl);
  t.teardown(async () => {
    closeAgent();
    await rt.close(100);
    await new Promise((r) => bad.close(r));
  });
  const r = await request(gw, '/', { host: 'x' });
  t.equal(r.status, 502, 'bad gateway');
  const r2 = await request(gw, '/', { host: 'x' });
  t.ok(r2.status > 0, 'the gateway still serves');
});
