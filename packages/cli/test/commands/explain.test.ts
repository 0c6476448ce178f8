// `gatehouse explain DIR METHOD URL` as a user runs it: the built binary against a config directory.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', '..', 'dist', 'bin.js');
const fixtures = join(here, '..', '..', '..', '..', 'fixtures', 'compile');

function gatehouse(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const CONFIG = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: gatehouse}
spec: {controllerName: gatehouse.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  gatewayClassName: gatehouse
  listeners:
    - {name: web, port: 80, protocol: HTTP, hostname: "*.example.com", allowedRoutes: {namespaces: {from: All}}}
    - {name: shop, port: 80, protocol: HTTP, hostname: shop.example.com, allowedRoutes: {namespaces: {from: All}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api, namespace: apps}
spec:
  parentRefs: [{name: gw, namespace: infra, sectionName: web}]
  rules:
    - matches: [{path: {type: PathPrefix, value: /api}}]
      backendRefs:
        - {name: api-v1, port: 8080, weight: 3}
        - {name: api-v2, port: 8080, weight: 1}
    - matches: [{path: {type: PathPrefix, value: /api/admin}, headers: [{name: X-Role, value: admin}]}]
      backendRefs: [{name: admin, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop, namespace: apps}
spec:
  parentRefs: [{name: gw, namespace: infra, sectionName: shop}]
  rules:
    - matches: [{path: {type: Exact, value: /cart}}]
      backendRefs: [{name: cart, port: 8080}]
`;

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-explain-'));
writeFileSync(join(dir, 'config.yaml'), CONFIG);

t.test('the winner with gateway, listener, route, rule and backend shares (json)', async (t) => {
  const r = gatehouse('explain', dir, 'GET', 'http://www.example.com/api/users?x=1', '-o', 'json');
  t.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  t.equal(j.gateway, 'infra/gw');
  t.equal(j.listener, 'web');
  t.equal(j.route, 'apps/api');
  t.equal(j.rule, 0);
  t.same(
    j.backends.map((b: { name: string; weight: number; share: number }) => [b.name, b.weight, b.share]),
    [
      ['Service apps/api-v1:8080', 3, 75],
      ['Service apps/api-v2:8080', 1, 25],
    ],
  );
  const loser = j.candidates.find((c: { rule: number }) => c.rule === 1);
  t.equal(loser.matched, false);
  t.match(loser.reason, /path \/api\/users does not match PathPrefix \/api\/admin/);
});

t.test('headers given with -H take part in matching; the losing candidate says why', async (t) => {
  const r = gatehouse('explain', dir, 'get', 'http://www.example.com/api/admin/x', '-H', 'X-Role: admin', '-o', 'json');
  t.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  t.equal(j.route, 'apps/api');
  t.equal(j.rule, 1);
  t.equal(j.request.method, 'GET');
  const lost = j.candidates.find((c: { rule: number }) => c.rule === 0);
  t.equal(lost.matched, true);
  t.match(lost.reason, /lower precedence than the winner: longer path prefix \/api\/admin beats \/api/);
});

t.test('text output names the winner, backends with shares and the candidates', async (t) => {
  const r = gatehouse('explain', dir, 'GET', 'http://www.example.com:80/api/x');
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /listener {2}infra\/gw\/web/);
  t.match(r.stdout, /winner {4}HTTPRoute apps\/api rule 0/);
  t.match(r.stdout, /Service apps\/api-v1:8080 {2}weight 3 {2}\(75%\)/);
  t.match(r.stdout, /Service apps\/api-v2:8080 {2}weight 1 {2}\(25%\)/);
  t.match(r.stdout, /✗ .*rule 1.*\n.*does not match/);
});

t.test('listener isolation: shop.example.com only sees the shop routes (404, route null)', async (t) => {
  const r = gatehouse('explain', dir, 'GET', 'http://shop.example.com/api/x', '-o', 'json');
  t.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  t.equal(j.route, null);
  t.equal(j.listener, 'shop');
  t.match(j.outcome, /^404/);
  t.equal(j.candidates.length, 1);
  t.match(j.candidates[0].reason, /does not match Exact \/cart/);
  const hit = JSON.parse(gatehouse('explain', dir, 'GET', 'http://SHOP.example.com/cart', '-o', 'json').stdout);
  t.equal(hit.route, 'apps/shop');
});

t.test('no listener on the port, uncovered host, refused target: exit 0, route null', async (t) => {
  const noPort = gatehouse('explain', dir, 'GET', 'http://www.example.com:8080/api', '-o', 'json');
  t.equal(noPort.code, 0, noPort.stderr);
  t.equal(JSON.parse(noPort.stdout).route, null);
  t.match(JSON.parse(noPort.stdout).outcome, /no listener on port 8080/);
  const text = gatehouse('explain', dir, 'GET', 'https://www.example.com/api');
  t.equal(text.code, 0);
  t.match(text.stdout, /no listener on port 443/);
  const noHost = JSON.parse(gatehouse('explain', dir, 'GET', 'http://example.org/api', '-o', 'json').stdout);
  t.equal(noHost.route, null);
  t.match(noHost.outcome, /no listener on port 80 covers host "example.org"/);
  const traversal = JSON.parse(gatehouse('explain', dir, 'GET', 'http://www.example.com/api/..%2fadmin', '-o', 'json').stdout);
  t.equal(traversal.route, null);
  t.match(traversal.outcome, /^400/);
  const dots = JSON.parse(gatehouse('explain', dir, 'GET', 'http://www.example.com/static/../api/x', '-o', 'json').stdout);
  t.equal(dots.route, 'apps/api', 'dot segments are resolved before matching');
  t.equal(dots.request.path, '/api/x');
});

t.test('the conformance precedence fixture: method beats headers, headers beat query', async (t) => {
  const input = join(fixtures, 'precedence-method-headers-query', 'input');
  const a = JSON.parse(gatehouse('explain', input, 'PATCH', 'http://h/', '-H', 'version: four', '-o', 'json').stdout);
  const b = JSON.parse(gatehouse('explain', input, 'GET', 'http://h/?animal=hydra', '-H', 'version: four', '-o', 'json').stdout);
  t.equal(a.rule, 5, 'the method: PATCH rule');
  t.equal(b.rule, 1, 'the method: GET rule beats the header rule');
});

t.test('TLS ports: SNI selects a TLS listener (passthrough) or an HTTPS one; Host of another listener → 421', async (t) => {
  const tls = JSON.parse(gatehouse('explain', join(fixtures, 'tls-routes', 'input'), 'GET', 'https://abc.example.com/', '-o', 'json').stdout);
  t.equal(tls.route, 'default/to-abc', 'the exact listener abc.example.com, not a wildcard one');
  t.equal(tls.routeKind, 'TLSRoute');
  t.equal(tls.gateway, 'default/gw-abc');
  const wild = JSON.parse(gatehouse('explain', join(fixtures, 'tls-routes', 'input'), 'GET', 'https://x.example.com/', '-o', 'json').stdout);
  t.equal(wild.route, 'default/to-wildcards-2');
  const https = join(fixtures, 'https-certificates', 'input');
  const ok = JSON.parse(gatehouse('explain', https, 'GET', 'https://www.example.com/', '-o', 'json').stdout);
  t.equal(ok.routeKind, 'HTTPRoute');
  t.equal(ok.listener, 'site');
  const mis = JSON.parse(gatehouse('explain', https, 'GET', 'https://www.example.com/', '-H', 'Host: other.example.com', '-o', 'json').stdout);
  t.equal(mis.route, null);
  t.match(mis.outcome, /^421/);
});

t.test('load errors exit 1, usage errors exit 2', async (t) => {
  t.equal(gatehouse('explain', join(dir, 'nope'), 'GET', 'http://h/').code, 1);
  const bad = mkdtempSync(join(tmpdir(), 'gatehouse-explain-bad-'));
  writeFileSync(join(bad, 'bad.yaml'), 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: x}\nspec:\n  hostnames: [UPPER.example.com]\n');
  t.equal(gatehouse('explain', bad, 'GET', 'http://h/').code, 1);
  t.equal(gatehouse('explain').code, 2);
  t.equal(gatehouse('explain', dir).code, 2);
  t.equal(gatehouse('explain', dir, 'GET').code, 2);
  t.equal(gatehouse('explain', dir, 'GET', 'www.example.com/api').code, 2, 'URL without scheme');
  t.equal(gatehouse('explain', dir, 'GET', 'http://h/', '-H', 'no-colon').code, 2);
  t.equal(gatehouse('explain', dir, 'GET', 'http://h/', '-o', 'yaml').code, 2);
  t.equal(gatehouse('explain', dir, 'GET', 'http://h/', '--frobnicate').code, 2);
  t.equal(gatehouse('explain', dir, 'GET', 'http://h/', 'extra').code, 2);
  t.equal(gatehouse('explain', '--help').code, 0);
});
