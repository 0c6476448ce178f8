/**
 * The compiler's golden tables (fixtures/compile/<case>/table.json) through both matchers: requests are
 * derived from each table's own entries (hosts, paths, methods, headers, query), plus variations that
 * should miss, and the trie matcher must agree with the linear reference on every one.
 */
import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HttpMatchEntry, RoutingTable } from '../../src/ir/types.js';
import { buildPortMatcher } from '../../src/match/http-matcher.js';
import { buildLinearMatcher } from '../../src/match/linear.js';
import type { RequestHead } from '../../src/match/types.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'fixtures', 'compile');
const cases = existsSync(root) ? readdirSync(root).filter((c) => existsSync(join(root, c, 'table.json'))) : [];

function hostsFor(h: string): string[] {
  if (h === '*') return ['anything.example', 'example.com'];
  if (h.startsWith('*.')) return [`a${h.slice(1)}`, `a.b${h.slice(1)}`, h.slice(2)];
  return [h, `x.${h}`];
}

function pathsFor(e: HttpMatchEntry): string[] {
  const v = e.path.value;
  if (e.path.type === 'RegularExpression') return ['/', '/foo/123', v.replace(/[^A-Za-z0-9/]/g, '') || '/'];
  const base = v.endsWith('/') && v.length > 1 ? v.slice(0, -1) : v;
  return [v, `${base}/x`, `${base}x`, `${base}/`];
}

function requestsFor(e: HttpMatchEntry): RequestHead[] {
  const out: RequestHead[] = [];
  for (const host of hostsFor(e.hostname))
    for (const path of pathsFor(e)) {
      const headers: Record<string, string> = {};
      for (const h of e.headers) headers[h.name] = h.type === 'Exact' ? h.value : '1';
      if (e.grpc) headers['content-type'] = 'application/grpc';
      const query = e.queryParams.map((q) => `${q.name}=${q.type === 'Exact' ? q.value : '1'}`).join('&');
      out.push({ method: e.method ?? 'GET', host, path, query, headers });
      out.push({ method: 'DELETE', host, path, query: '', headers: {} });
    }
  return out;
}

t.test('golden tables: trie and linear agree', async (t) => {
  if (cases.length === 0) {
    t.pass('no golden tables in this checkout');
    return;
  }
  let total = 0, hits = 0;
  for (const c of cases) {
    const table = JSON.parse(readFileSync(join(root, c, 'table.json'), 'utf8')) as RoutingTable;
    for (const port of table.ports) {
      const trie = buildPortMatcher(port), lin = buildLinearMatcher(port);
      const reqs = port.httpGroups.flatMap((g) => g.entries.flatMap(requestsFor));
      for (const r of reqs) {
        total++;
        const gt = trie.selectGroup(r.host), gl = lin.selectGroup(r.host);
        if (gt !== gl) t.fail(`${c} ${port.key}: selectGroup(${r.host}) ${gt} vs ${gl}`);
        if (gt < 0) continue;
        const a = trie.match(gt, r), b = lin.match(gt, r);
        if (a?.entry !== b?.entry) t.fail(`${c} ${port.key}: ${r.method} ${r.host}${r.path}?${r.query} trie=${a?.rule.route} linear=${b?.rule.route}`);
        if (a) hits++;
      }
      for (const tr of port.tlsRoutes)
        for (const sni of hostsFor(tr.hostname)) {
          total++;
          if (trie.matchSni(sni) !== lin.matchSni(sni)) t.fail(`${c} ${port.key}: SNI ${sni}`);
        }
    }
  }
  t.ok(total > 0, `${cases.length} tables, ${total} requests, ${hits} hits`);
});
