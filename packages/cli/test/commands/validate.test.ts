import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../../..');
const BIN = join(ROOT, 'packages/cli/dist/bin.js');
const gatehouse = (args: string[], cwd = ROOT) => spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });

t.test('a clean directory: summary only, exit 0', async (t) => {
  const r = gatehouse(['validate', 'fixtures/seed/v1']);
  t.equal(r.status, 0);
  t.equal(r.stdout, '8 objects, 0 errors, 0 warnings\n');
  t.equal(r.stderr, '');
});

t.test('errors: one line each, sorted, then the summary; exit 1', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-validate-'));
  writeFileSync(join(dir, 'b.yaml'), 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: r\nspec:\n  hostnames: ["10.0.0.1"]\n');
  writeFileSync(join(dir, 'a.yaml'), 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  ports:\n  - port: 80\n    protcol: TCP\n');
  const r = gatehouse(['validate', '.'], dir);
  t.equal(r.status, 1);
  t.equal(
    r.stdout,
    [
      'a.yaml:2:1 Deployment default/d UNSUPPORTED_KIND: warning: Deployment (apps/v1) is not read by Gatehouse; skipped (kind)',
      'a.yaml:13:5 Service default/s UNKNOWN_FIELD: unknown field "protcol" (spec.ports[0].protcol) (did you mean "protocol"?)',
      'b.yaml:6:15 HTTPRoute default/r INVALID_HOSTNAME: "10.0.0.1" is not a valid hostname: IP addresses are not allowed (spec.hostnames[0])',
      '0 objects, 2 errors, 1 warning',
      '',
    ].join('\n'),
  );
});

t.test('-o json', async (t) => {
  const r = gatehouse(['validate', 'fixtures/invalid/typo-weight', '-o', 'json']);
  t.equal(r.status, 1);
  const out = JSON.parse(r.stdout);
  t.same(Object.keys(out), ['ok', 'objects', 'diagnostics']);
  t.equal(out.ok, false);
  t.equal(out.objects, 0);
  t.match(out.diagnostics, [{ severity: 'error', code: 'UNKNOWN_FIELD', file: 'typo-weight/route.yaml', line: 15, col: 7, object: 'HTTPRoute default/canary', path: 'spec.rules[0].backendRefs[1].wieght', hint: 'did you mean "weight"?' }]);
  const ok = gatehouse(['validate', '--output=json', 'fixtures/seed/v1alpha1']);
  t.equal(ok.status, 0);
  t.same(JSON.parse(ok.stdout), { ok: true, objects: 8, diagnostics: [] });
});

t.test('usage errors exit 2; a missing directory exits 1 with a clear message', async (t) => {
  for (const args of [['validate'], ['validate', 'x', '--frobnicate'], ['validate', 'x', '-o', 'yaml'], ['validate', 'a', 'b']]) {
    const r = gatehouse(args);
    t.equal(r.status, 2, args.join(' '));
    t.match(r.stderr, /usage: gatehouse validate DIR/);
  }
  const r = gatehouse(['validate', 'no/such/dir']);
  t.equal(r.status, 1);
  t.equal(r.stderr, 'gatehouse validate: no/such/dir: no such file or directory\n');
  t.equal(r.stdout, '');
});
