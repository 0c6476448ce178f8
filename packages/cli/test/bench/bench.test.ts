// gatehouse bench with real loopback sockets: the in-process gateway with echo backends, --target,
// --requests FILE, -o json and Ctrl-C. Every run stops at a request count (a few hundred requests,
// well under a second on an idle machine) and is capped at 8s so that a loaded machine still sends
// them all; the whole file takes about 10 seconds.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from '@gatehouse/core';
import { loadResources } from '../../src/load/index.js';
import { deriveRequests } from '../../src/bench/requests.js';
import { runLoadBench, type BenchReport, type BenchSettings } from '../../src/bench/run.js';
import { startBenchGateway } from '../../src/bench/gateway.js';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', '..', 'dist', 'bin.js');
const fixtures = join(here, '..', '..', '..', '..', 'fixtures');

function quickstartCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  cpSync(join(fixtures, 'quickstart'), dir, { recursive: true });
  return dir;
}

function gatehouse(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function compiled(dir: string) {
  return compile((await loadResources(dir)).resources);
}

function settings(over: Partial<BenchSettings>): BenchSettings {
  return { dir: 'x', mode: 'in-process', target: null, connections: 8, durationMs: 8000, maxRequests: 400, rate: null, timeoutMs: 5000, ...over };
}

t.test('seed canary: the measured backend share is 75/25 within ±2%, every rule hit as derived', async (t) => {
  const { table, status } = await compiled(join(fixtures, 'seed', 'v1'));
  const d = deriveRequests(table);
  const report = await runLoadBench({
    settings: settings({ maxRequests: 400 }),
    table,
    status,
    requests: d.requests,
    coverage: { rules: d.rules.length, covered: d.rules.length, uncovered: [], skipped: [] },
    notes: [],
  });
  t.equal(report.totals.errors, 0);
  t.ok(report.totals.responses > 100, `${report.totals.responses} responses`);
  t.same(Object.keys(report.statusCodes), ['200']);
  t.same(report.unmatched, [], 'no request reached another rule or no route');
  const canary = report.rules.find((r) => r.route === 'default/http-app-canary')!;
  t.equal(canary.sent, 80, 'one request in five (SWRR over 5 requests)');
  t.equal(canary.hits, canary.sent, 'the gateway counted every canary request on the canary rule');
  const nginx = canary.backends.find((b) => b.name === 'Service default/nginx:80')!;
  const whoami = canary.backends.find((b) => b.name === 'Service default/whoami:80')!;
  t.equal(nginx.expectedShare, 75);
  t.equal(whoami.expectedShare, 25);
  t.ok(Math.abs(nginx.share - 75) <= 2, `nginx ${nginx.share}%`);
  t.ok(Math.abs(whoami.share - 25) <= 2, `whoami ${whoami.share}%`);
  t.equal(nginx.count + whoami.count, canary.sent);
  for (const r of report.rules) t.equal(r.hits, r.sent, `${r.rule}: hits = sent`);
  t.ok(report.latencyMs!.p50 > 0 && report.latencyMs!.p50 <= report.latencyMs!.p99 && report.latencyMs!.p99 <= report.latencyMs!.max);
});

t.test('--target: a running gateway, backend shares from the echo answers', async (t) => {
  const { table, status } = await compiled(quickstartCopy());
  const gw = await startBenchGateway(table, status);
  t.teardown(() => gw.close());
  const origin = gw.origins.get(8080)!;
  const d = deriveRequests(table);
  const report = await runLoadBench({
    settings: settings({ mode: 'target', target: origin, maxRequests: 400 }),
    table,
    status,
    requests: d.requests,
    coverage: { rules: 3, covered: 3, uncovered: [], skipped: [] },
    notes: [],
  });
  t.equal(report.mode, 'target');
  t.same(report.unmatched, []);
  t.same(Object.keys(report.statusCodes).sort(), ['200', '301']);
  const www = report.rules.find((r) => r.route === 'default/www' && r.index === 0)!;
  const v1 = www.backends.find((b) => b.name === 'Service default/web-v1:80')!;
  t.ok(Math.abs(v1.share - 75) <= 2, `web-v1 ${v1.share}% of the canary rule`);
  t.equal(www.hits, www.sent);
});

t.test('gatehouse bench DIR -o json on the quickstart: the report shape', async (t) => {
  const dir = quickstartCopy();
  const r = gatehouse('bench', dir, '-o', 'json', '--duration', '8s', '--requests', '300', '--connections', '4');
  t.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as BenchReport;
  t.match(report, {
    mode: 'in-process',
    settings: { connections: 4, durationMs: 8000, maxRequests: 300, rate: null },
    coverage: { rules: 3, covered: 3, uncovered: [], skipped: [] },
    totals: { requests: 300, responses: 300, errors: 0, stoppedBy: 'requests' },
    latencyMs: { p50: Number, p90: Number, p99: Number, max: Number, histogram: Array },
    statusCodes: { '200': Number, '301': Number },
    unmatched: [],
    offline: null,
  });
  t.equal(report.requests.length, 3);
  t.same(report.rules.map((x) => `${x.route}#${x.index}`).sort(), ['default/api#0', 'default/www#0', 'default/www#1']);
  t.equal(report.rules.find((x) => x.localStatus === 301)?.route, 'default/www');
  const names = report.backends.map((b) => b.name).sort();
  t.same(names, ['Service default/api:80', 'Service default/web-v1:80', 'Service default/web-v2:80']);
  t.ok(report.totals.throughput > 0);
});

t.test('--requests FILE: a request that matches nothing and one that hits another rule are reported', async (t) => {
  const dir = quickstartCopy();
  const file = join(dir, '..', `${dir.split('/').pop()}-requests.txt`);
  writeFileSync(
    file,
    [
      'GET http://www.example.com:8080/ X-Bench: 1',
      'GET http://nope.example.com:8080/',
      '{"url":"http://www.example.com:8080/old-blog/x","expect":"default/www#0"}',
      '{"method":"GET","url":"http://api.example.com:8080/v1/users"}',
    ].join('\n'),
  );
  const r = gatehouse('bench', dir, '--requests', file, '--requests', '200', '--duration', '8s', '-c', '4', '-o', 'json');
  t.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as BenchReport;
  t.equal(report.totals.requests, 200);
  t.equal(report.statusCodes['404'], 50, 'one request in four matches nothing');
  t.match(report.unmatched, [
    { id: 2, url: 'GET http://nope.example.com:8080/', got: 'no route (404)', count: 50 },
    { id: 3, expected: 'HTTPRoute default/www rule 0', got: 'HTTPRoute default/www rule 1', count: 50 },
  ]);
  t.equal(report.unmatched.length, 2);
  // and the text report says so
  const text = gatehouse('bench', dir, '--requests', file, '--requests', '40', '--duration', '8s', '-c', '2');
  t.equal(text.code, 0, text.stderr);
  t.match(text.stdout, /unmatched {3}2 requests did not reach the rule they were meant for/);
  t.match(text.stdout, /#2 GET http:\/\/nope\.example\.com:8080\/\n\s+expected \(a route\); got no route \(404\) ×10/);
});

t.test('--offline through the binary: lookups/s and no unmatched request', async (t) => {
  const r = gatehouse('bench', join(fixtures, 'seed', 'v1'), '--offline', '--duration', '200ms');
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /lookups +[\d,]+ in [\d.]+ms = [\d,]+ lookups\/s, [\d.]+ ns\/lookup/);
  t.match(r.stdout, /unmatched {3}none/);
});

t.test('Ctrl-C stops early and still reports', async (t) => {
  const dir = quickstartCopy();
  const child = spawn(process.execPath, [bin, 'bench', dir, '--duration', '20s', '-c', '2', '--rate', '200', '-o', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c));
  child.stderr.on('data', (c: Buffer) => (err += c));
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  // once a progress line is out, the load runs (and Ctrl-C is handled)
  const until = Date.now() + 10_000;
  while (!err.includes('bench: ') && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGINT');
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  clearTimeout(killer);
  t.equal(code, 0, err);
  const report = JSON.parse(out) as BenchReport;
  t.equal(report.totals.stoppedBy, 'interrupted');
  t.ok(report.totals.elapsedMs < 10_000, `stopped after ${report.totals.elapsedMs}ms`);
  t.ok(report.totals.responses > 0);
});

t.test('usage errors exit 2; a remote --target is refused', async (t) => {
  const r = gatehouse('bench', quickstartCopy(), '--target', 'http://192.0.2.10:8080');
  t.equal(r.code, 2);
  t.match(r.stderr, /not a loopback address/);
  t.equal(gatehouse('bench').code, 2);
});

t.test('an invalid backendRef: its share answers 500 and is reported against its weight', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  writeFileSync(
    join(dir, 'c.yaml'),
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
  listeners: [{name: web, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
    - backendRefs:
        - {name: good, port: 80, weight: 3}
        - {name: bad, namespace: other, port: 80, weight: 1}
`,
  );
  const { table, status } = await compiled(dir);
  const d = deriveRequests(table);
  const report = await runLoadBench({
    settings: settings({ maxRequests: 40, connections: 2 }),
    table,
    status,
    requests: d.requests,
    coverage: { rules: 1, covered: 1, uncovered: [], skipped: [] },
    notes: [],
  });
  t.same(report.statusCodes, { '200': 30, '500': 10 });
  t.match(report.rules[0]!.backends, [
    { name: 'Service default/good:80', expectedShare: 75, share: 75, count: 30 },
    { name: 'Service other/bad:80 (invalid: 500)', expectedShare: 25, share: 25, count: 10 },
  ]);
  t.same(report.unmatched, []);
});
