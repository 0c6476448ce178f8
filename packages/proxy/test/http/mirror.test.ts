import t from 'tap';
import type http from 'node:http';
import { startEchoServer } from '../../src/echo-server.js';
import { closeAgent, request } from '../helpers/client.js';
import { gateway } from '../helpers/gateway.js';
import { backend, freePort, table, type RuleSpec } from '../helpers/ir.js';
import { upstream } from '../helpers/upstream.js';

/** What a backend saw of each request. */
type Seen = { method: string; url: string; headers: http.IncomingHttpHeaders; raw: string[] };

/** A backend answering `name` that records every request it receives into `seen`. */
const recorder = async (name: string, seen: Seen[]) =>
  upstream((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, raw: req.rawHeaders });
    req.resume();
    req.on('end', () => res.end(name));
  });

/**
 * A gateway on `rules` (backend 0 `main`, backend 1 `mirror`, both recording what they see), closed with
 * the test.
 */
async function mainAndMirror(t: { teardown(fn: () => unknown): void }, rules: RuleSpec[]) {
  const mainSeen: Seen[] = [];
  const mirrorSeen: Seen[] = [];
  const main = await recorder('main', mainSeen);
  const mirror = await recorder('mirror', mirrorSeen);
  const tbl = table(
    [{ port: await freePort(), groups: [{ rules }] }],
    [backend('main', [{ address: '127.0.0.1', port: main.port }]), backend('mirror', [{ address: '127.0.0.1', port: mirror.port }])],
  );
  const { rt, port: gw } = await gateway(tbl);
  t.teardown(async () => {
    closeAgent();
    await rt.close(100);
    await main.close();
    await mirror.close();
  });
  return { gw, mainSeen, mirrorSeen };
}

/** Waits (at most 2 s) for a copy beyond the first `n`: mirrors are fire-and-forget. */
async function copiesAfter(seen: Seen[], n: number): Promise<void> {
  const until = Date.now() + 2000;
  while (seen.length === n && Date.now() < until) await new Promise((res) => setTimeout(res, 10));
}

t.test('RequestMirror: fire-and-forget copies, fraction, never delays the main request', async (t) => {
  const a = await startEchoServer({ name: 'a' });
  const lines: string[] = [];
  const m = await startEchoServer({ name: 'mirror', log: (l) => lines.push(l) });
  const bodies: string[] = [];
  const slow = await upstream((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString());
      setTimeout(() => res.end('slow'), 2000);
    });
  });
  const dead = await freePort();
  const port = await freePort();
  const tbl = table(
    [
      {
        port,
        groups: [
          {
            rules: [
              { path: '/mirror', filters: [{ type: 'RequestMirror', backend: 1, fraction: 1 }, { type: 'RequestHeaderModifier', ops: { set: [['x-filtered', 'yes']], add: [], remove: [] } }], refs: [{ backend: 0 }] },
              { path: '/half', filters: [{ type: 'RequestMirror', backend: 1, fraction: 0.5 }], refs: [{ backend: 0 }] },
              { path: '/slow-mirror', filters: [{ type: 'RequestMirror', backend: 2, fraction: 1 }], refs: [{ backend: 0 }] },
              { path: '/dead-mirror', filters: [{ type: 'RequestMirror', backend: 3, fraction: 1 }], refs: [{ backend: 0 }] },
            ],
          },
        ],
      },
    ],
    [
      backend('a', [{ address: '127.0.0.1', port: a.port }]),
      backend('m', [{ address: '127.0.0.1', port: m.port }]),
      backend('slow', [{ address: '127.0.0.1', port: slow.port }]),
      backend('dead', [{ address: '127.0.0.1', port: dead }]),
    ],
  );
  const { rt, port: gw } = await gateway(tbl);
  t.teardown(async () => {
    closeAgent();
    await rt.close(100);
    await a.close();
    await m.close();
    await slow.close();
  });
  const r = await request(gw, '/mirror?gateway-api-conformance-request-id=abc', { host: 'x' });
  t.equal(r.json().pod, 'a');
  const until = Date.now() + 2000;
  while (m.count() < 1 && Date.now() < until) await new Promise((res) => setTimeout(res, 10));
  t.equal(m.count(), 1, 'the mirror got a copy');
  t.match(lines[0], 'Echoing back request made to /mirror?gateway-api-conformance-request-id=abc to client');

  const before = m.count();
  for (let i = 0; i < 200; i++) await request(gw, '/half', { host: 'x' });
  await new Promise((res) => setTimeout(res, 200));
  const got = m.count() - before;
  t.ok(got > 60 && got < 140, `about half mirrored (${got}/200)`);

  let start = Date.now();
  const r2 = await request(gw, '/slow-mirror', { host: 'x', method: 'POST', body: 'small body' });
  t.equal(r2.status, 200);
  t.equal(r2.json().bodyBytes, 10, 'the main request got the body');
  t.ok(Date.now() - start < 1000, 'a slow mirror does not delay the main request');
  const until2 = Date.now() + 2000;
  while (bodies.length < 1 && Date.now() < until2) await new Promise((res) => setTimeout(res, 10));
  t.same(bodies, ['small body'], 'a small body is mirrored too');

  start = Date.now();
  const r3 = await request(gw, '/dead-mirror', { host: 'x' });
  t.equal(r3.status, 200, 'a dead mirror does not fail the main request');
});

t.test('RequestMirror: the copy carries the rule’s request-header modifications (features.md §9.9 “the (filtered) request”)', async (t) => {
  const ops = { set: [['x-filtered', 'yes']] as [string, string][], add: [['x-add', 'added']] as [string, string][], remove: ['x-remove'] };
  const { gw, mainSeen, mirrorSeen } = await mainAndMirror(t, [
    // the mirror is written before the modifier: the copy is still the filtered request
    { path: '/before', filters: [{ type: 'RequestMirror', backend: 1, fraction: 1 }, { type: 'RequestHeaderModifier', ops }], refs: [{ backend: 0 }] },
    { path: '/after', filters: [{ type: 'RequestHeaderModifier', ops }, { type: 'RequestMirror', backend: 1, fraction: 1 }], refs: [{ backend: 0 }] },
  ]);
  for (const path of ['/before', '/after']) {
    const n = mirrorSeen.length;
    const r = await request(gw, `${path}/x?gateway-api-conformance-request-id=${path.slice(1)}`, {
      host: 'example.com',
      headers: { 'x-filtered': 'client-value', 'x-add': 'orig', 'x-remove': 'secret', 'x-keep': 'k' },
    });
    t.equal(r.body, 'main', `${path}: the main backend answered`);
    await copiesAfter(mirrorSeen, n);
    t.equal(mirrorSeen.length, n + 1, `${path}: the mirror got one copy`);
    const m = mirrorSeen[n];
    const p = mainSeen.at(-1)!;
    for (const [who, s] of [['mirror', m], ['main', p]] as const) {
      t.equal(s.method, 'GET', `${path} ${who}: method`);
      t.equal(s.url, `${path}/x?gateway-api-conformance-request-id=${path.slice(1)}`, `${path} ${who}: path and query unchanged`);
      t.equal(s.headers['x-filtered'], 'yes', `${path} ${who}: set overwrote the client's value`);
      const addValues = s.raw.flatMap((v, i) => (i % 2 === 1 && s.raw[i - 1].toLowerCase() === 'x-add' ? [v] : []));
      t.equal(addValues.join(','), 'orig,added', `${path} ${who}: add appended to the client's value (${JSON.stringify(addValues)})`);
      t.notOk('x-remove' in s.headers, `${path} ${who}: removed header absent`);
      t.equal(s.headers['x-keep'], 'k', `${path} ${who}: other client headers kept`);
      t.equal(s.headers.host, 'example.com', `${path} ${who}: Host forwarded`);
    }
  }
});

t.test('RequestMirror: a rule-level copy does not carry the filters of the backendRef the main request went to', async (t) => {
  // Gateway API: backendRef filters apply only to requests sent to that backend. A credential set for the
  // main backend, or its URLRewrite, must not reach the rule's mirror; the rule's own edits still do.
  const rule = { set: [['x-rule', 'r']] as [string, string][], add: [], remove: [] };
  const secret = { set: [['authorization', 'Bearer for-main-only']] as [string, string][], add: [], remove: [] };
  const { gw, mainSeen, mirrorSeen } = await mainAndMirror(t, [
    {
      path: '/m',
      filters: [{ type: 'RequestHeaderModifier', ops: rule }, { type: 'RequestMirror', backend: 1, fraction: 1 }],
      refs: [
        {
          backend: 0,
          filters: [
            { type: 'RequestHeaderModifier', ops: secret },
            { type: 'URLRewrite', hostname: 'main.internal', path: { type: 'ReplacePrefixMatch', value: '/v2', prefix: '/m' } },
          ],
        },
      ],
    },
  ]);
  const r = await request(gw, '/m/x?q=1', { host: 'example.com' });
  t.equal(r.body, 'main');
  await copiesAfter(mirrorSeen, 0);
  t.equal(mirrorSeen.length, 1, 'the mirror got one copy');
  const m = mirrorSeen[0]!;
  const p = mainSeen[0]!;
  t.equal(p.headers.authorization, 'Bearer for-main-only', 'main: its backendRef header');
  t.equal(p.url, '/v2/x?q=1', 'main: its backendRef rewrite');
  t.equal(p.headers.host, 'main.internal', 'main: its backendRef host rewrite');
  t.equal(p.headers['x-rule'], 'r', 'main: the rule header');
  t.notOk('authorization' in m.headers, 'mirror: no header of the main backendRef');
  t.equal(m.url, '/m/x?q=1', 'mirror: the path without the main backendRef rewrite');
  t.equal(m.headers.host, 'example.com', 'mirror: the client Host');
  t.equal(m.headers['x-rule'], 'r', 'mirror: the rule header');
});
