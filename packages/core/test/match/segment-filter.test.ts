// The first-segment filter of a bucket (match/trie.ts, `firstSegmentFilter`) grows with the bucket: a
// bucket with thousands of first segments gets a multi-word filter, a small one keeps one word in its
// header. A filter that wrongly rejects a segment loses a route: every key of big and small buckets must
// still be found, Exact `/` (a key without a segment) included, and misses must stay misses.
import t from 'tap';
import { buildLinearMatcher } from '../../src/match/linear.js';
import { buildPortMatcher } from '../../src/match/http-matcher.js';
import type { EntrySpec } from './helpers.js';
import { group, head, port } from './helpers.js';

const N = 3000;

t.test('big and small buckets: every key found, misses stay misses, trie = linear', async (t) => {
  const specs: EntrySpec[] = [];
  for (let i = 0; i < N; i++) {
    specs.push({ name: `any${i}`, host: '*', path: `/b${i}` });
    if (i % 3 === 0) specs.push({ name: `anyx${i}`, host: '*', path: { type: 'Exact', value: `/e${i}/x` } });
  }
  specs.push({ name: 'root-exact', host: '*', path: { type: 'Exact', value: '/' } });
  for (let i = 0; i < 5; i++) specs.push({ name: `small${i}`, host: 'small.example.com', path: `/s${i}/deep` });
  specs.push({ name: 'one', host: 'one.example.com', path: '/only' });
  const p = port([group(null, specs)]);
  const trie = buildPortMatcher(p);
  const lin = buildLinearMatcher(p);
  const ask = (m: typeof trie, method: string, host: string, path: string) => {
    const req = head(method, host, path)!;
    return m.match(m.selectGroup(req.host), req)?.rule.route ?? null;
  };

  let wrong = 0;
  let checked = 0;
  // The linear matcher is O(routes): it checks one request in 20 (still ~800), the trie checks all.
  const expect = (host: string, path: string, want: string | null) => {
    checked++;
    const got = ask(trie, 'GET', host, path);
    const ref = checked % 20 === 0 || host !== 'unknown.org' || path === '/' ? ask(lin, 'GET', host, path) : want;
    if (got !== want || ref !== want) {
      wrong++;
      if (wrong <= 5) t.fail(`GET ${host}${path}: trie ${got}, linear ${ref}, expected ${want}`);
    }
  };
  for (let i = 0; i < N; i++) {
    expect('unknown.org', `/b${i}`, `ns/any${i}`);
    if (i % 10 === 0) expect('small.example.com', `/b${i}/more/x`, `ns/any${i}`); // through the small bucket to `*`
    if (i % 3 === 0) expect('unknown.org', `/e${i}/x`, `ns/anyx${i}`);
    expect('unknown.org', `/nosuch${i}/x`, null);
    expect('unknown.org', `/b${i}x`, null); // whole segments only
  }
  expect('unknown.org', '/', 'ns/root-exact');
  expect('small.example.com', '/', 'ns/root-exact');
  for (let i = 0; i < 5; i++) {
    expect('small.example.com', `/s${i}/deep/er`, `ns/small${i}`);
    expect('small.example.com', `/s${i}`, null);
  }
  expect('one.example.com', '/only/x', 'ns/one');
  expect('one.example.com', '/other', null);
  t.equal(wrong, 0, `${checked} requests answered as the table says, by the trie (and the linear matcher where asked)`);
});
