/**
 * fixtures/invalid/<case>/: broken configurations and the exact `gatehouse validate` output for each
 * (expected.txt). Every case runs through the real loader, decoder and validate report, in-process;
 * one runs through the built binary too. `UPDATE_FIXTURES=1` rewrites the goldens (review them by eye:
 * each line/col must point at the offending field).
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { formatReport, validateDirectory } from '../../src/commands/validate.js';

const ROOT = resolve(import.meta.dirname, '../../../..');
const INVALID = join(ROOT, 'fixtures/invalid');
const BIN = join(ROOT, 'packages/cli/dist/bin.js');
const update = process.env.UPDATE_FIXTURES === '1';

const cases = readdirSync(INVALID, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

t.ok(cases.length >= 30, `at least 30 invalid cases (${cases.length})`);

/** Runs validate with the cases' parent as cwd, so files print as `<case>/file.yaml`. */
async function report(name: string): Promise<{ text: string; ok: boolean }> {
  const cwd = process.cwd();
  process.chdir(INVALID);
  try {
    const r = await validateDirectory(name);
    return { text: formatReport(r).join('\n') + '\n', ok: r.ok };
  } finally {
    process.chdir(cwd);
  }
}

for (const name of cases) {
  t.test(name, async (t) => {
    const { text } = await report(name);
    const golden = join(INVALID, name, 'expected.txt');
    if (update || !existsSync(golden)) writeFileSync(golden, text);
    t.equal(text, readFileSync(golden, 'utf8'), `${name}: validate output matches expected.txt`);
  });
}

t.test('every case but the warning-only ones fails validation', async (t) => {
  const warningOnly = new Set(['unsupported-kind', 'yaml11-boolean', 'referencepolicy-deprecated', 'v1alpha1-unbound-route']);
  for (const name of cases) {
    const { ok } = await report(name);
    t.equal(ok, warningOnly.has(name), `${name}: ${warningOnly.has(name) ? 'passes with warnings' : 'fails'}`);
  }
});

t.test('the binary prints the same lines and exits 1', async (t) => {
  const name = 'typo-weight';
  let out = '';
  let status = 0;
  try {
    out = execFileSync(process.execPath, [BIN, 'validate', name], { cwd: INVALID, encoding: 'utf8' });
  } catch (e) {
    const err = e as { stdout: string; status: number };
    out = err.stdout;
    status = err.status;
  }
  t.equal(status, 1);
  t.equal(out, readFileSync(join(INVALID, name, 'expected.txt'), 'utf8'));
  t.match(out, /typo-weight\/route\.yaml:15:7 HTTPRoute default\/canary UNKNOWN_FIELD: unknown field "wieght" .*did you mean "weight"\?/);
});

t.test('a warning-only case exits 0 from the binary', async (t) => {
  const out = execFileSync(process.execPath, [BIN, 'validate', 'unsupported-kind'], { cwd: INVALID, encoding: 'utf8' });
  t.match(out, /UNSUPPORTED_KIND: warning: /);
  t.match(out, /1 object, 0 errors, 1 warning\n$/);
});
