import t from 'tap';
import { HostTable, hostnameCovers, normalizeHost } from '../../src/match/host.js';

t.test('normalizeHost', async (t) => {
  const cases: [string | undefined, string][] = [
    ['example.com', 'example.com'],
    ['Example.COM', 'example.com'],
    ['example.com:8080', 'example.com'],
    ['example.com.', 'example.com'],
    ['EXAMPLE.com.:443', 'example.com'],
    ['[::1]:80', '[::1]'],
    ['[::1]', '[::1]'],
    ['[FE80::1]:8443', '[fe80::1]'],
    ['127.0.0.1:80', '127.0.0.1'],
    ['', ''],
    [undefined, ''],
  ];
  for (const [i, o] of cases) t.equal(normalizeHost(i), o, String(i));
  const s = 'already.normal';
  t.equal(normalizeHost(s), s);
});

t.test('hostnameCovers: wildcards cover one or more labels', async (t) => {
  t.ok(hostnameCovers('*.example.com', 'a.example.com'));
  t.ok(hostnameCovers('*.example.com', 'a.b.example.com'));
  t.notOk(hostnameCovers('*.example.com', 'example.com'));
  t.notOk(hostnameCovers('*.example.com', 'aexample.com'));
  t.ok(hostnameCovers('*.com', 'example.com'));
  t.ok(hostnameCovers('*', 'x'));
  t.ok(hostnameCovers(null, 'x'));
  t.ok(hostnameCovers('a.b', 'a.b'));
  t.notOk(hostnameCovers('a.b', 'x.a.b'));
});

t.test('HostTable best and collect', async (t) => {
  const h = new HostTable<string>();
  h.add('*.example.com', 'w2');
  h.add('*.a.example.com', 'w3');
  h.add('*.com', 'w1');
  h.add('x.a.example.com', 'exact');
  h.add(null, 'any');
  h.add('*.example.com', 'dup-ignored');
  t.equal(h.best('x.a.example.com'), 'exact');
  t.equal(h.best('y.a.example.com'), 'w3');
  t.equal(h.best('z.y.a.example.com'), 'w3');
  t.equal(h.best('a.example.com'), 'w2');
  t.equal(h.best('example.com'), 'w1');
  t.equal(h.best('com'), 'any');
  t.equal(h.best(''), 'any');
  const out: string[] = [];
  const n = h.collect('x.a.example.com', out);
  t.same(out.slice(0, n), ['exact', 'w3', 'w2', 'w1', 'any']);
  t.equal(h.get('*.example.com'), 'w2');
  t.equal(h.get('*'), 'any');
  const e = new HostTable<number>();
  t.equal(e.best('x'), undefined);
  t.equal(e.collect('x', []), 0);
});
