/**
 * The conformance tests listed in cases/expected-pass.json run against the real product and must PASS.
 * The list grows as the product does; a test that falls off it is a regression.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CONFORMANCE_DIR, expectedPass, runConformance, testLines } from '../src/index.js';

const names = expectedPass();
const haveManifests = existsSync(join(DEFAULT_CONFORMANCE_DIR, 'base', 'manifests.yaml'));

t.test('expected-pass conformance tests pass', { skip: (!haveManifests && 'upstream manifests not available') || (!names.length && 'expected-pass.json is empty') }, async (t) => {
  const { report } = await runConformance({ only: names, write: false, mustPass: 'expected', log: () => {}, suiteTimeoutMs: 150_000 });
  if (report.product.startsWith('unavailable')) {
    t.skip(`product ${report.product}`);
    return;
  }
  for (const n of names) {
    const r = report.results.find((x) => x.name === n);
    t.equal(r?.outcome, 'PASS', r ? testLines(r).join('\n') : `${n}: no result`);
  }
});
