// Compile goldens: fixtures/compile/<case>/input/*.yaml → table.json (serializeTable) and
// status.json (the StatusReport), plus diagnostics.json when compile reports anything.
// An optional options.json holds CompileOptions. Regenerate with UPDATE_FIXTURES=1, then READ the diff.
import t from 'tap';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile, formatDiagnostic, hasErrors, serializeTable, stableStringify, type CompileOptions } from '@gatehouse/core';
import { loadResources } from '../src/load/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'fixtures', 'compile');
const update = process.env.UPDATE_FIXTURES === '1';

const cases = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'input')))
  .map((d) => d.name)
  .sort();

t.ok(cases.length > 0, 'there are golden cases');

for (const name of cases) {
  t.test(name, async (t) => {
    const dir = join(root, name);
    const loaded = await loadResources(join(dir, 'input'));
    t.notOk(hasErrors(loaded.diagnostics), 'the input loads without errors', {
      diagnostics: loaded.diagnostics.map(formatDiagnostic),
    });
    const optionsFile = join(dir, 'options.json');
    const options = existsSync(optionsFile) ? (JSON.parse(readFileSync(optionsFile, 'utf8')) as CompileOptions) : {};
    const result = compile(loaded.resources, options);
    const outputs: Record<string, string | null> = {
      'table.json': serializeTable(result.table),
      'status.json': stableStringify(result.status) + '\n',
      'diagnostics.json': result.diagnostics.length > 0 ? stableStringify(result.diagnostics) + '\n' : null,
    };
    for (const [file, text] of Object.entries(outputs)) {
      const path = join(dir, file);
      if (update) {
        if (text === null) rmSync(path, { force: true });
        else writeFileSync(path, text);
        continue;
      }
      if (text === null) {
        t.notOk(existsSync(path), `${file}: no diagnostics expected file`);
        continue;
      }
      t.ok(existsSync(path), `${file} exists (run with UPDATE_FIXTURES=1 to create it)`);
      if (existsSync(path)) t.equal(text, readFileSync(path, 'utf8'), `${file} matches`);
    }
  });
}

// docs/status-reasons.md lists every reason of the spec's status model and who emits it. Every row
// marked `compile` must be shown by at least one golden, and every reason a golden shows must be in
// the table, so the table and the compiler cannot drift apart.
t.test('docs/status-reasons.md: every compile reason has a golden, every golden reason is documented', async (t) => {
  const doc = readFileSync(join(root, '..', '..', 'docs', 'status-reasons.md'), 'utf8');
  const rows = doc
    .split('\n')
    .filter((line) => /^\| (GatewayClass|Gateway|Listener|Route|ListenerSet|BackendTLSPolicy) \|/.test(line))
    .map((line) => line.split('|').slice(1, 6).map((cell) => cell.trim()));
  t.ok(rows.length > 40, `the table has a row per reason (${rows.length})`);
  const documented = new Map(rows.map(([object, type, status, reason, by]) => [`${object} ${type} ${status} ${reason}`, by]));
  for (const by of documented.values()) t.ok(['compile', 'runtime', 'never'].includes(by!), `"${by}" is compile, runtime or never`);

  type Cond = { type: string; status: string; reason: string };
  type Report = {
    gatewayClasses: { conditions: Cond[] }[];
    gateways: { conditions: Cond[]; listeners: { conditions: Cond[] }[] }[];
    routes: { parents: { conditions: Cond[] }[] }[];
  };
  const shown = new Map<string, string>();
  for (const name of cases) {
    const report = JSON.parse(readFileSync(join(root, name, 'status.json'), 'utf8')) as Report;
    const add = (object: string, cs: Cond[]) => {
      for (const c of cs) {
        const k = `${object} ${c.type} ${c.status} ${c.reason}`;
        if (!shown.has(k)) shown.set(k, name);
      }
    };
    for (const c of report.gatewayClasses) add('GatewayClass', c.conditions);
    for (const g of report.gateways) {
      add('Gateway', g.conditions);
      for (const l of g.listeners) add('Listener', l.conditions);
    }
    for (const r of report.routes) for (const p of r.parents) add('Route', p.conditions);
  }
  for (const [k, by] of documented) {
    if (by === 'compile') t.ok(shown.has(k), `${k}: shown by a golden`);
    else t.notOk(shown.has(k), `${k}: marked ${by}, so no golden may show it (found in ${shown.get(k)})`);
  }
  for (const [k, name] of shown) t.ok(documented.has(k), `${k} (golden ${name}) is documented in docs/status-reasons.md`);
});
