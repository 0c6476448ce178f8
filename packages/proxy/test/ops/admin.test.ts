import t from 'tap';
import { AdminServer, parseHostPort, type AdminSource, type AdminReloadResult } from '../../src/admin.js';
import { Metrics } from '../../src/metrics.js';
import { parsePrometheus, sampleTable } from './helpers.js';
import type { RoutingTable } from '@gatehouse/core';

function fakeSource() {
  const s = {
    isReady: false,
    isDraining: false,
    tbl: null as RoutingTable | null,
    reloads: 0,
    next: { result: 'ok' } as AdminReloadResult,
  };
  const src: AdminSource = {
    ready: () => s.isReady,
    draining: () => s.isDraining,
    table: () => s.tbl,
    status: () => ({ gateways: [], lastReload: { result: 'ok' } }),
    reload: async () => {
      s.reloads++;
      return s.next;
    },
    version: () => ({ version: '0.1.0', node: process.version }),
  };
  return { s, src };
}

async function get(port: number, path: string, method = 'GET') {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text(), allow: res.headers.get('allow') };
}

t.test('endpoints and status codes', async (t) => {
  const { s, src } = fakeSource();
  const metrics = new Metrics({ version: '0.1.0' });
  const admin = new AdminServer({ source: src, metrics });
  await admin.listen('127.0.0.1', 0);
  t.teardown(() => admin.close());
  const port = admin.address().port;

  t.equal((await get(port, '/healthz')).status, 200);
  t.equal((await get(port, '/readyz')).status, 503, 'not ready before the first table');
  t.equal((await get(port, '/config')).status, 503, 'no config yet');
  s.isReady = true;
  s.tbl = sampleTable();
  t.equal((await get(port, '/readyz')).status, 200);
  s.isDraining = true;
  const dr = await get(port, '/readyz');
  t.equal(dr.status, 503, 'draining');
  t.match(dr.body, /draining/);
  s.isDraining = false;

  const m = await get(port, '/metrics');
  t.equal(m.status, 200);
  t.match(m.type, /^text\/plain; version=0\.0\.4/);
  const { types } = parsePrometheus(m.body);
  t.ok(types.has('gatehouse_config_reloads_total'));

  const c = await get(port, '/config');
  t.equal(c.status, 200);
  t.match(c.type, /application\/json/);
  const cfg = JSON.parse(c.body);
  t.equal(cfg.ports[0].key, '0.0.0.0:8080/tcp');
  t.notMatch(c.body, /SECRET/, 'private keys redacted');
  t.match(c.body, /BEGIN CERTIFICATE/, 'certificates kept');

  const st = await get(port, '/status');
  t.equal(st.status, 200);
  t.same(JSON.parse(st.body).lastReload, { result: 'ok' });

  const v = await get(port, '/version');
  t.equal(JSON.parse(v.body).version, '0.1.0');

  const r = await get(port, '/reload', 'POST');
  t.equal(r.status, 200);
  t.equal(s.reloads, 1);
  s.next = { result: 'error', diagnostics: [{ code: 'YAML_SYNTAX' }] } as AdminReloadResult;
  const r2 = await get(port, '/reload', 'POST');
  t.equal(r2.status, 422, 'rejected config');
  t.equal(JSON.parse(r2.body).diagnostics[0].code, 'YAML_SYNTAX');
  s.next = { result: 'unchanged' };
  t.equal((await get(port, '/reload', 'POST')).status, 200);

  const wrong = await get(port, '/reload');
  t.equal(wrong.status, 405);
  t.equal(wrong.allow, 'POST');
  const wrong2 = await get(port, '/metrics', 'POST');
  t.equal(wrong2.status, 405);
  t.equal((await get(port, '/nope')).status, 404);
  t.equal((await get(port, '/healthz?verbose=1')).status, 200, 'query ignored');
  t.equal((await get(port, '/healthz', 'HEAD')).status, 200);
});

t.test('listen error names the address', async (t) => {
  const { src } = fakeSource();
  const a = new AdminServer({ source: src, metrics: null });
  await a.listen('127.0.0.1', 0);
  t.teardown(() => a.close());
  const b = new AdminServer({ source: src, metrics: null });
  await t.rejects(b.listen('127.0.0.1', a.address().port), { message: new RegExp(`127\\.0\\.0\\.1:${a.address().port}: address already in use`), code: 'EADDRINUSE' });
});

t.test('parseHostPort', async (t) => {
  t.same(parseHostPort('127.0.0.1:9901'), { host: '127.0.0.1', port: 9901 });
  t.same(parseHostPort('0.0.0.0:1'), { host: '0.0.0.0', port: 1 });
  t.same(parseHostPort(':9901'), { host: '127.0.0.1', port: 9901 });
  t.same(parseHostPort('9901'), { host: '127.0.0.1', port: 9901 });
  t.same(parseHostPort('[::1]:9901'), { host: '::1', port: 9901 });
  t.throws(() => parseHostPort('localhost:http'));
  t.throws(() => parseHostPort('1.2.3.4:70000'));
});
