/**
 * Seeded differential test: random tables and requests, the trie matcher against the linear reference
 * matcher, entry by entry. The default seed is fixed, so CI runs the same cases every time; `SEED=<n>`
 * runs another seed (reproduce a printed one), `SEED=random` a fresh one (printed, to reproduce it).
 */
import t from 'tap';
import { compareHttpEntries } from '../../src/compile/precedence.js';
import type { HttpMatchEntry, PortIR } from '../../src/ir/types.js';
import { buildPortMatcher } from '../../src/match/http-matcher.js';
import { buildLinearMatcher, explainHttp } from '../../src/match/linear.js';
import { type EntrySpec, group, head, listener, port, tlsRoute } from './helpers.js';

const DEFAULT_SEED = 20261127;
const SEED = seedFrom(process.env.SEED);

function seedFrom(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_SEED;
  if (value === 'random') return (Date.now() ^ (Math.random() * 0x7fffffff)) >>> 0;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`SEED must be a non-negative integer or "random", got ${JSON.stringify(value)}`);
  return n >>> 0;
}
const TABLES = 240;
const REQUESTS_PER_TABLE = 100;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const random = rng(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
const chance = (p: number) => random() < p;
const upTo = (n: number) => Math.floor(random() * (n + 1));

const SEGS = ['a', 'b', 'ab', 'api', 'v1', 'v2', 'x.y', 'A', '%7Eu', 'b'];
const ROUTE_HOSTS = ['*', '*', '*.com', '*.example.com', '*.a.example.com', 'a.example.com', 'b.example.com', 'x.a.example.com', 'other.org'];
const LISTENER_HOSTS = [null, '*.example.com', 'a.example.com', '*.a.example.com', '*.org'];
const REQ_HOSTS = ['a.example.com', 'b.example.com', 'x.a.example.com', 'y.x.a.example.com', 'example.com', 'com', 'other.org', 'z.org', 'A.Example.COM:8080', 'b.example.com.'];
const REGEXES = ['/a/[a-z]+', '/api/v[0-9]+(/.*)?', '/(a|b)/ab', '.*', '/b.*', '/a/b', '(?i)/API/.*', '/ab?/.*', '/v1/x\\.y', '/[^/]+/v2', '/a/(b'];
const HEADER_NAMES = ['x-a', 'X-B', 'x-c'];
const QUERY_NAMES = ['q', 'r', 'Q'];

function randPath(maxDepth: number, trailing = 0.2): string {
  const n = upTo(maxDepth);
  let p = '';
  for (let i = 0; i < n; i++) p += '/' + pick(SEGS);
  if (p === '' || chance(trailing)) p += '/';
  return p;
}

function randSpec(i: number): EntrySpec {
  const s: EntrySpec = { name: `r${i}`, host: pick(ROUTE_HOSTS) };
  const r = random();
  if (r < 0.1) {
    const service = chance(0.7) ? pick(['a', 'api', 'pkg.S']) : null;
    const method = service === null || chance(0.5) ? pick(['b', 'v1', 'Get']) : null;
    s.grpc = true;
    s.grpcMethod = { service, method };
    s.path =
      service && method
        ? { type: 'Exact', value: `/${service}/${method}` }
        : service
          ? `/${service}/`
          : { type: 'RegularExpression', value: `/[^/]+/${method}` };
  } else if (r < 0.35) s.path = { type: 'Exact', value: randPath(3) };
  else if (r < 0.5) s.path = { type: 'RegularExpression', value: pick(REGEXES) };
  else if (r < 0.95) s.path = randPath(3);
  if (!s.grpc && chance(0.3)) s.method = pick(['GET', 'POST', 'PATCH']);
  if (chance(0.3)) {
    s.headers = Array.from({ length: 1 + upTo(1) }, () =>
      chance(0.3) ? [pick(HEADER_NAMES), pick(['[12]', '1|3', '.*']), 'RegularExpression'] : [pick(HEADER_NAMES), pick(['1', '2'])],
    ) as EntrySpec['headers'];
  }
  if (chance(0.25)) {
    s.query = Array.from({ length: 1 + upTo(1) }, () =>
      chance(0.3) ? [pick(QUERY_NAMES), pick(['[12]', '2?']), 'RegularExpression'] : [pick(QUERY_NAMES), pick(['1', '2', ''])],
    ) as EntrySpec['query'];
  }
  return s;
}

function randTable(): PortIR {
  const hosts = [...new Set(Array.from({ length: 1 + upTo(3) }, () => pick(LISTENER_HOSTS)))];
  const groups = hosts.map((h) => {
    const specs = Array.from({ length: 1 + upTo(25) }, (_, i) => randSpec(i));
    const g = group(h, specs);
    // several matches per rule: fold some entries onto the same rule (ties down to matchIndex)
    for (const e of g.entries) {
      if (chance(0.2) && e.rule > 0) {
        e.matchIndex = e.rule;
        e.rule = e.rule - 1;
      }
    }
    g.entries.sort(compareHttpEntries);
    return g;
  });
  return port(groups);
}

function randRequest() {
  const q: string[] = [];
  for (let i = upTo(3); i > 0; i--) q.push(`${pick(QUERY_NAMES)}${chance(0.8) ? '=' + pick(['1', '2', '3', '', '%31']) : ''}`);
  const headers: Record<string, string | string[]> = {};
  for (let i = upTo(3); i > 0; i--) headers[pick(HEADER_NAMES)] = chance(0.1) ? ['1', '2'] : pick(['1', '2', '3']);
  if (chance(0.2)) headers['content-type'] = pick(['application/grpc', 'application/grpc+proto', 'text/plain']);
  let path = randPath(4, 0.3);
  if (chance(0.1)) path = pick(['/a/../api/v1', '//a//b', '/a/./b/', '/%61/b', '/API/x']);
  const target = path + (q.length ? '?' + q.join('&') : '');
  return head(pick(['GET', 'GET', 'POST', 'PATCH']), pick(REQ_HOSTS), target, headers)!;
}

const key = (e: HttpMatchEntry | undefined | null) => (e ? `${e.hostname} ${JSON.stringify(e.path)} rule=${e.rule}/${e.matchIndex}` : 'null');

t.test(`trie vs linear on random tables (SEED=${SEED})`, async (t) => {
  t.comment(`differential seed: ${SEED}`);
  let cases = 0, hits = 0, mismatches = 0;
  for (let ti = 0; ti < TABLES && mismatches < 5; ti++) {
    const p = randTable();
    const trie = buildPortMatcher(p), lin = buildLinearMatcher(p);
    // the sorted order must be consistent with the comparator (a total order)
    for (const g of p.httpGroups)
      for (let i = 1; i < g.entries.length; i++)
        if (compareHttpEntries(g.entries[i - 1]!, g.entries[i]!) > 0) t.fail(`unsorted group at table ${ti}`);
    for (let ri = 0; ri < REQUESTS_PER_TABLE; ri++) {
      const req = randRequest();
      cases++;
      const gt = trie.selectGroup(req.host), gl = lin.selectGroup(req.host);
      if (gt !== gl) {
        mismatches++;
        t.fail(`selectGroup(${req.host}) trie=${gt} linear=${gl} table ${ti}`);
        continue;
      }
      if (gt < 0) continue;
      const a = trie.match(gt, req), b = lin.match(gt, req);
      if (a?.entry !== b?.entry || a?.rule !== b?.rule) {
        mismatches++;
        t.fail(`table ${ti} request ${JSON.stringify(req)}: trie=${key(a?.entry)} linear=${key(b?.entry)}`, {
          entries: p.httpGroups[gt]!.entries.map(key),
        });
      }
      if (a) hits++;
      if (ri % 10 === 0) {
        const ex = explainHttp(p, req);
        if (ex.winner?.entry !== b?.entry) t.fail('explainHttp disagrees with the linear matcher');
        if (ex.candidates.filter((c) => c.matched && c.reason === null).length !== (b ? 1 : 0)) t.fail('explain: exactly one winner');
      }
    }
  }
  t.equal(mismatches, 0, `${cases} cases (${hits} hits), seed ${SEED}`);
  t.ok(cases >= 20_000, `at least 20,000 cases (${cases})`);
});

t.test(`SNI: trie vs linear (SEED=${SEED})`, async (t) => {
  const SNI_HOSTS = ['a.example.com', 'x.a.example.com', 'b.example.com', 'example.com', 'z.org', 'com'];
  let cases = 0, bad = 0;
  for (let ti = 0; ti < 200; ti++) {
    const listeners = Array.from({ length: 1 + upTo(3) }, (_, i) => listener(i, pick(LISTENER_HOSTS), chance(0.7) ? 'TLS' : 'HTTPS'));
    const tlsRoutes = Array.from({ length: upTo(6) }, (_, i) => tlsRoute(`t${i}`, pick(ROUTE_HOSTS), upTo(listeners.length - 1)));
    const p = port([], { protocol: 'TLS', listeners, tlsRoutes });
    const trie = buildPortMatcher(p), lin = buildLinearMatcher(p);
    for (const s of SNI_HOSTS) {
      cases++;
      if (trie.matchSni(s) !== lin.matchSni(s)) bad++;
    }
  }
  t.equal(bad, 0, `${cases} SNI cases`);
});
