import t from 'tap';
import { normalizeMatchValue, normalizePath, parseRequestTarget } from '../../src/match/path.js';

// [input, expected normalised path or null (refused → 400)]
const PATHS: [string, string | null][] = [
  // unchanged (fast path)
  ['/', '/'],
  ['/a', '/a'],
  ['/a/b/c', '/a/b/c'],
  ['/a/', '/a/'],
  ['/a.b/c..d/e.', '/a.b/c..d/e.'],
  ["/-_~!$&'()*+,;=:@", "/-_~!$&'()*+,;=:@"],
  // dot segments
  ['/public/../admin', '/admin'],
  ['/public/./admin', '/public/admin'],
  ['/a/b/..', '/a/'],
  ['/a/b/.', '/a/b/'],
  ['/..', '/'],
  ['/../../admin', '/admin'],
  ['/a/../../..', '/'],
  ['/.', '/'],
  ['/.well-known/x', '/.well-known/x'],
  ['/a/.../b', '/a/.../b'],
  ['/a/..b/c', '/a/..b/c'],
  // duplicate slashes
  ['//admin', '/admin'],
  ['/a//b///c', '/a/b/c'],
  ['/a//', '/a/'],
  ['//', '/'],
  // percent-encoding
  ['/public/%2e%2e/admin', '/admin'],
  ['/%2e%2E/', '/'],
  ['/public/%2E/x', '/public/x'],
  ['/public/.%2e/admin', '/admin'],
  ['/%7Euser', '/~user'],
  ['/%7euser', '/~user'],
  ['/%41%62%30-%5f', '/Ab0-_'],
  ['/caf%c3%a9', '/caf%C3%A9'],
  ['/a%20b', '/a%20b'],
  ['/a%3fb', '/a%3Fb'],
  ['/caf\u00e9', '/caf%E9'],
  // refused
  ['/public%2F..%2Fadmin', null],
  ['/public%2f..%2fadmin', null],
  ['/public%5C..%5Cadmin', null],
  ['/public\\..\\admin', null],
  ['/a\\b', null],
  ['/a%00', null],
  ['/a\u0000b', null],
  ['/a\u0001', null],
  ['/a%0d%0aX-Injected:1', null],
  ['/a%7F', null],
  ['/a\u007f', null],
  ['/a b', null],
  ['/a%20b/../c', '/c'],
  ['/a%zz', null],
  ['/a%4', null],
  ['/a%', null],
  ['/%%30%30', null],
  ['/a%e%41', null],
  ['/public/..;/admin', null],
  ['/public/.;x/admin', null],
  ['/public/..%3B/admin', null],
  ['/public/%2e%2e;/admin', null],
  ['/\u0100', null],
  ['', null],
  ['admin', null],
  ['*', null],
  // fragment dropped
  ['/a#frag', '/a'],
  ['/a/../b#/../../c', '/b'],
];

t.test('normalizePath table', async (t) => {
  for (const [input, want] of PATHS) t.equal(normalizePath(input), want, JSON.stringify(input));
  t.ok(PATHS.length >= 40);
});

t.test('fast path returns the very same string', async (t) => {
  for (const p of ['/', '/a/b', '/api/v1/users/123', '/x.y/z']) t.equal(normalizePath(p), p);
  // identity also from the slow path when nothing changes
  const s = '/.well-known/acme';
  t.equal(normalizePath(s), s);
});

t.test('normalisation is idempotent', async (t) => {
  for (const [input, want] of PATHS) {
    if (want === null) continue;
    t.equal(normalizePath(want), want, `idempotent on ${JSON.stringify(input)}`);
  }
});

t.test('parseRequestTarget', async (t) => {
  t.same(parseRequestTarget('/a?b=c'), { path: '/a', query: 'b=c', authority: null });
  t.same(parseRequestTarget('/a/../b?x=/../y'), { path: '/b', query: 'x=/../y', authority: null }, 'query untouched');
  t.same(parseRequestTarget('/?'), { path: '/', query: '', authority: null });
  t.same(parseRequestTarget('/a?b#frag'), { path: '/a', query: 'b', authority: null });
  t.same(parseRequestTarget('http://Example.com:8080/x/./y?q'), { path: '/x/y', query: 'q', authority: 'Example.com:8080' });
  t.same(parseRequestTarget('https://h'), { path: '/', query: '', authority: 'h' });
  t.same(parseRequestTarget('http://h?x=1'), { path: '/', query: 'x=1', authority: 'h' });
  t.equal(parseRequestTarget('http:///x'), null);
  t.equal(parseRequestTarget('example.com:443'), null, 'authority-form');
  t.equal(parseRequestTarget('*'), null, 'asterisk-form');
  t.equal(parseRequestTarget('/a?b=\u0000'), null, 'control char in query');
  t.equal(parseRequestTarget('/a%2fb?x'), null);
});

t.test('normalizeMatchValue', async (t) => {
  t.equal(normalizeMatchValue('PathPrefix', '/foo/'), '/foo');
  t.equal(normalizeMatchValue('PathPrefix', '/'), '/');
  t.equal(normalizeMatchValue('Exact', '/foo/'), '/foo/');
  t.equal(normalizeMatchValue('Exact', '/%7efoo'), '/~foo');
  t.equal(normalizeMatchValue('Exact', '/a%2fb'), null);
});
