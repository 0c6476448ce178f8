import t from 'tap';
import type { FilterIR } from '@gatehouse/core';
import { startEchoServer } from '../../src/echo-server.js';
import { closeAgent, request } from '../helpers/client.js';
import { gateway } from '../helpers/gateway.js';
import { backend, freePort, table } from '../helpers/ir.js';

const reqMod = (set: [string, string][], add: [string, string][], remove: string[]): FilterIR => ({ type: 'RequestHeaderModifier', ops: { set, add, remove } });
const resMod = (set: [string, string][], add: [string, string][], remove: string[]): FilterIR => ({ type: 'ResponseHeaderModifier', ops: { set, add, remove } });

t.test('filters end to end', async (t) => {
  const a = await startEchoServer({ name: 'a' });
  const b = await startEchoServer({ name: 'b' });
  const port = await freePort();
  const tbl = table(
    [
      {
        port,
        groups: [
          {
            listenerPort: 8080,
            rules: [
              {
                path: '/headers',
                filters: [reqMod([['X-Set', 'set-value']], [['X-Add', 'added']], ['x-remove'])],
                refs: [{ backend: 0, filters: [reqMod([['X-Ref', 'ref-level']], [], [])] }],
              },
              {
                path: '/response',
                filters: [resMod([['X-Header-Set', 'set-overwrites']], [['X-Header-Add', 'header-add']], ['x-header-remove'])],
                refs: [{ backend: 0 }],
              },
              { path: '/rewrite-prefix', filters: [{ type: 'URLRewrite', hostname: 'rewritten.example.com', path: { type: 'ReplacePrefixMatch', value: '/new', prefix: '/rewrite-prefix' } }], refs: [{ backend: 0 }] },
              { path: '/rewrite-full', filters: [{ type: 'URLRewrite', hostname: null, path: { type: 'ReplaceFullPath', value: '/one' } }], refs: [{ backend: 0 }] },
              { path: '/redirect', filters: [{ type: 'RequestRedirect', scheme: null, hostname: null, port: null, path: null, statusCode: 302 }] },
              { path: '/redirect-301', filters: [{ type: 'RequestRedirect', scheme: 'https', hostname: 'example.net', port: null, path: { type: 'ReplacePrefixMatch', value: '/to', prefix: '/redirect-301' }, statusCode: 301 }] },
              { path: '/unsupported', filters: [{ type: 'Unsupported', reason: 'ExtensionRef example.com/Foo' }], refs: [{ backend: 0 }] },
              {
                path: '/cors',
                filters: [
                  {
                    type: 'CORS',
                    allowOrigins: ['https://www.foo.com', 'https://*.bar.com', 'http://local:8080'],
                    allowCredentials: true,
                    allowMethods: ['GET', 'OPTIONS'],
                    allowHeaders: ['x-header-1', 'x-header-2'],
                    exposeHeaders: ['x-header-3'],
                    maxAge: 3600,
                  },
                ],
                refs: [{ backend: 0 }],
              },
              { path: '/mixed', refs: [{ backend: 0, weight: 1, filters: [reqMod([['X-Which', 'a']], [], [])] }, { backend: 1, weight: 1, filters: [reqMod([['X-Which', 'b']], [], [])] }] },
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

  let r = await request(gw, '/headers', { host: 'x', headers: { 'x-set': 'old', 'X-Add': 'first', 'x-remove': 'gone', 'x-keep': 'k' } });
  let h = r.json().headers;
  t.same(h['X-Set'], ['set-value'], 'set overwrites');
  t.same(h['X-Add'], ['first,added'], 'add appends as old,new');
  t.notOk(h['X-Remove'], 'remove deletes');
  t.same(h['X-Keep'], ['k']);
  t.same(h['X-Ref'], ['ref-level'], 'backendRef-level filter applied after rule-level');

  r = await request(gw, '/headers', { host: 'x' });
  t.same(r.json().headers['X-Add'], ['added'], 'add without an existing header');

  r = await request(gw, '/response', { host: 'x', headers: { 'x-echo-set-header': 'X-Header-Set:orig,X-Header-Add:a1,X-Header-Remove:bye' } });
  t.equal(r.headers['x-header-set'], 'set-overwrites');
  t.equal(r.headers['x-header-add'], 'a1,header-add');
  t.notOk(r.headers['x-header-remove']);

  r = await request(gw, '/rewrite-prefix/deep/path?q=1', { host: 'orig.example.com' });
  t.equal(r.json().path, '/new/deep/path?q=1', 'prefix rewrite keeps the rest and the query');
  t.equal(r.json().host, 'rewritten.example.com', 'hostname rewrite');
  r = await request(gw, '/rewrite-prefix', { host: 'x' });
  t.equal(r.json().path, '/new');
  r = await request(gw, '/rewrite-full/a/b?z', { host: 'x' });
  t.equal(r.json().path, '/one?z');

  r = await request(gw, '/redirect/x?y=2', { host: 'example.org:9999' });
  t.equal(r.status, 302);
  t.equal(r.headers.location, 'http://example.org:8080/redirect/x?y=2', 'listener port, request host without its port');
  r = await request(gw, '/redirect-301/lemon', { host: 'example.org' });
  t.equal(r.status, 301);
  t.equal(r.headers.location, 'https://example.net/to/lemon');
  t.equal(a.count(), 6, 'redirects never reach a backend');

  r = await request(gw, '/unsupported', { host: 'x' });
  t.equal(r.status, 500);
  t.equal(r.body, 'unsupported filter\n');

  // CORS preflight: answered by the gateway
  const before = a.count();
  r = await request(gw, '/cors', {
    host: 'x',
    method: 'OPTIONS',
    headers: { origin: 'https://xpto.www.bar.com', 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-header-1' },
  });
  t.equal(r.status, 200);
  t.equal(r.headers['access-control-allow-origin'], 'https://xpto.www.bar.com', 'wildcard host matches many labels');
  t.equal(r.headers['access-control-allow-credentials'], 'true');
  t.equal(r.headers['access-control-allow-methods'], 'GET, OPTIONS');
  t.equal(r.headers['access-control-allow-headers'], 'x-header-1, x-header-2');
  t.equal(r.headers['access-control-expose-headers'], 'x-header-3');
  t.equal(r.headers['access-control-max-age'], '3600');
  t.equal(r.body, '');
  r = await request(gw, '/cors', { host: 'x', method: 'OPTIONS', headers: { origin: 'https://evil.com', 'access-control-request-method': 'GET' } });
  t.equal(r.status, 200);
  t.notOk(r.headers['access-control-allow-origin'], 'disallowed origin: no CORS headers');
  r = await request(gw, '/cors', { host: 'x', method: 'OPTIONS', headers: { origin: 'https://www.foo.com:443', 'access-control-request-method': 'GET' } });
  t.equal(r.headers['access-control-allow-origin'], 'https://www.foo.com:443', 'default port equivalence');
  t.equal(a.count(), before, 'preflights never reach the backend');
  r = await request(gw, '/cors', { host: 'x', headers: { origin: 'http://local:8080' } });
  t.equal(r.status, 200);
  t.equal(r.headers['access-control-allow-origin'], 'http://local:8080', 'simple request decorated');
  t.equal(r.headers['access-control-allow-credentials'], 'true');
  t.equal(r.json().pod, 'a');

  const seen = new Set<string>();
  for (let i = 0; i < 4; i++) {
    r = await request(gw, '/mixed', { host: 'x' });
    const j = r.json();
    t.same(j.headers['X-Which'], [j.pod], 'each backendRef gets its own filters');
    seen.add(j.pod);
  }
  t.equal(seen.size, 2);
});
