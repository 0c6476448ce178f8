/**
 * The one behaviour suite every PortMatcher must pass (trie and linear). Each case states a table and
 * the requests a user would send, with the route that must answer (null = 404).
 */
import type { Test } from 'tap';
import type { PortIR } from '../../src/ir/types.js';
import type { PortMatcher } from '../../src/match/types.js';
import { group, listener, port, route, tlsRoute } from './helpers.js';

export type Build = (port: PortIR) => PortMatcher;

type Req = [method: string, host: string, target: string, headers: Record<string, string | string[]>, expect: string | null];

function check(t: Test, m: PortMatcher, reqs: Req[]): void {
  for (const [method, host, target, headers, expect] of reqs) {
    t.equal(route(m, method, host, target, headers), expect, `${method} ${host}${target} ${JSON.stringify(headers)} → ${expect}`);
  }
}

export function commonCases(t: Test, build: Build): void {
  t.test('path types: Exact, then RegularExpression, then the longest PathPrefix', async (t) => {
    const m = build(
      port([
        group(null, [
          { name: 'root', path: '/' },
          { name: 'foo-prefix', path: '/foo' },
          { name: 'foo-bar-prefix', path: '/foo/bar/' },
          { name: 'foo-exact', path: { type: 'Exact', value: '/foo' } },
          { name: 'foo-regex', path: { type: 'RegularExpression', value: '/foo/[0-9]+' } },
          { name: 'foo-bar-regex', path: { type: 'RegularExpression', value: '/foo/bar/[a-z]+' } },
        ]),
      ]),
    );
    check(t, m, [
      ['GET', 'a.com', '/foo', {}, 'foo-exact'],
      ['GET', 'a.com', '/foo/', {}, 'foo-prefix'],
      ['GET', 'a.com', '/foo/12', {}, 'foo-regex'],
      ['GET', 'a.com', '/foo/12x', {}, 'foo-prefix'],
      ['GET', 'a.com', '/foo/bar', {}, 'foo-bar-prefix'],
      ['GET', 'a.com', '/foo/bar/', {}, 'foo-bar-prefix'],
      ['GET', 'a.com', '/foo/bar/baz', {}, 'foo-bar-regex'],
      ['GET', 'a.com', '/foo/bar/baz/1', {}, 'foo-bar-prefix'],
      ['GET', 'a.com', '/foobar', {}, 'root'],
      ['GET', 'a.com', '/', {}, 'root'],
    ]);
  });

  t.test('a longer regex beats a shorter one; an exact path beats any regex', async (t) => {
    const m = build(
      port([
        group(null, [
          { name: 'short', path: { type: 'RegularExpression', value: '/.*' } },
          { name: 'long', path: { type: 'RegularExpression', value: '/api/.*' } },
          { name: 'exact', path: { type: 'Exact', value: '/api/x' } },
        ]),
      ]),
    );
    check(t, m, [
      ['GET', 'h', '/api/x', {}, 'exact'],
      ['GET', 'h', '/api/y', {}, 'long'],
      ['GET', 'h', '/other', {}, 'short'],
    ]);
  });

  t.test('PathPrefix matches whole segments (features.md §9.4 examples)', async (t) => {
    const m = build(
      port([
        group(null, [
          { name: 'abc', path: '/abc/' },
          { name: 'v2', path: '/v2' },
          { name: 'port', path: '/port' },
        ]),
      ]),
    );
    check(t, m, [
      ['GET', 'h', '/abc', {}, 'abc'],
      ['GET', 'h', '/abc/', {}, 'abc'],
      ['GET', 'h', '/abc/def', {}, 'abc'],
      ['GET', 'h', '/abcd', {}, null],
      ['GET', 'h', '/Abc', {}, null],
      ['GET', 'h', '/v2', {}, 'v2'],
      ['GET', 'h', '/v2/', {}, 'v2'],
      ['GET', 'h', '/v2/example', {}, 'v2'],
      ['GET', 'h', '/v2example', {}, null],
      ['GET', 'h', '/foo/v2/example', {}, null],
      ['GET', 'h', '/port-and-host', {}, null],
      ['GET', 'h', '/port?x=1', {}, 'port'],
    ]);
  });

  t.test('Exact is byte-for-byte and case-sensitive', async (t) => {
    const m = build(port([group(null, [{ name: 'one', path: { type: 'Exact', value: '/one' } }, { name: 'two', path: { type: 'Exact', value: '/two' } }])]));
    check(t, m, [
      ['GET', 'h', '/one', {}, 'one'],
      ['GET', 'h', '/one?a=b', {}, 'one'],
      ['GET', 'h', '/one/', {}, null],
      ['GET', 'h', '/one/example', {}, null],
      ['GET', 'h', '/Two', {}, null],
      ['GET', 'h', '/two', {}, 'two'],
    ]);
  });

  t.test('prefix length beats method, method beats headers, headers beat query (conformance)', async (t) => {
    const m = build(
      port([
        group(null, [
          { name: 'path5', path: '/path5' },
          { name: 'patch', method: 'PATCH' },
          { name: 'header-four', headers: [['version', 'four']] },
          { name: 'query-hydra', query: [['animal', 'hydra']] },
          { name: 'root' },
        ]),
      ]),
    );
    check(t, m, [
      ['PATCH', 'h', '/path5', {}, 'path5'],
      ['PATCH', 'h', '/', { version: 'four' }, 'patch'],
      ['GET', 'h', '/?animal=hydra', { version: 'four' }, 'header-four'],
      ['GET', 'h', '/?animal=hydra', {}, 'query-hydra'],
      ['GET', 'h', '/?animal=whale', {}, 'root'],
    ]);
  });

  t.test('more header matches win, then more query matches, then the older route', async (t) => {
    const m = build(
      port([
        group(null, [
          { name: 'old-one-header', headers: [['a', '1']] },
          { name: 'two-headers', headers: [['a', '1'], ['b', '2']] },
          { name: 'new-one-header', headers: [['b', '2']] },
          { name: 'two-query', query: [['x', '1'], ['y', '2']] },
          { name: 'one-query', query: [['x', '1']] },
        ]),
      ]),
    );
    check(t, m, [
      ['GET', 'h', '/', { a: '1', b: '2' }, 'two-headers'],
      ['GET', 'h', '/', { a: '1' }, 'old-one-header'],
      ['GET', 'h', '/', { b: '2' }, 'new-one-header'],
      ['GET', 'h', '/?x=1&y=2', {}, 'two-query'],
      ['GET', 'h', '/?x=1', {}, 'one-query'],
      ['GET', 'h', '/?x=1&y=2', { b: '2' }, 'new-one-header'],
      ['GET', 'h', '/', {}, null],
    ]);
  });

  t.test('route age breaks the remaining ties (same match on two routes)', async (t) => {
    const m = build(port([group(null, [{ name: 'older', path: '/x' }, { name: 'newer', path: '/x/' }])]));
    check(t, m, [['GET', 'h', '/x/y', {}, 'older']]);
  });

  t.test('route hostnames: exact, then longer wildcard, then `*`; wildcards cover one or more labels', async (t) => {
    const m = build(
      port([
        group(null, [
          { name: 'any', host: '*', path: { type: 'Exact', value: '/x' } },
          { name: 'com', host: '*.com', path: '/' },
          { name: 'example', host: '*.example.com', path: '/' },
          { name: 'exact', host: 'www.example.com', path: '/deep/' },
        ]),
      ]),
    );
    check(t, m, [
      ['GET', 'www.example.com', '/deep/x', {}, 'exact'],
      // hostname precedence comes before path precedence, but a bucket that does not match falls through
      ['GET', 'www.example.com', '/x', {}, 'example'],
      ['GET', 'a.b.example.com', '/x', {}, 'example'],
      ['GET', 'example.com', '/x', {}, 'com'],
      ['GET', 'com', '/x', {}, 'any'],
      ['GET', 'org', '/y', {}, null],
      ['GET', 'example.org', '/x', {}, 'any'],
    ]);
  });

  t.test('listener isolation: only the most specific listener hostname group, never a fallback', async (t) => {
    const m = build(
      port([
        group('abc.foo.example.com', [{ name: 'abc', path: '/abc' }]),
        group('*.foo.example.com', [{ name: 'foo-wild', host: '*.foo.example.com' }]),
        group('*.example.com', [{ name: 'example-wild', host: '*.example.com' }]),
        group(null, [{ name: 'catch-all' }]),
      ]),
    );
    t.equal(m.selectGroup('abc.foo.example.com'), 0);
    t.equal(m.selectGroup('x.abc.foo.example.com'), 1);
    t.equal(m.selectGroup('x.foo.example.com'), 1);
    t.equal(m.selectGroup('foo.example.com'), 2);
    t.equal(m.selectGroup('example.com'), 3);
    t.equal(m.selectGroup('other.org'), 3);
    check(t, m, [
      ['GET', 'abc.foo.example.com', '/abc/1', {}, 'abc'],
      ['GET', 'abc.foo.example.com', '/other', {}, null],
      ['GET', 'ABC.Foo.Example.COM:8080', '/abc', {}, 'abc'],
      ['GET', 'abc.foo.example.com.', '/abc', {}, 'abc'],
      ['GET', 'a.b.foo.example.com', '/', {}, 'foo-wild'],
      ['GET', 'foo.example.com', '/', {}, 'example-wild'],
      ['GET', 'example.com', '/', {}, 'catch-all'],
    ]);
  });

  t.test('no catch-all listener: an uncovered host selects no group', async (t) => {
    const m = build(port([group('a.example.com', [{ name: 'a' }]), group('*.b.example.com', [{ name: 'b' }])]));
    t.equal(m.selectGroup('a.example.com'), 0);
    t.equal(m.selectGroup('x.b.example.com'), 1);
    t.equal(m.selectGroup('b.example.com'), -1);
    t.equal(m.selectGroup('example.com'), -1);
    t.equal(m.selectGroup(''), -1);
    t.equal(m.match(7, { method: 'GET', host: 'a.example.com', path: '/', query: '', headers: {} }), null, 'bad group index');
    t.equal(m.match(-1, { method: 'GET', host: 'a.example.com', path: '/', query: '', headers: {} }), null);
  });

  t.test('host ports, IPv6 literals and trailing dots are ignored', async (t) => {
    const m = build(port([group(null, [{ name: 'ex', host: 'example.com' }, { name: 'v6', host: '[::1]' }])]));
    check(t, m, [
      ['GET', 'example.com:1234', '/', {}, 'ex'],
      ['GET', 'EXAMPLE.com', '/', {}, 'ex'],
      ['GET', 'example.com.:80', '/', {}, 'ex'],
      ['GET', '[::1]:8080', '/', {}, 'v6'],
      ['GET', 'example.org', '/', {}, null],
    ]);
  });

  t.test('methods are exact and upper case', async (t) => {
    const m = build(port([group(null, [{ name: 'post', method: 'POST' }, { name: 'get', method: 'GET' }])]));
    check(t, m, [
      ['POST', 'h', '/a', {}, 'post'],
      ['GET', 'h', '/a', {}, 'get'],
      ['HEAD', 'h', '/a', {}, null],
      ['get', 'h', '/a', {}, null],
    ]);
  });

  t.test('headers: names case-insensitive, Exact values case-sensitive, repeated headers joined with ","', async (t) => {
    const m = build(
      port([
        group(null, [
          { name: 'exact', headers: [['X-Version', 'One']] },
          { name: 'joined', headers: [['x-multi', 'a,b']] },
          { name: 'regex', headers: [['x-re', 'v[0-9]+', 'RegularExpression']] },
          { name: 'first-wins', headers: [['x-dup', '1'], ['X-Dup', '2']] },
        ]),
      ]),
    );
    check(t, m, [
      ['GET', 'h', '/', { 'x-version': 'One' }, 'exact'],
      ['GET', 'h', '/', { 'X-VERSION': 'One' }, 'exact'],
      ['GET', 'h', '/', { 'x-version': 'one' }, null],
      ['GET', 'h', '/', { 'x-multi': 'a,b' }, 'joined'],
      ['GET', 'h', '/', { 'x-multi': ['a', 'b'] }, 'joined'],
      ['GET', 'h', '/', { 'x-multi': 'a' }, null],
      ['GET', 'h', '/', { 'x-re': 'v12' }, 'regex'],
      ['GET', 'h', '/', { 'x-re': 'xv12' }, null],
      ['GET', 'h', '/', { 'x-re': 'v12x' }, null],
      ['GET', 'h', '/', { 'x-dup': '1' }, 'first-wins'],
      ['GET', 'h', '/', { 'x-dup': '2' }, null],
    ]);
  });

  t.test('query params: first value, case-sensitive, decoded, regex full match', async (t) => {
    const m = build(
      port([
        group(null, [
          { name: 'animal', query: [['animal', 'whale']] },
          { name: 'ANIMAL', query: [['ANIMAL', 'whale']] },
          { name: 'spaced', query: [['q', 'hello world']] },
          { name: 'regex', query: [['id', '[0-9]+', 'RegularExpression']] },
          { name: 'empty', query: [['flag', '']] },
        ]),
      ]),
    );
    check(t, m, [
      ['GET', 'h', '/?animal=whale', {}, 'animal'],
      ['GET', 'h', '/?x=1&animal=whale&y', {}, 'animal'],
      ['GET', 'h', '/?animal=dolphin&animal=whale', {}, null],
      ['GET', 'h', '/?animal=whale&animal=dolphin', {}, 'animal'],
      ['GET', 'h', '/?ANIMAL=whale', {}, 'ANIMAL'],
      ['GET', 'h', '/?animal=Whale', {}, null],
      ['GET', 'h', '/?q=hello%20world', {}, 'spaced'],
      ['GET', 'h', '/?id=123', {}, 'regex'],
      ['GET', 'h', '/?id=123a', {}, null],
      ['GET', 'h', '/?flag', {}, 'empty'],
      ['GET', 'h', '/?flag=', {}, 'empty'],
      ['GET', 'h', '/', {}, null],
      ['GET', 'h', '/?bad=%zz', {}, null],
    ]);
  });

  t.test('path regexes: RE2 syntax, whole-path match, invalid patterns never match', async (t) => {
    const m = build(
      port([
        group(null, [
          { name: 'ab', path: { type: 'RegularExpression', value: '/ab.*' } },
          { name: 'digits', path: { type: 'RegularExpression', value: '/n/[0-9]+' } },
          { name: 'ci', path: { type: 'RegularExpression', value: '(?i)/CASE' } },
          { name: 'alt', path: { type: 'RegularExpression', value: '/x|/y/z' } },
          { name: 'anchored', path: { type: 'RegularExpression', value: '^/anch$' } },
          { name: 'api', path: { type: 'RegularExpression', value: '/api/v[0-9]+/users' } },
          { name: 'invalid', path: { type: 'RegularExpression', value: '/bad/(' } },
          { name: 'backref', path: { type: 'RegularExpression', value: '/(a)\\1' } },
        ]),
      ]),
    );
    check(t, m, [
      ['GET', 'h', '/abc', {}, 'ab'],
      ['GET', 'h', '/xab', {}, null],
      ['GET', 'h', '/n/123', {}, 'digits'],
      ['GET', 'h', '/n/123x', {}, null],
      ['GET', 'h', '/case', {}, 'ci'],
      ['GET', 'h', '/x', {}, 'alt'],
      ['GET', 'h', '/y/z', {}, 'alt'],
      ['GET', 'h', '/anch', {}, 'anchored'],
      ['GET', 'h', '/api/v2/users', {}, 'api'],
      ['GET', 'h', '/api/v2/users/1', {}, null],
      ['GET', 'h', '/api/v/users', {}, null],
      ['GET', 'h', '/bad/(', {}, null],
      ['GET', 'h', '/aa', {}, null],
    ]);
  });

  t.test('gRPC entries only match application/grpc requests', async (t) => {
    const m = build(
      port([
        group(null, [
          { name: 'grpc-method', grpc: true, path: { type: 'Exact', value: '/pkg.Svc/Get' }, grpcMethod: { service: 'pkg.Svc', method: 'Get' } },
          { name: 'grpc-service', grpc: true, path: '/pkg.Svc/', grpcMethod: { service: 'pkg.Svc', method: null } },
          { name: 'http' },
        ]),
      ]),
    );
    check(t, m, [
      ['POST', 'h', '/pkg.Svc/Get', { 'content-type': 'application/grpc' }, 'grpc-method'],
      ['POST', 'h', '/pkg.Svc/Get', { 'content-type': 'application/grpc+proto' }, 'grpc-method'],
      ['POST', 'h', '/pkg.Svc/List', { 'content-type': 'application/grpc' }, 'grpc-service'],
      ['POST', 'h', '/pkg.Svc/Get', { 'content-type': 'application/json' }, 'http'],
      ['POST', 'h', '/pkg.Svc/Get', {}, 'http'],
      ['POST', 'h', '/other/Get', { 'content-type': 'application/grpc' }, 'http'],
    ]);
  });

  t.test('matching happens on the normalised path', async (t) => {
    const m = build(
      port([
        group(null, [
          { name: 'public', path: '/public' },
          { name: 'tilde', path: { type: 'Exact', value: '/%7Euser' } },
        ]),
      ]),
    );
    check(t, m, [
      ['GET', 'h', '/public/../admin', {}, null],
      ['GET', 'h', '/public/%2e%2e/admin', {}, null],
      ['GET', 'h', '/public/./x', {}, 'public'],
      ['GET', 'h', '//public//x', {}, 'public'],
      ['GET', 'h', '/%70ublic/x', {}, 'public'],
      ['GET', 'h', '/public%2F..%2Fadmin', {}, 'REFUSED'],
      ['GET', 'h', '/public\\..\\admin', {}, 'REFUSED'],
      ['GET', 'h', '/~user', {}, 'tilde'],
      ['GET', 'h', '/%7euser', {}, 'tilde'],
      ['GET', 'h', 'http://h/public/x?y=1', {}, 'public'],
    ]);
  });

  t.test('many siblings (hashed children) and deep trees', async (t) => {
    const specs = Array.from({ length: 40 }, (_, i) => ({ name: `s${i}`, path: `/s${i}/deep/er` }));
    const m = build(port([group(null, [...specs, { name: 'top', path: '/s7' }])]));
    check(t, m, [
      ['GET', 'h', '/s0/deep/er', {}, 's0'],
      ['GET', 'h', '/s39/deep/er/x', {}, 's39'],
      ['GET', 'h', '/s7/deep/er/x', {}, 's7'],
      ['GET', 'h', '/s7/deep', {}, 'top'],
      ['GET', 'h', '/s40/deep/er', {}, null],
      ['GET', 'h', '/s3/deep/err', {}, null],
    ]);
  });

  t.test('SNI: exact beats wildcard, longer wildcard beats shorter, `*` last; HTTPS listeners give null', async (t) => {
    const listeners = [
      listener(0, 'db.example.com', 'TLS'),
      listener(1, '*.tls.example.com', 'TLS'),
      listener(2, 'www.example.com', 'HTTPS'),
      listener(3, null, 'TLS'),
    ];
    const p = port([], {
      protocol: 'TLS',
      listeners,
      tlsRoutes: [
        tlsRoute('db', 'db.example.com', 0),
        tlsRoute('tls-a', 'a.tls.example.com', 1),
        tlsRoute('tls-wild', '*.tls.example.com', 1),
        tlsRoute('any-short', '*.com', 3),
        tlsRoute('any-long', '*.example.com', 3),
        tlsRoute('any', '*', 3),
      ],
    });
    const m = build(p);
    const sni = (s: string) => m.matchSni(s)?.route.slice(3) ?? null;
    t.equal(sni('db.example.com'), 'db');
    t.equal(sni('a.tls.example.com'), 'tls-a');
    t.equal(sni('b.tls.example.com'), 'tls-wild');
    t.equal(sni('x.y.tls.example.com'), 'tls-wild');
    t.equal(sni('www.example.com'), null, 'HTTPS listener: terminate and route over HTTP');
    t.equal(sni('other.example.com'), 'any-long');
    t.equal(sni('example.com'), 'any-short');
    t.equal(sni('example.org'), 'any');
    const q = build(port([], { protocol: 'TLS', listeners: [listener(0, 'only.example.com', 'TLS')], tlsRoutes: [] }));
    t.equal(q.matchSni('only.example.com'), null, 'listener without routes');
    t.equal(q.matchSni('other.example.com'), null, 'no listener');
  });
}
