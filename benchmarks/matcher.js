// Matcher micro-benchmark: lookups/s and ns/lookup of the trie matcher (buildPortMatcher) on tables of
// 10, 1,000 and 10,000 routes, hits and misses, plus the 10k/10 cost ratio (the trie must not grow with
// the table: target ≤ 1.5×). Also: path normalisation, and the linear reference matcher for scale.
//
//   npx tsc -b && node benchmarks/matcher.js [--quick] [--json]
//   GATEHOUSE_CORE=<other checkout>/packages/core/dist/index.js node benchmarks/matcher.js   (compare branches)
//
//   node --expose-gc benchmarks/matcher.js       (also: heap bytes per matcher and per route)
//
// A benchmark, not a test: it prints numbers and never fails. Bounded: about 15 s in total (--quick: 4 s).
// GATEHOUSE_CORE=/path/to/another/checkout/packages/core/dist/index.js compares a branch against this one.
const { buildLinearMatcher, buildPortMatcher, compareHttpEntries, normalizePath } = await import(
  process.env.GATEHOUSE_CORE ?? '@gatehouse/core'
);

const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const JSON_OUT = args.has('--json');
const BUDGET_MS = QUICK ? 100 : 250; // per measurement

// ---------------------------------------------------------------------------------------------- tables

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const rule = (i) => ({
  route: `default/route-${i}`,
  routeKind: 'HTTPRoute',
  ruleIndex: 0,
  ruleName: null,
  filters: [],
  backendRefs: [{ name: `Service default/b${i}:80`, weight: 1, backend: 0, invalidReason: null, filters: [] }],
  timeouts: { requestMs: null, backendRequestMs: null },
  retry: null,
});

/**
 * The same shape at every size: blocks of 10 routes, one block per application hostname
 * `app<b>.example.com` (prefixes, exact paths, a regex, a method, a header and a query match), plus per
 * block one route on a wildcard hostname `*.zone<b>.example.com` and one on `*` (`/b<b>/…`). A size is
 * a number of blocks; the per-request work should not depend on it.
 */
function makeTable(n) {
  const blocks = Math.max(1, Math.floor(n / 10));
  const entries = [];
  const rules = [];
  const E = (hostname, type, value, extra = {}) => {
    const i = rules.length;
    rules.push(rule(i));
    entries.push({ hostname, path: { type, value }, method: null, headers: [], queryParams: [], grpc: false, grpcMethod: null, rule: i, matchIndex: 0, listener: 0, ...extra });
  };
  for (let b = 0; b < blocks; b++) {
    const h = `app${b}.example.com`;
    E(h, 'PathPrefix', '/api/v1/users');
    E(h, 'PathPrefix', '/api/v1/orders', { method: 'POST' });
    E(h, 'Exact', '/healthz');
    E(h, 'RegularExpression', '/api/v[0-9]+/items/[0-9]+');
    E(h, 'PathPrefix', '/api/v2', { headers: [{ type: 'Exact', name: 'x-tenant', value: `t${b % 5}` }] });
    E(h, 'PathPrefix', '/static');
    E(h, 'Exact', '/api/v1/users/me');
    E(h, 'PathPrefix', '/api', { queryParams: [{ type: 'Exact', name: 'debug', value: '1' }] });
    E(`*.zone${b}.example.com`, 'PathPrefix', '/');
    E('*', 'PathPrefix', `/b${b}`);
  }
  entries.sort(compareHttpEntries);
  const port = {
    key: '0.0.0.0:80/tcp', address: null, port: 80, transport: 'tcp', protocol: 'HTTP',
    listeners: [{ id: 'default/gw/http', gateway: 'default/gw', name: 'http', protocol: 'HTTP', port: 80, hostname: null, tls: null, group: 0 }],
    httpGroups: [{ hostname: null, listeners: [0], secure: false, listenerPort: 80, entries, rules }],
    tlsRoutes: [], l4Route: null,
  };
  return { port, blocks, routes: entries.length };
}

const UA = { 'user-agent': 'bench/1.0', accept: '*/*' };

/** `count` distinct hit requests over `spread` blocks (uniform), and as many misses. */
function makeRequests(blocks, count, seed = 7) {
  const random = rng(seed);
  const int = (n) => Math.floor(random() * n);
  const hits = [];
  const misses = [];
  for (let k = 0; hits.length < count; k++) {
    const b = int(blocks);
    const h = `app${b}.example.com`;
    const n = int(1000);
    const R = (method, host, path, query = '', headers = UA) => hits.push({ method, host, path, query, headers });
    switch (k % 10) {
      case 0: R('GET', h, `/api/v1/users/${n}`); break;
      case 1: R('POST', h, `/api/v1/orders/${n}`); break;
      case 2: R('GET', h, '/healthz'); break;
      case 3: R('GET', h, `/api/v${1 + (n % 3)}/items/${n}`); break;
      case 4: R('GET', h, `/api/v2/things/${n}`, '', { ...UA, 'x-tenant': `t${b % 5}` }); break;
      case 5: R('GET', h, `/static/js/app.${n}.js`); break;
      case 6: R('GET', h, '/api/v1/users/me'); break;
      case 7: R('GET', h, `/api/other/${n}`, 'debug=1'); break;
      case 8: R('GET', `w${n}.zone${b}.example.com`, `/any/${n}`); break;
      case 9: R('GET', `other${n}.net`, `/b${b}/x/${n}`); break;
    }
    misses.push({ method: 'GET', host: k % 2 ? h : `unknown${n}.org`, path: `/nosuch${n}/x`, query: '', headers: UA });
  }
  return { hits, misses };
}

// ---------------------------------------------------------------------------------------------- timing

/** Process CPU time in ns: on a shared machine, wall time counts other processes' time slices too. */
function cpuNs() {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

function measure(fn, reqs, budgetMs = BUDGET_MS) {
  const n = reqs.length;
  let sink = 0;
  for (let i = 0; i < 100_000; i++) if (fn(reqs[i % n]) !== null) sink++; // warm-up (JIT)
  let ops = 0;
  const start = cpuNs();
  const deadline = start + budgetMs * 1e6;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 10_000; i++) if (fn(reqs[(ops + i) % n]) !== null) sink++;
    ops += 10_000;
    now = cpuNs();
  }
  return { ns: (now - start) / ops, sink };
}

const fmt = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(0));

// ---------------------------------------------------------------------------------------------- run

// The machine may be shared: measurements of all sizes are interleaved over ROUNDS rounds and the best
// (lowest) time of each is kept, so a burst of load elsewhere does not land on one size only.
const ROUNDS = QUICK ? 1 : 3;
const SIZES = [10, 1000, 10000];
const setups = SIZES.map((size) => {
  const table = makeTable(size);
  const t0 = process.hrtime.bigint();
  const m = buildPortMatcher(table.port);
  const buildMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const { hits, misses } = makeRequests(table.blocks, 4096);
  const hot = makeRequests(table.blocks, 64, 11).hits;
  let answered = 0;
  for (const r of hits) if (m.match(m.selectGroup(r.host), r) !== null) answered++;
  let missed = 0;
  for (const r of misses) if (m.match(m.selectGroup(r.host), r) === null) missed++;
  const lookup = (r) => m.match(m.selectGroup(r.host), r);
  return { routes: table.routes, buildMs, hits, misses, hot, lookup, answered: answered / hits.length, missed: missed / misses.length, best: {} };
});
const KINDS = ['hot', 'hits', 'misses'];
for (let round = 0; round < ROUNDS; round++) {
  for (const kind of KINDS) {
    for (const s of setups) {
      const r = measure(s.lookup, s[kind]);
      s.best[kind] = Math.min(s.best[kind] ?? Infinity, r.ns);
    }
  }
}
// Footprint (only with --expose-gc): heap + array buffers retained per built matcher, 5 builds averaged.
function footprint(port) {
  if (typeof globalThis.gc !== 'function') return null;
  const mem = () => {
    for (let i = 0; i < 3; i++) globalThis.gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const keep = [];
  const before = mem();
  for (let k = 0; k < 5; k++) keep.push(buildPortMatcher(port));
  const bytes = (mem() - before) / keep.length;
  return bytes;
}
for (const s of setups) s.bytes = footprint(makeTable(s.routes).port);

const results = setups.map((s) => ({
  bytes: s.bytes,
  routes: s.routes,
  buildMs: s.buildMs,
  hotNs: s.best.hot,
  hitNs: s.best.hits,
  missNs: s.best.misses,
  answered: s.answered,
  missed: s.missed,
}));

// linear reference, for scale (fewer requests: it is O(routes))
const linear = [];
for (const size of [10, 1000]) {
  const table = makeTable(size);
  const m = buildLinearMatcher(table.port);
  const { hits } = makeRequests(table.blocks, 512);
  const r = measure((q) => m.match(m.selectGroup(q.host), q), hits);
  linear.push({ routes: size, hitNs: r.ns });
}

// path normalisation
const paths = {
  'fast path (/api/v1/users/123)': ['/api/v1/users/123', '/static/app.js', '/svc3/v2/res10/item'],
  'slow path (/a/./b/../c%7e//d)': ['/a/./b/../c%7e//d', '/public/%2e%2e/x', '//admin/x'],
};
const norm = Object.entries(paths).map(([name, ps]) => ({ name, ...measure((p) => normalizePath(p), ps) }));

const base = results[0];
const big = results[results.length - 1];
const ratio = { hot: big.hotNs / base.hotNs, hits: big.hitNs / base.hitNs, misses: big.missNs / base.missNs };
const per = (ns) => fmt(1e9 / ns);

if (JSON_OUT) {
  console.log(JSON.stringify({ node: process.version, results, linear, ratio, norm }, null, 2));
} else {
  console.log(`matcher micro-benchmark — node ${process.version}, best of ${ROUNDS} × ${BUDGET_MS} ms of CPU time per cell`);
  console.log('');
  console.log('| routes | build | hot hits ns (lookups/s) | uniform hits ns (lookups/s) | misses ns (lookups/s) |');
  console.log('|---:|---:|---:|---:|---:|');
  for (const r of results)
    console.log(
      `| ${r.routes} | ${r.buildMs.toFixed(1)} ms | ${r.hotNs.toFixed(0)} (${per(r.hotNs)}) | ${r.hitNs.toFixed(0)} (${per(r.hitNs)}) | ${r.missNs.toFixed(0)} (${per(r.missNs)}) |`,
    );
  if (results[0].bytes != null) {
    console.log('');
    for (const r of results)
      console.log(`footprint, ${r.routes} routes: ${(r.bytes / 1e6).toFixed(2)} MB per matcher (${(r.bytes / r.routes).toFixed(0)} bytes/route)`);
  }
  console.log('');
  console.log(
    `ratio ${big.routes}/${base.routes} routes: hot hits ${ratio.hot.toFixed(2)}×, uniform hits ${ratio.hits.toFixed(2)}×, misses ${ratio.misses.toFixed(2)}× (target ≤ 1.5×)`,
  );
  for (const r of results) {
    if (r.answered < 1) console.log(`WARNING: ${r.routes} routes: only ${(r.answered * 100).toFixed(1)}% of hit requests answered`);
    if (r.missed < 1) console.log(`WARNING: ${r.routes} routes: ${((1 - r.missed) * 100).toFixed(1)}% of miss requests answered`);
  }
  console.log('');
  for (const l of linear) console.log(`linear reference matcher, ${l.routes} routes: ${l.hitNs.toFixed(0)} ns/lookup`);
  for (const n of norm) console.log(`normalizePath ${n.name}: ${n.ns.toFixed(0)} ns`);
}
