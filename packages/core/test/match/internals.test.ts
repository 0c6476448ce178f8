// Internals of the trie matcher that the behaviour suite cannot see: regex anchoring, the comparator
// being a total order (the compiler sorts with it), and no allocation on a hit.
import t from 'tap';
import { compareHttpEntries } from '../../src/compile/precedence.js';
import type { HttpMatchEntry } from '../../src/ir/types.js';
import { buildPortMatcher } from '../../src/match/http-matcher.js';
import { regexAnchorPath, regexLiteralPrefix } from '../../src/match/trie.js';
import { group, head, port } from './helpers.js';

t.test('regex literal prefixes and anchors are conservative', async (t) => {
  const cases: [string, string, string][] = [
    ['/api/v[0-9]+', '/api/v', '/api'],
    ['/api/.*', '/api/', '/api'],
    ['^/api/x$', '/api/x', '/api'],
    ['/ab?/c', '/a', ''],
    ['/a/b*', '/a/', '/a'],
    ['/a/b{2}', '/a/', '/a'],
    ['/a|/b', '', ''],
    ['/(a|b)/c', '', ''],
    ['(?i)/API', '', ''],
    ['.*', '', ''],
    ['/v1/x\\.y', '/v1/x', '/v1'],
    ['api/x', '', ''],
  ];
  for (const [re, lit, anchor] of cases) {
    t.equal(regexLiteralPrefix(re), lit, `literal of ${re}`);
    t.equal(regexAnchorPath(re), anchor, `anchor of ${re}`);
  }
});

t.test('compareHttpEntries is a total order, also when gRPC and HTTP entries share a hostname', async (t) => {
  const mk = (p: Partial<HttpMatchEntry>, rule: number): HttpMatchEntry => ({
    hostname: '*', path: { type: 'PathPrefix', value: '/' }, method: null, headers: [], queryParams: [],
    grpc: false, grpcMethod: null, rule, matchIndex: 0, listener: 0, ...p,
  });
  const entries: HttpMatchEntry[] = [
    mk({ grpc: true, grpcMethod: { service: 'abc', method: null }, path: { type: 'PathPrefix', value: '/abc/' } }, 0),
    mk({ grpc: true, grpcMethod: { service: 'x', method: 'y' }, path: { type: 'Exact', value: '/x/y' } }, 1),
    mk({ path: { type: 'PathPrefix', value: '/zzzzz' } }, 2),
    mk({ path: { type: 'Exact', value: '/a' } }, 3),
    mk({ path: { type: 'RegularExpression', value: '/a.*' }, method: 'GET' }, 4),
    mk({ hostname: '*.example.com' }, 5),
    mk({ hostname: 'a.example.com', headers: [{ type: 'Exact', name: 'x', value: '1' }] }, 6),
    mk({ grpc: true, grpcMethod: null }, 7),
  ];
  let bad = 0;
  for (const a of entries)
    for (const b of entries) {
      if (Math.sign(compareHttpEntries(a, b)) !== -Math.sign(compareHttpEntries(b, a))) bad++;
      for (const c of entries)
        if (compareHttpEntries(a, b) < 0 && compareHttpEntries(b, c) < 0 && !(compareHttpEntries(a, c) < 0)) bad++;
    }
  t.equal(bad, 0, 'antisymmetric and transitive');
});

// re2js allocates a small input wrapper per evaluation, so hits that run a path regex are not in this
// set; everything the matcher itself does is allocation-free.
t.test('a hit allocates nothing', async (t) => {
  const m = buildPortMatcher(
    port([
      group(null, [
        { name: 'users', host: 'api.example.com', path: '/api/users' },
        { name: 'items', host: 'api.example.com', path: { type: 'RegularExpression', value: '/api/v[0-9]+/items/[0-9]+' } },
        { name: 'health', host: '*.example.com', path: { type: 'Exact', value: '/healthz' } },
        { name: 'tenant', host: '*', path: '/t', headers: [['x-tenant', 'a']], query: [['debug', '1']] },
      ]),
    ]),
  );
  const reqs = [
    head('GET', 'api.example.com', '/api/users/42')!,
    head('GET', 'api.example.com', '/api/users')!,
    head('GET', 'x.example.com', '/healthz')!,
    head('GET', 'other.org', '/t/x?debug=1', { 'x-tenant': 'a' })!,
  ];
  for (const r of reqs) t.ok(m.match(m.selectGroup(r.host), r), `${r.host}${r.path} hits`);
  const N = 200_000;
  let sink = 0;
  for (let i = 0; i < N; i++) { const r = reqs[i & 3]!; if (m.match(m.selectGroup(r.host), r)) sink++; }
  // A scavenge during the loop makes the delta negative: measure again (a real allocation of 16+
  // bytes per lookup would fill the young generation every few thousand lookups, so it cannot hide).
  let perLookup = -1;
  for (let attempt = 0; attempt < 5 && perLookup < 0; attempt++) {
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < N; i++) { const r = reqs[i & 3]!; if (m.match(m.selectGroup(r.host), r)) sink++; }
    perLookup = (process.memoryUsage().heapUsed - before) / N;
  }
  t.ok(perLookup >= 0 && perLookup < 8, `~${perLookup.toFixed(2)} bytes per lookup (the smallest object is 16)`);
  t.ok(sink >= 2 * N);
});

t.test('lookup never throws, whatever the request head holds', async (t) => {
  const m = buildPortMatcher(
    port([
      group(null, [
        { name: 'a', host: 'a.example.com', path: '/a', headers: [['x', '1']], query: [['q', '1']] },
        { name: 'r', host: '*.example.com', path: { type: 'RegularExpression', value: '/r/.*' }, method: 'GET' },
        { name: 'e', host: '*', path: { type: 'Exact', value: '/e' }, grpc: true },
        { name: 'constructor', host: '*', path: '/c', headers: [['constructor', 'x'], ['__proto__', 'y']] },
      ]),
    ]),
  );
  let seed = 12345;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
  const junk = (): unknown => {
    const pool: unknown[] = ['', '/', '//', '/a', '/a/../b', 'a', '/r/x', '/e', '/c', '\u0000', '%', '?', '.', '/a/', '/' + 'x/'.repeat(200), undefined, null, 42, {}, [], ['1', '2'], [1]];
    return pool[Math.floor(rnd() * pool.length)];
  };
  let threw = 0;
  for (let i = 0; i < 20_000; i++) {
    const req = {
      method: junk(), host: rnd() < 0.5 ? 'a.example.com' : junk(), path: junk(), query: rnd() < 0.5 ? 'q=1' : junk(),
      headers: rnd() < 0.2 ? {} : { x: junk(), 'content-type': junk() },
    } as never;
    try {
      m.match(Math.floor(rnd() * 3) - 1, req);
      m.selectGroup(junk() as string);
      m.matchSni(junk() as string);
    } catch (e) {
      if (threw++ === 0) t.fail(`threw on ${JSON.stringify(req)}: ${String(e)}`);
    }
  }
  t.equal(threw, 0);
  t.equal(m.match(0, head('GET', 'x', '/c', {})!), null, 'prototype properties are not headers');
});
