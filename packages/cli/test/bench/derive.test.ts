// gatehouse bench, no sockets: request derivation, the regex sampler, the requests file, the
// histogram, --offline, and the loopback guard. Takes well under a second of CPU.
import t from 'tap';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile, type RoutingTable } from '@gatehouse/core';
import { loadResources } from '../../src/load/index.js';
import { deriveRequests, parseRequestsFile, predictedAsExpected, ruleKey } from '../../src/bench/requests.js';
import { sampleRegex } from '../../src/bench/regex-sample.js';
import { LatencyHistogram } from '../../src/bench/histogram.js';
import { runOfflineBench, mixSequence, type BenchSettings } from '../../src/bench/run.js';
import { checkTarget, parseBenchArgs } from '../../src/commands/bench.js';
import { benchTable } from '../../src/bench/gateway.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '..', '..', '..', '..', 'fixtures');

async function tableOf(dir: string) {
  const loaded = await loadResources(dir);
  return compile(loaded.resources);
}

function quickstartCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  cpSync(join(fixtures, 'quickstart'), dir, { recursive: true });
  return dir;
}

function allRules(table: RoutingTable): Set<string> {
  const out = new Set<string>();
  for (const p of table.ports) for (const g of p.httpGroups) for (const r of g.rules) out.add(ruleKey({ route: r.route, rule: r.ruleIndex }));
  return out;
}

t.test('derived requests cover every rule of the quickstart and the seed, each hitting its own rule', async (t) => {
  for (const dir of [quickstartCopy(), join(fixtures, 'seed', 'v1')]) {
    const { table } = await tableOf(dir);
    const d = deriveRequests(table);
    t.same(d.uncovered, [], `${dir}: every rule covered`);
    t.same(new Set(d.requests.map((r) => ruleKey(r.expected!))), allRules(table), `${dir}: one request per rule at least`);
    for (const r of d.requests) t.ok(predictedAsExpected(r), `${dir}: #${r.id} ${r.host}${r.target} hits the rule it was derived for`);
    t.same(d.skipped, []);
  }
  const { table } = await tableOf(join(fixtures, 'seed', 'v1'));
  const canary = deriveRequests(table).requests.find((r) => r.expected?.route === 'default/http-app-canary')!;
  t.equal(canary.host, 'nginx01.tkdashboard.com');
  t.equal(canary.target, '/bench', 'a prefix + /bench');
  t.same(canary.predicted.backends.map((b) => b.weight), [3, 1]);
  const whoami = deriveRequests(table).requests.find((r) => r.expected?.route === 'default/http-app-1' && r.expected.rule === 0)!;
  t.equal(whoami.target, '/whoami', 'the Exact value');
});

t.test('derivation: wildcards, regex paths, methods, headers and query params; shadowed rules are marked', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  const { writeFileSync } = await import('node:fs');
  writeFileSync(
    join(dir, 'config.yaml'),
    `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: gatehouse}
spec: {controllerName: gatehouse.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: gatehouse
  listeners:
    - {name: web, port: 80, protocol: HTTP, hostname: "*.example.com"}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
    - matches:
        - path: {type: RegularExpression, value: "/items/[0-9]+/(detail|summary)"}
      backendRefs: [{name: items, port: 80}]
    - matches:
        - path: {type: PathPrefix, value: /api}
          method: POST
          headers: [{name: X-Tenant, value: blue}, {name: X-Trace, type: RegularExpression, value: "t-[a-f0-9]{4}"}]
          queryParams: [{name: v, value: "2"}]
      backendRefs: [{name: api, port: 80}]
    - matches:
        - path: {type: PathPrefix, value: /api}
          method: POST
          headers: [{name: X-Tenant, value: blue}, {name: X-Trace, type: RegularExpression, value: "t-[a-f0-9]{4}"}]
          queryParams: [{name: v, value: "2"}]
      backendRefs: [{name: shadowed, port: 80}]
    - matches:
        - path: {type: RegularExpression, value: "/\\\\p{L}+"}
      backendRefs: [{name: letters, port: 80}]
`,
  );
  const { table } = await tableOf(dir);
  const d = deriveRequests(table);
  const [regex, api, shadowed] = d.requests;
  t.equal(regex!.host, 'bench.example.com', 'a concrete name for the wildcard');
  t.equal(regex!.target, '/items/0/detail');
  t.ok(predictedAsExpected(regex!));
  t.equal(api!.method, 'POST');
  t.equal(api!.target, '/api/bench?v=2');
  t.same(api!.headers, [['x-tenant', 'blue'], ['x-trace', 't-aaaa']]);
  t.ok(predictedAsExpected(api!));
  // rule 2 is the same match as rule 1: no request can reach it
  t.equal(shadowed, undefined, 'the identical request is not sent twice');
  t.same(d.uncovered.map((r) => r.rule).sort(), [2, 3]);
  t.match(d.skipped, [{ route: 'default/r', rule: 3, match: 0, reason: /cannot derive a path for the regular expression/ }]);
});

t.test('regex sampler', async (t) => {
  const cases: [string, string | null][] = [
    ['/foo', '/foo'],
    ['/foo/.*', '/foo/'],
    ['/v[0-9]+/users', '/v0/users'],
    ['^/a(b|c)?d$', '/ad'],
    ['/x/\\d{3}', '/x/000'],
    ['/[^/]+/end', '/a/end'],
    ['/(?:one|two)/\\w+', '/one/a'],
    ['/p\\.html', '/p.html'],
    ['/\\p{Greek}', null],
    ['/a\\bb', null],
  ];
  for (const [re, want] of cases) t.equal(sampleRegex(re), want, re);
});

t.test('requests file: plain lines and JSON lines, expectations, errors', async (t) => {
  const { table } = await tableOf(quickstartCopy());
  const reqs = parseRequestsFile(
    [
      '# comment',
      '',
      'GET http://www.example.com:8080/ X-Test: hello world Accept: */*',
      'get http://nope.example.com:8080/',
      '{"method":"POST","url":"http://api.example.com:8080/v1/users?a=1","headers":{"X-A":"1"},"body":"hi","weight":3,"expect":"default/api"}',
      '{"url":"http://www.example.com/old-blog/x","expect":"default/www#0"}',
      '{"url":"http://nope.example.com/","expect":"404"}',
    ].join('\n'),
    table,
  );
  if (typeof reqs === 'string') throw new Error(reqs);
  t.equal(reqs.length, 5);
  t.same(reqs[0]!.headers, [['x-test', 'hello world'], ['accept', '*/*']]);
  t.equal(reqs[0]!.predicted.rule?.route, 'default/www');
  t.equal(reqs[1]!.method, 'GET');
  t.equal(reqs[1]!.predicted.outcome, 'no-route');
  t.notOk(predictedAsExpected(reqs[1]!), 'a request that matches nothing is unmatched');
  t.equal(reqs[2]!.weight, 3);
  t.equal(reqs[2]!.body, 'hi');
  t.equal(reqs[2]!.target, '/v1/users?a=1');
  t.ok(predictedAsExpected(reqs[2]!));
  t.equal(reqs[3]!.port, 8080, 'no port: the only HTTP listener port');
  t.notOk(predictedAsExpected(reqs[3]!), 'expects rule 0, the redirect rule 1 wins');
  t.ok(predictedAsExpected(reqs[4]!), 'expect 404 and nothing matches');
  t.match(parseRequestsFile('GET ftp://x/', table, 'f'), /^f:1: URL must look like/);
  t.match(parseRequestsFile('{"url": 3}', table, 'f'), /^f:1: "url" is required/);
  t.match(parseRequestsFile('GET http://x/ notaheader', table, 'f'), /expected a header/);
  t.match(parseRequestsFile('# nothing', table, 'f'), /no requests/);
});

t.test('histogram: percentiles within the bucket precision', async (t) => {
  const h = new LatencyHistogram();
  for (let us = 1; us <= 100_000; us++) h.record(us);
  t.equal(h.count, 100_000);
  for (const [p, want] of [[50, 50_000], [90, 90_000], [99, 99_000]] as const) {
    const got = h.percentileUs(p);
    t.ok(got >= want && got <= want * 1.04, `p${p} ${got} ≈ ${want}`);
  }
  t.equal(h.percentileUs(100), 100_000);
  t.equal(h.minUs, 1);
  t.equal(h.octaves().reduce((a, b) => a + b.count, 0), 100_000);
});

t.test('--offline: a lookup rate, every request timed, no unmatched request', async (t) => {
  const { table, status } = await tableOf(join(fixtures, 'seed', 'v1'));
  const d = deriveRequests(table);
  const settings: BenchSettings = { dir: 'seed', mode: 'offline', target: null, connections: 1, durationMs: 200, maxRequests: null, rate: null, timeoutMs: 1000 };
  const report = runOfflineBench({ settings, table, status, requests: d.requests, coverage: { rules: 4, covered: 4, uncovered: [], skipped: [] }, notes: [] });
  t.ok(report.offline!.lookupsPerSecond > 1000, `lookups/s ${report.offline!.lookupsPerSecond}`);
  t.ok(report.offline!.nsPerLookup > 0);
  t.same(report.unmatched, []);
  for (const q of report.requests) t.ok(q.nsPerLookup! > 0 && q.sent > 0, `#${q.id} timed`);
  t.equal(report.rules.length, 4);
});

t.test('the bench table: echo endpoints, loopback listeners on free ports, nothing else changed', async (t) => {
  const { table } = await tableOf(join(fixtures, 'seed', 'v1'));
  const before = JSON.stringify(table);
  const { table: served } = benchTable(table, table.backends.map((_, i) => 40000 + i));
  t.equal(JSON.stringify(table), before, 'the compiled table is not modified');
  t.same(served.backends.map((b) => b.endpoints), table.backends.map((_, i) => [{ address: '127.0.0.1', port: 40000 + i, dns: false, unix: false }]));
  t.same(served.ports.map((p) => [p.address, p.port]), [['127.0.0.1', 0]]);
  t.same(served.ports[0]!.httpGroups, table.ports[0]!.httpGroups, 'routing unchanged');
});

t.test('arguments: bounds, loopback-only targets, --requests N or FILE, --mix', async (t) => {
  t.equal(checkTarget('http://127.0.0.1:8080', false), null);
  t.equal(checkTarget('http://localhost:8080', false), null);
  t.equal(checkTarget('http://[::1]:8080', false), null);
  t.match(checkTarget('http://10.0.0.5:8080', false), /not a loopback address.*--allow-remote/);
  t.equal(checkTarget('http://10.0.0.5:8080', true), null);
  t.match(parseBenchArgs(['d', '--target', 'http://example.com']), /not a loopback/);
  t.match(parseBenchArgs(['d', '--duration', '1h']), /capped at 5m/);
  t.match(parseBenchArgs(['d', '--connections', '0']), /--connections/);
  t.match(parseBenchArgs([]), /missing DIR/);
  const a = parseBenchArgs(['d', '--requests', '500', '--mix', 'default/www=3,default/api#0=1,#2=0']);
  if (typeof a === 'string') throw new Error(a);
  t.equal(a.maxRequests, 500);
  t.equal(a.requestsFile, null);
  t.same([...a.mix], [['default/www', 3], ['default/api#0', 1], ['#2', 0]]);
  const b = parseBenchArgs(['d', '--requests', 'reqs.txt']);
  if (typeof b === 'string') throw new Error(b);
  t.equal(b.requestsFile, 'reqs.txt');
  t.match(parseBenchArgs(['d', '--mix', 'www']), /--mix expects/);
});

t.test('the mix is a smooth weighted round-robin over the request weights', async (t) => {
  const reqs = [{ weight: 3 }, { weight: 1 }, { weight: 0 }] as unknown as Parameters<typeof mixSequence>[0];
  t.same(mixSequence(reqs), [0, 0, 1, 0]);
});
