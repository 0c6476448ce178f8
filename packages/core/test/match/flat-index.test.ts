// The flat index (match/trie.ts) on shapes the random differential tables rarely produce: thousands of
// buckets and nodes in one open-addressing table, wildcard suffixes of many lengths, paths deeper than
// the 30-bit depth mask, Exact and prefix keys that differ in one character. Trie vs linear, entry by entry.
import t from 'tap';
import { buildLinearMatcher } from '../../src/match/linear.js';
import { buildPortMatcher } from '../../src/match/http-matcher.js';
import type { EntrySpec } from './helpers.js';
import { group, head, port } from './helpers.js';

t.test('large flat table: trie agrees with linear', async (t) => {
  const specs: EntrySpec[] = [];
  const deep = '/' + Array.from({ length: 40 }, (_, i) => `s${i}`).join('/');
  for (let b = 0; b < 300; b++) {
    const h = `h${b}.example.com`;
    specs.push({ name: `p${b}`, host: h, path: `/api/v${b % 7}` });
    specs.push({ name: `q${b}`, host: h, path: { type: 'Exact', value: `/api/v${b % 7}x` } });
    specs.push({ name: `e${b}`, host: h, path: { type: 'Exact', value: '/healthz' } });
    specs.push({ name: `r${b}`, host: h, path: { type: 'RegularExpression', value: `/api/v${b % 7}/[0-9]+` } });
    specs.push({ name: `m${b}`, host: h, path: `/m${b}`, method: 'POST' });
    specs.push({ name: `w${b}`, host: `*.${'z'.repeat(1 + (b % 9))}${b}.example.com`, path: '/' });
    specs.push({ name: `a${b}`, host: '*', path: `/b${b}` });
    if (b % 50 === 0) specs.push({ name: `d${b}`, host: h, path: deep.split('/').slice(0, 33 + (b % 8)).join('/') });
  }
  specs.push({ name: 'short-wild', host: '*.com', path: '/' });
  const p = port([group(null, specs)]);
  const trie = buildPortMatcher(p);
  const lin = buildLinearMatcher(p);
  let cases = 0, hits = 0, bad = 0;
  for (let b = 0; b < 300; b += 7) {
    const hosts = [`h${b}.example.com`, `x.${'z'.repeat(1 + (b % 9))}${b}.example.com`, `a.b.${'z'.repeat(1 + (b % 9))}${b}.example.com`, `${'z'.repeat(1 + (b % 9))}${b}.example.com`, 'other.org', 'x.com'];
    const paths = ['/', '/healthz', '/healthz/', `/api/v${b % 7}`, `/api/v${b % 7}x`, `/api/v${b % 7}/12`, `/api/v${b % 7}/x`, `/m${b}`, `/m${b}/z`, `/b${b}`, `/b${b}x`, deep, `${deep}/more`, deep.slice(0, 60)];
    for (const h of hosts)
      for (const path of paths)
        for (const method of ['GET', 'POST']) {
          const req = head(method, h, path)!;
          const g = trie.selectGroup(req.host);
          const a = trie.match(g, req), c = lin.match(lin.selectGroup(req.host), req);
          cases++;
          if (c) hits++;
          if (a?.entry !== c?.entry) {
            bad++;
            if (bad < 5) t.fail(`${method} ${h}${path}: trie=${a?.entry.path.value} linear=${c?.entry.path.value}`);
          }
        }
  }
  t.equal(bad, 0, `${cases} cases (${hits} hits)`);
  t.ok(hits > cases / 3, 'a good share are hits');
});
