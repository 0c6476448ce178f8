/**
 * The published results cannot go stale: RESULTS.md and the README's `<!-- conformance:begin -->` block
 * must be exactly what the runner renders from results/latest.json (`pnpm conformance` writes all three).
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CASES_DIR, PACKAGE_DIR, README_PATH, loadCatalogue, markdown, readmeBlock, readmeBlockOf, spliceReadme, type RunReport } from '../src/index.js';

const catalogue = loadCatalogue(CASES_DIR);
const report = JSON.parse(readFileSync(join(PACKAGE_DIR, 'results', 'latest.json'), 'utf8')) as RunReport;
const FIX = 'run `pnpm conformance` (the whole suite) and commit results/latest.json, RESULTS.md and README.md together';

t.test('RESULTS.md is what the runner renders from results/latest.json', async (t) => {
  const onDisk = readFileSync(join(PACKAGE_DIR, 'RESULTS.md'), 'utf8');
  t.ok(onDisk === markdown(report, catalogue), `RESULTS.md is stale: ${FIX}`);
});

t.test("the README's conformance block is what the runner renders from results/latest.json", async (t) => {
  const readme = readFileSync(README_PATH, 'utf8');
  const block = readmeBlockOf(readme);
  t.ok(block !== null, 'README.md has the <!-- conformance:begin --> … <!-- conformance:end --> markers');
  t.ok(block === readmeBlock(report, catalogue), `README.md's conformance block is stale: ${FIX}`);
});

t.test('latest.json is a whole run: every GATEWAY-HTTP test has a result, so the README lists each one', async (t) => {
  const ran = new Set(report.results.map((r) => r.name));
  const missing = catalogue.filter((e) => e.profiles.includes('GATEWAY-HTTP') && !ran.has(e.name)).map((e) => e.name);
  t.same(missing, [], `tests without a result (a partial --run wrote latest.json?): ${FIX}`);
  const block = readmeBlock(report, catalogue);
  for (const e of catalogue.filter((x) => x.profiles.includes('GATEWAY-HTTP'))) {
    const r = report.results.find((x) => x.name === e.name);
    const line = block.split('\n').find((l) => l.startsWith(`| ${e.name} `));
    t.ok(line !== undefined && r !== undefined && line.includes(r.outcome), `${e.name}: one row with its result (${r?.outcome})`);
    if (r?.outcome === 'SKIP') t.ok(line!.includes(r.reason.replace(/\|/g, '\\|').replace(/\n/g, ' ')), `${e.name}: the skip reason is in its row`);
  }
});

t.test('the rendering follows the results: a changed outcome changes the block, splicing keeps the rest of the README', async (t) => {
  const name = report.results.find((r) => r.outcome === 'PASS' && catalogue.find((e) => e.name === r.name)?.profiles.includes('GATEWAY-HTTP'))!.name;
  const changed: RunReport = { ...report, results: report.results.map((r) => (r.name === name ? { ...r, outcome: 'SKIP', reason: 'a changed result' } : r)) };
  const before = readmeBlock(report, catalogue);
  const after = readmeBlock(changed, catalogue);
  t.not(after, before, 'a different outcome renders a different block');
  t.match(after, new RegExp(`\\| ${name} \\| [^|]+ \\| ⏭️ SKIP \\| a changed result \\|`));
  const doc = `# title\n\nintro\n\n<!-- conformance:begin -->\nold\n<!-- conformance:end -->\n\n## next\n`;
  const spliced = spliceReadme(doc, before);
  t.ok(spliced.startsWith('# title\n\nintro\n\n<!-- conformance:begin -->\n'), 'text before the block kept');
  t.ok(spliced.endsWith('<!-- conformance:end -->\n\n## next\n'), 'text after the block kept');
  t.equal(readmeBlockOf(spliced), before);
  t.throws(() => spliceReadme('# no markers\n', before), /no <!-- conformance:begin -->/);
});
