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
