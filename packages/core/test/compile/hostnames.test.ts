import t from 'tap';
import { hostnameCovers, intersectHostname, intersectHostnames, compareListenerHostnames } from '../../src/compile/hostnames.js';

t.test('a wildcard covers one or more labels, never the bare suffix', async (t) => {
  t.ok(hostnameCovers('*.example.com', 'a.example.com'));
  t.ok(hostnameCovers('*.example.com', 'a.b.example.com'));
  t.notOk(hostnameCovers('*.example.com', 'example.com'));
  t.ok(hostnameCovers('*.com', 'example.com'));
  t.notOk(hostnameCovers('*.example.com', 'aexample.com'));
  t.ok(hostnameCovers('*', 'anything.org'));
  t.ok(hostnameCovers('exact.org', 'exact.org'));
  t.notOk(hostnameCovers('exact.org', 'a.exact.org'));
});

t.test('intersection per features.md §9.1', async (t) => {
  const cases: [string | null, string, string | null][] = [
    ['very.specific.com', 'very.specific.com', 'very.specific.com'],
    ['very.specific.com', 'non.matching.com', null],
    ['*.wildcard.io', 'foo.bar.wildcard.io', 'foo.bar.wildcard.io'],
    ['*.wildcard.io', 'wildcard.io', null],
    ['very.specific.com', '*.specific.com', 'very.specific.com'],
    ['*.anotherwildcard.io', '*.anotherwildcard.io', '*.anotherwildcard.io'],
    ['*.com', '*.example.com', '*.example.com'],
    ['*.example.com', '*.com', '*.example.com'],
    ['*.example.com', '*.example.org', null],
    [null, 'first.com', 'first.com'],
    [null, '*.first.com', '*.first.com'],
    ['abc.example.com', '*', 'abc.example.com'],
    ['Upper.Example.com', 'upper.example.COM', 'upper.example.com'],
  ];
  for (const [listener, route, want] of cases) t.equal(intersectHostname(listener, route), want, `${listener} ∩ ${route}`);
});

t.test('a route hostname that does not intersect is ignored; none left means no attachment', async (t) => {
  t.same(intersectHostnames('very.specific.com', ['non.matching.com', '*.specific.com']), ['very.specific.com']);
  t.same(intersectHostnames('*.example.com', []), ['*.example.com']);
  t.same(intersectHostnames(null, []), ['*']);
  t.same(intersectHostnames('a.com', ['b.com']), []);
  t.same(intersectHostnames('*.io', ['a.x.io', 'b.x.io', 'a.x.io']), ['a.x.io', 'b.x.io']);
});

t.test('listener specificity: exact, longer wildcard, shorter wildcard, none', async (t) => {
  const list = [null, '*.example.com', 'abc.foo.example.com', '*.foo.example.com'];
  t.same([...list].sort(compareListenerHostnames), ['abc.foo.example.com', '*.foo.example.com', '*.example.com', null]);
});
