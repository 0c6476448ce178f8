// Metrics micro-benchmark: CPU ns per `Metrics.onRequest` (the per-request accounting of every HTTP
// request: listener counter + duration histogram, route-rule counter, backend counter), best of rounds,
// plus the cost of one scrape (`text()`) of the resulting registry.
//
//   npx tsc -b && node benchmarks/metrics.js [--quick] [--json]
//   GATEHOUSE_METRICS=<other checkout>/packages/proxy/dist/metrics.js node benchmarks/metrics.js   (compare)
//
// A benchmark, not a test: it prints numbers and never fails. Bounded: about 10 s (--quick: 3 s).
// CPU time is process.cpuUsage() (user + system) around a loop over pre-built records, so building the
// records is not measured; the loop overhead itself (a no-op callee) is measured and reported apart.
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const { Metrics } = await import(process.env.GATEHOUSE_METRICS ?? `${here}../packages/proxy/dist/metrics.js`);

const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const JSON_OUT = args.has('--json');
const ROUNDS = QUICK ? 3 : 7;
const N = QUICK ? 300_000 : 1_000_000;

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** A table of `listeners` HTTP listeners (one port each), `routes` routes of 2 rules, `routes` backends. */
function table(listeners, routes) {
  const rules = [];
  for (let r = 0; r < routes; r++) {
    for (let i = 0; i < 2; i++) {
      rules.push({ route: `default/route-${r}`, routeKind: 'HTTPRoute', ruleIndex: i, ruleName: null, filters: [], backendRefs: [], timeouts: { requestMs: null, backendRequestMs: null }, retry: null });
    }
  }
  const ports = [];
  for (let l = 0; l < listeners; l++) {
    ports.push({
      key: `0.0.0.0:${8080 + l}/tcp`, address: null, port: 8080 + l, transport: 'tcp', protocol: 'HTTP',
      listeners: [{ id: `default/gw/http-${l}`, gateway: 'default/gw', name: `http-${l}`, protocol: 'HTTP', port: 8080 + l, hostname: null, tls: null, group: 0 }],
      httpGroups: [{ hostname: null, listeners: [0], secure: false, listenerPort: 8080 + l, entries: [], rules }],
      tlsRoutes: [], l4Route: null,
    });
  }
  const backends = [];
  for (let r = 0; r < routes; r++) backends.push({ id: `Service default/svc-${r}:80`, resolution: 'EndpointSlice', protocol: 'http1', endpoints: [] });
  return { hash: 'bench', ports, backends, certificates: [] };
}

function rec(listener, route, rule, backend, method, status, durationMs) {
  return {
    gateway: 'default/gw', listener, route, rule, backend, endpoint: backend === null ? null : '127.0.0.1:18081',
    method, status, durationMs, upstreamMs: durationMs / 2, bytesIn: 0, bytesOut: 100, error: null,
    host: 'www.example.com', path: '/', client: '10.0.0.1', startTime: 0,
  };
}

/** 1024 pre-built records of a scenario (the loop cycles through them). */
function scenario(name) {
  const R = rng(42);
  const out = [];
  for (let i = 0; i < 1024; i++) {
    if (name === 'simple') {
      out.push(rec('default/gw/http-0', 'default/route-0', 0, 'Service default/svc-0:80', 'GET', 200, 0.4 + R() * 2));
    } else {
      // mixed: 4 listeners, 20 routes, GET/POST/HEAD/OTHER, 200/304/404/503 (no route → no route/backend), latencies 0.1 ms .. 3 s
      const l = (R() * 4) | 0, r = (R() * 20) | 0, x = R();
      const method = x < 0.7 ? 'GET' : x < 0.9 ? 'POST' : x < 0.97 ? 'HEAD' : 'PROPFIND';
      const y = R();
      const status = y < 0.85 ? 200 : y < 0.92 ? 304 : y < 0.98 ? 404 : 503;
      const unmatched = status === 404 && R() < 0.5;
      const durationMs = Math.exp(Math.log(0.1) + R() * (Math.log(3000) - Math.log(0.1)));
      out.push(rec(`default/gw/http-${l}`, unmatched ? null : `default/route-${r}`, unmatched ? -1 : (R() * 2) | 0, unmatched ? null : `Service default/svc-${r}:80`, method, status, durationMs));
    }
  }
  return out;
}

function cpuNs(fn) {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) * 1000;
}

function loop(target, recs, n) {
  const mask = recs.length - 1;
  for (let i = 0; i < n; i++) target.onRequest(recs[i & mask]);
}

async function measure(name) {
  const recs = scenario(name);
  const m = new Metrics({ version: 'bench', processMetrics: false });
  m.prepare(name === 'simple' ? table(1, 1) : table(4, 20));
  const noop = { count: 0, onRequest(r) { this.count += r.status; } };
  loop(m, recs, N); // warm-up (JIT, first series)
  loop(noop, recs, N);
  let best = Infinity, bestLoop = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    best = Math.min(best, cpuNs(() => loop(m, recs, N)) / N);
    bestLoop = Math.min(bestLoop, cpuNs(() => loop(noop, recs, N)) / N);
  }
  let scrape = Infinity, bytes = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const c0 = process.cpuUsage();
    const text = await m.text();
    const c = process.cpuUsage(c0);
    scrape = Math.min(scrape, (c.user + c.system) / 1000);
    bytes = text.length;
  }
  return { scenario: name, nsPerRequest: +best.toFixed(1), loopNs: +bestLoop.toFixed(1), scrapeMs: +scrape.toFixed(2), scrapeBytes: bytes };
}

const results = [];
for (const s of ['simple', 'mixed']) results.push(await measure(s));
if (JSON_OUT) {
  console.log(JSON.stringify({ node: process.version, rounds: ROUNDS, n: N, results }, null, 2));
} else {
  console.log(`Metrics.onRequest, CPU time, best of ${ROUNDS} rounds of ${N.toLocaleString('en')} calls (node ${process.version})`);
  for (const r of results) {
    console.log(
      `  ${r.scenario.padEnd(7)} ${String(r.nsPerRequest).padStart(7)} ns/request  (loop overhead ${r.loopNs} ns)   scrape ${r.scrapeMs} ms for ${r.scrapeBytes} bytes`,
    );
  }
}
