// `gatehouse status DIR [-o json]`: kubectl-like conditions, offline.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', '..', 'dist', 'bin.js');
const fixtures = join(here, '..', '..', '..', '..', 'fixtures', 'compile');

function gatehouse(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

t.test('-o json prints the golden status report', async (t) => {
  const r = gatehouse('status', join(fixtures, 'hostname-intersection', 'input'), '-o', 'json');
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, readFileSync(join(fixtures, 'hostname-intersection', 'status.json'), 'utf8'));
});

t.test('the table shows classes, gateways, listeners with attachedRoutes, routes per parent and backends', async (t) => {
  const r = gatehouse('status', join(fixtures, 'hostname-intersection', 'input'));
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^KIND\s+NAME\s+CONDITION\s+STATUS\s+REASON\s+MESSAGE$/m);
  t.match(r.stdout, /^GatewayClass\s+gatehouse\s+Accepted\s+True\s+Accepted/m);
  t.match(r.stdout, /^Listener\s+default\/intersection\/listener-1 \(routes: 2\)\s+Programmed\s+True/m);
  t.match(r.stdout, /^Listener\s+default\/intersection\/listener-2 \(routes: 2\)/m);
  t.match(r.stdout, /^HTTPRoute\s+default\/no-intersecting-hosts → default\/intersection\s+Accepted\s+False\s+NoMatchingListenerHostname/m);
  t.match(r.stdout, /^ROUTE\s+BACKEND\s+RESOLUTION\s+REASON\s+ENDPOINTS$/m);
  t.match(r.stdout, /HTTPRoute default\/intersection-all\s+Service default\/v2:8080\s+DNS\s+v2:8080 \(dns\)/);
});

t.test('--gateway-class restricts the served classes', async (t) => {
  const r = gatehouse('status', join(fixtures, 'gatewayclass-selection', 'input'), '--gateway-class', 'traefik', '--gateway-class=does-not-exist', '-o', 'json');
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, readFileSync(join(fixtures, 'gatewayclass-selection', 'status.json'), 'utf8'));
});

t.test('usage errors exit 2, a missing directory 1', async (t) => {
  t.equal(gatehouse('status').code, 2);
  t.equal(gatehouse('status', '-o').code, 2);
  t.equal(gatehouse('status', join(fixtures, 'nope')).code, 1);
});
