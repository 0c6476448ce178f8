/** Every case file parses, names an upstream test, and points at manifests that exist. */
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadCases } from '../src/cases.js';
import { loadCatalogue } from '../src/catalogue.js';
import { CASES_DIR, DEFAULT_CONFORMANCE_DIR, expectedPass } from '../src/index.js';

const catalogue = loadCatalogue(CASES_DIR);
const cases = loadCases(CASES_DIR);

t.test('the catalogue lists the 139 + 23 (mesh) upstream tests once', async (t) => {
  t.equal(catalogue.filter((e) => !e.mesh).length, 139);
  t.equal(catalogue.filter((e) => e.mesh).length, 23);
  t.equal(new Set(catalogue.map((e) => e.name)).size, 162);
});

t.test('each case is an upstream test, once, with its manifests', async (t) => {
  const seen = new Set<string>();
  for (const c of cases) {
    const e = catalogue.find((x) => x.name === c.name);
    t.ok(e, `${c.file}: ${c.name} is an upstream test`);
    t.notOk(seen.has(c.name), `${c.name} has one case file`);
    seen.add(c.name);
    t.equal(c.file, `${c.name}.yaml`, `${c.file} is named after the test`);
    if (!c.skip) {
      t.ok(c.phases.some((p) => p.status || p.requests.length || p.distributions.length), `${c.name} checks something`);
      if (e) t.ok(c.manifests.some((m) => m === `tests/${e.file}.yaml`) || c.manifests.length > 0, `${c.name} names its upstream manifest`);
      if (existsSync(DEFAULT_CONFORMANCE_DIR)) {
        for (const m of c.manifests) t.ok(existsSync(join(DEFAULT_CONFORMANCE_DIR, m)), `${c.name}: ${m} exists`);
      }
    }
  }
});

t.test('expected-pass names real, runnable cases', async (t) => {
  for (const n of expectedPass()) {
    const c = cases.find((x) => x.name === n);
    t.ok(c && !c.skip, `${n} has a runnable case`);
  }
});
