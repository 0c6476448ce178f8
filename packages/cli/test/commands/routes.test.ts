// `gatehouse routes DIR [-o json]` as a user runs it: the built binary against fixture directories.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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

t.test('-o json prints exactly the golden table', async (t) => {
  const r = gatehouse('routes', join(fixtures, 'precedence-paths', 'input'), '-o', 'json');
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, readFileSync(join(fixtures, 'precedence-paths', 'table.json'), 'utf8'));
});

t.test('text output lists entries in precedence order with route, rule and backends', async (t) => {
  const r = gatehouse('routes', join(fixtures, 'precedence-paths', 'input'));
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^port \*:80\/tcp  HTTP$/m);
  const order = [...r.stdout.matchAll(/^\s+\d+\. host \* {2}(\S+) (\S+)/gm)].map((m) => `${m[1]} ${m[2]}`);
  t.same(order.slice(0, 4), ['Exact /match', 'Exact /match/exact', 'Exact /match/exact/one', 'RegularExpression /match/[0-9]+']);
  t.match(r.stdout, /→ HTTPRoute default\/path-order rule 5 match 0/);
  t.match(r.stdout, /backends: Service default\/v2:8080 weight 1 \(100%\)/);
});

t.test('invalid weights show the 500 share', async (t) => {
  const r = gatehouse('routes', join(fixtures, 'backends-invalid', 'input'));
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /Service web\/web:8080 weight 10 \(10%\) {2}→ 500 \(RefNotPermitted\)/);
});

t.test('--backend-resolution strict turns the DNS fallback off', async (t) => {
  const r = gatehouse('routes', join(fixtures, 'backends-strict', 'input'), '--backend-resolution', 'strict', '-o', 'json');
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, readFileSync(join(fixtures, 'backends-strict', 'table.json'), 'utf8'));
});

t.test('a directory with errors exits 1 and prints the diagnostics', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-routes-'));
  writeFileSync(join(dir, 'bad.yaml'), 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: x}\nspec:\n  hostnames: [UPPER.example.com]\n');
  const r = gatehouse('routes', dir);
  t.equal(r.code, 1);
  t.match(r.stderr, /bad\.yaml:\d+:\d+ HTTPRoute default\/x/);
  t.equal(r.stdout, '');
});

t.test('usage errors exit 2', async (t) => {
  t.equal(gatehouse('routes').code, 2);
  t.equal(gatehouse('routes', 'a', 'b').code, 2);
  t.equal(gatehouse('routes', 'a', '-o', 'yaml').code, 2);
  t.equal(gatehouse('routes', 'a', '--frobnicate').code, 2);
  t.equal(gatehouse('routes', join(fixtures, 'nope')).code, 1);
});
