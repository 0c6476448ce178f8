import t from 'tap';
import { gzipSync } from 'node:zlib';
import * as http from 'node:http';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AdminServer, type AdminSource } from '../../src/admin.js';
import { LiveStats } from '../../src/dashboard/live.js';
import { parseHeaders } from '../../src/dashboard/server.js';
import { ASSETS } from '../../src/dashboard/assets.generated.js';
import { compileYaml } from '../helpers/yaml.js';

const QUICKSTART = fileURLToPath(new URL('../../../../fixtures/quickstart/', import.meta.url));
const BROKEN = `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: broken, namespace: default }
spec:
  parentRefs: [{ name: demo }]
  hostnames: [broken.example.com]
  rules:
    - backendRefs: [{ name: web-v1, namespace: elsewhere, port: 80 }]
`;

function setup(withExplain = true) {
  const text = ['gateway.yaml', 'routes.yaml', 'backends.yaml'].map((f) => readFileSync(QUICKSTART + f, 'utf8')).join('\n---\n') + '\n---\n' + BROKEN;
  const c = compileYaml(text);
  const state = { reloads: 0, lastReload: { result: 'ok', trigger: 'startup', time: '2026-11-26T10:00:00.000Z', durationMs: 1, errors: 0, warnings: 0, message: 'ok', diagnostics: [] } as Record<string, unknown> };
  const source: AdminSource = {
    ready: () => true,
    draining: () => false,
    table: () => c.table,
    status: () => ({ ready: true, draining: false, serving: { hash: 'abc', tableHash: c.table.hash, since: null }, lastReload: state.lastReload, ...c.status }),
    reload: async () => {
      state.reloads++;
      return { result: 'unchanged' };
    },
    version: () => ({ version: 't' }),
  };
  const live = new LiveStats();
  const explained: unknown[] = [];
  const admin = new AdminServer({
    source,
    metrics: null,
    dashboard: {
      live,
      tickMs: 100,
      explain: withExplain ? (method, url, headers) => (explained.push([method, url, headers]), url.startsWith('http') ? { route: 'default/www', method } : 'URL must look like http://host') : undefined,
    },
  });
  return { admin, live, state, explained, table: c.table };
}

async function req(port: number, path: string, init: RequestInit = {}) {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, init);
  const body = await r.text();
  return { status: r.status, type: r.headers.get('content-type') ?? '', headers: r.headers, body, json: () => JSON.parse(body) };
}

t.test('the page and its assets, offline and light', async (t) => {
  const { admin } = setup();
  await admin.listen('127.0.0.1', 0);
  t.teardown(() => admin.close());
  const port = admin.address().port;
  const page = await req(port, '/');
  t.equal(page.status, 200);
  t.match(page.type, /^text\/html/);
  t.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  t.match(page.body, /<script src="\/ui\/app\.js"/);
  t.notMatch(page.body, /https?:\/\/(?!www\.example)/, 'no external URL in the page');
  for (const [path, type] of [['/ui/app.js', /javascript/], ['/ui/app.css', /text\/css/]] as const) {
    const a = await req(port, path);
    t.equal(a.status, 200, path);
    t.match(a.type, type);
    const urls = (a.body.match(/\b(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s'"]*/gi) ?? []).filter((u) => u !== 'http://www.w3.org/2000/svg');
    t.same(urls, [], `${path}: no external resource`);
    t.notMatch(a.body, /@import/);
  }
  t.equal((await req(port, '/ui/nope.js')).status, 404);
  t.equal((await req(port, '/', { method: 'POST' })).status, 405);
  const raw = Object.values(ASSETS).reduce((n, a) => n + Buffer.byteLength(a.body), 0);
  const gz = Object.values(ASSETS).reduce((n, a) => n + gzipSync(a.body, { level: 9 }).length, 0);
  t.comment(`page weight: ${raw} bytes (${gz} bytes gzipped) for ${Object.keys(ASSETS).join(', ')}`);
  t.ok(raw < 60_000 && gz < 15_000, 'the page stays light');
});

t.test('existing admin endpoints are unchanged', async (t) => {
  const { admin, state } = setup();
  await admin.listen('127.0.0.1', 0);
  t.teardown(() => admin.close());
  const port = admin.address().port;
  t.equal((await req(port, '/healthz')).body, 'ok\n');
  t.equal((await req(port, '/readyz')).status, 200);
  t.equal((await req(port, '/config')).status, 200);
  t.equal((await req(port, '/status')).status, 200);
  t.equal((await req(port, '/version')).status, 200);
  t.equal((await req(port, '/reload', { method: 'POST' })).json().result, 'unchanged');
  t.equal(state.reloads, 1);
  t.equal((await req(port, '/reload')).status, 405);
  const nf = await req(port, '/nope');
  t.equal(nf.status, 404);
  t.notOk(nf.json().endpoints.includes('/'), 'the 404 list is the contract endpoints');
});

t.test('without the dashboard option GET / is still 404', async (t) => {
  const { admin } = setup();
  const bare = new AdminServer({ source: (admin as unknown as { opts: { source: AdminSource } }).opts.source, metrics: null });
  admin.dashboard?.close();
  await bare.listen('127.0.0.1', 0);
  t.teardown(() => bare.close());
  t.equal((await req(bare.address().port, '/')).status, 404);
  t.equal((await req(bare.address().port, '/api/model')).status, 404);
});

t.test('/api/model joins gateways, listeners, routes, rules and backends', async (t) => {
  const { admin } = setup();
  await admin.listen('127.0.0.1', 0);
  t.teardown(() => admin.close());
  const m = (await req(admin.address().port, '/api/model')).json();
  t.equal(m.ready, true);
  t.same(m.gateways.map((g: { name: string }) => g.name), ['default/demo']);
  const l = m.gateways[0].listeners[0];
  t.match(l, { id: 'default/demo/http', port: 8080, protocol: 'HTTP', hostname: null, attachedRoutes: 3 });
  t.same(l.routes, ['default/api', 'default/broken', 'default/www']);
  t.ok(l.conditions.some((c: { type: string; status: string }) => c.type === 'Conflicted' && c.status === 'False'));
  const www = m.routes.find((r: { name: string }) => r.name === 'default/www');
  t.equal(www.rules.length, 2);
  t.match(www.rules[0], { index: 0, matches: [{ hostnames: ['www.example.com'], path: 'PathPrefix /' }] });
  t.same(www.rules[0].backends.map((b: { name: string; share: number }) => [b.name, b.share]), [['Service default/web-v1:80', 75], ['Service default/web-v2:80', 25]]);
  t.match(www.rules[1].filters, [/^RequestRedirect 301/]);
  t.match(www.backends[0], { name: 'Service default/web-v1:80', resolution: 'EndpointSlice', endpoints: ['127.0.0.1:18081'], protocol: 'http1' });
  const broken = m.routes.find((r: { name: string }) => r.name === 'default/broken');
  t.ok(broken.parents[0].conditions.some((c: { type: string; status: string }) => c.type === 'ResolvedRefs' && c.status === 'False'), 'ResolvedRefs=False');
  t.match(broken.rules[0].backends[0], { invalid: /RefNotPermitted/ });
  t.match(broken.backends[0], { resolution: 'Unresolved', reason: 'RefNotPermitted' });
  t.match(m.explainHint.url, /^http:\/\/[a-z.]+:8080\//);
  t.equal(m.lastReload.result, 'ok');
});

t.test('/api/stats and /api/events follow the live numbers', async (t) => {
  const { admin, live } = setup();
  await admin.listen('127.0.0.1', 0);
  t.teardown(() => admin.close());
  const port = admin.address().port;
  live.prepare(setup().table);
  for (let i = 0; i < 10; i++)
    live.record({ gateway: 'default/demo', listener: 'default/demo/http', route: 'default/www', rule: 0, backend: 'Service default/web-v1:80', endpoint: null, method: 'GET', status: 200, durationMs: 3, upstreamMs: 1, bytesIn: 0, bytesOut: 0, error: null, host: '', path: '/', client: '', startTime: 0 });
  // SSE: the first event comes at once, then one per tick (100 ms here); a model event on the first tick.
  const events: { event: string; data: string }[] = [];
  await new Promise<void>((resolve, reject) => {
    const r = http.get({ host: '127.0.0.1', port, path: '/api/events' }, (res) => {
      t.match(res.headers['content-type'], /^text\/event-stream/);
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
          const data = /^data: (.*)$/m.exec(block)?.[1] ?? '';
          events.push({ event: ev, data });
        }
        if (events.filter((e) => e.event === 'stats').length >= 3) {
          r.destroy();
          resolve();
        }
      });
    });
    r.on('error', (e) => (events.length >= 3 ? resolve() : reject(e)));
    setTimeout(() => reject(new Error('no SSE events in 3 s')), 3000).unref();
  });
  t.ok(events.some((e) => e.event === 'model'), 'a model event tells the page to fetch /api/model');
  const last = JSON.parse(events.filter((e) => e.event === 'stats').pop()!.data);
  t.equal(last.available, true);
  const www = last.routes.find((s: { id: string }) => s.id === 'default/www');
  t.equal(www.total, 10);
  t.ok(www.spark.reduce((a: number, b: number) => a + b, 0) === 10);
  const stats = (await req(port, '/api/stats')).json();
  t.equal(stats.listeners[0].id, 'default/demo/http');
  t.ok(stats.routes.some((s: { id: string }) => s.id === 'default/broken'), 'prepared series are listed before traffic');
});

t.test('/api/stats without live numbers says why', async (t) => {
  const { admin } = setup();
  admin.dashboard?.close();
  const src = (admin as unknown as { opts: { source: AdminSource } }).opts.source;
  const a = new AdminServer({ source: src, metrics: null, dashboard: { live: null } });
  await a.listen('127.0.0.1', 0);
  t.teardown(() => a.close());
  t.match((await req(a.address().port, '/api/stats')).json(), { available: false, reason: /--workers/ });
  const ex = await req(a.address().port, '/api/explain', { method: 'POST', body: '{"url":"http://x/"}' });
  t.equal(ex.status, 501);
});

t.test('POST /api/explain validates its input and answers the report', async (t) => {
  const { admin, explained } = setup();
  await admin.listen('127.0.0.1', 0);
  t.teardown(() => admin.close());
  const port = admin.address().port;
  const post = (body: string) => req(port, '/api/explain', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  const ok = await post(JSON.stringify({ method: 'get', url: 'http://www.example.com:8080/', headers: 'X-Canary: yes\n\nfoo: a:b' }));
  t.equal(ok.status, 200);
  t.same(ok.json(), { route: 'default/www', method: 'GET' });
  t.same(explained[0], ['GET', 'http://www.example.com:8080/', [['x-canary', 'yes'], ['foo', 'a:b']]]);
  t.equal((await post('{not json')).status, 400);
  t.equal((await post(JSON.stringify({ method: 'GET' }))).status, 400, 'url required');
  t.equal((await post(JSON.stringify({ method: 'G E T', url: 'http://x/' }))).status, 400);
  t.match((await post(JSON.stringify({ url: 'ftp://x' }))).json(), { error: /URL must look like/ });
  t.equal((await post('x'.repeat(70_000))).status, 413);
  t.equal((await req(port, '/api/explain')).status, 405);
});

t.test('parseHeaders', async (t) => {
  t.same(parseHeaders({ 'X-A': ' 1 ' }), [['x-a', '1']]);
  t.same(parseHeaders([['a', 'b']]), [['a', 'b']]);
  t.same(parseHeaders('a: b\r\nc:d'), [['a', 'b'], ['c', 'd']]);
  t.same(parseHeaders(undefined), []);
  t.type(parseHeaders('nocolon'), 'string');
  t.type(parseHeaders({ 'bad name': 'x' }), 'string');
  t.type(parseHeaders(42), 'string');
});
