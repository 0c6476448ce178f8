/**
 * `runConformance`: load the cases and the catalogue, start the suite, run every selected test within
 * the suite deadline, report. Used by the `gatehouse-conformance` bin and by this package's tests.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCatalogue, isCoreIn, MESH_SKIP_REASON, type CatalogueEntry } from './catalogue.js';
import { loadCases, type ConformanceCase } from './cases.js';
import { CONTROLLER_NAME, GATEWAY_CLASS_NAME } from './manifests.js';
import { loadProduct, ProductUnavailable, type Product } from './product.js';
import { markdown, readmeBlock, spliceReadme, summarise, summaryLines, testLines, type RunReport } from './report.js';
import { DEFAULT_RUN_OPTIONS, Suite, type RunOptions, type TestResult } from './runner.js';

export * from './cases.js';
export * from './catalogue.js';
export * from './compare.js';
export * from './report.js';
export * from './runner.js';
export * from './probe.js';
export * from './table.js';

export const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CASES_DIR = join(PACKAGE_DIR, 'cases');
/** The repository README, whose `<!-- conformance:begin -->` block is generated with RESULTS.md. */
export const README_PATH = join(PACKAGE_DIR, '..', '..', 'README.md');
export const DEFAULT_CONFORMANCE_DIR = process.env.GATEHOUSE_CONFORMANCE_DIR ?? '/work/shared/conformance';

export interface ConformanceOptions extends Partial<Omit<RunOptions, 'log'>> {
  /** Test names to run (default all). */
  only?: string[];
  /**
   * `core` (default): every Core GATEWAY-HTTP test must pass; `expected`: the names in cases/expected-pass.json
   * (what this package's `test` asserts); `none`.
   */
  mustPass?: 'expected' | 'core' | 'none';
  suiteTimeoutMs?: number;
  /** Write results/latest.json and RESULTS.md. */
  write?: boolean;
  log?: (line: string) => void;
  /** Backend resolution mode passed to compile (default `strict`, see product.ts). */
  backendResolution?: 'default' | 'strict';
  /** The proxy's HTTP/1.1 engine (`node` | `fast`); default: the proxy's default. */
  httpEngine?: string;
  /** Inject a product (tests); default: the real one via product.ts. */
  product?: Product;
}

export interface ConformanceRun {
  report: RunReport;
  exitCode: number;
}

export function expectedPass(): string[] {
  const f = join(CASES_DIR, 'expected-pass.json');
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as string[]) : [];
}

function revisionOf(dir: string): string {
  try {
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    const m = /`main` @ ([0-9a-f]{7,40})/.exec(readme);
    return m ? `kubernetes-sigs/gateway-api main @ ${m[1]!.slice(0, 12)}` : dir;
  } catch {
    return dir;
  }
}

export async function runConformance(o: ConformanceOptions = {}): Promise<ConformanceRun> {
  const log = o.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const opts: RunOptions = {
    ...DEFAULT_RUN_OPTIONS,
    conformanceDir: o.conformanceDir ?? DEFAULT_CONFORMANCE_DIR,
    ...Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== undefined && k in DEFAULT_RUN_OPTIONS)),
    log,
  };
  const suiteTimeoutMs = o.suiteTimeoutMs ?? 8 * 60_000;
  const catalogue = loadCatalogue(CASES_DIR);
  const cases = loadCases(CASES_DIR);
  const caseByName = new Map(cases.map((c) => [c.name, c]));
  for (const c of cases) if (!catalogue.some((e) => e.name === c.name)) throw new Error(`${c.file}: "${c.name}" is not an upstream test name`);

  const selected: CatalogueEntry[] = catalogue.filter((e) => !o.only || o.only.includes(e.name));
  let product: Product | null = o.product ?? null;
  let productProblem = '';
  if (!product) {
    try {
      product = await loadProduct({ gatewayClass: GATEWAY_CLASS_NAME, controllerName: CONTROLLER_NAME, backendResolution: o.backendResolution ?? 'strict', ...(o.httpEngine ? { httpEngine: o.httpEngine } : {}) });
    } catch (e) {
      productProblem = e instanceof ProductUnavailable ? e.message : `could not load the product: ${String(e)}`;
    }
  }
  const manifestsMissing = !existsSync(join(opts.conformanceDir, 'base', 'manifests.yaml'));
  log(`gatehouse conformance: ${selected.length} tests, manifests ${opts.conformanceDir}, product ${product?.description ?? `unavailable (${productProblem})`}`);

  const results: TestResult[] = [];
  const skip = (name: string, reason: string): TestResult => ({
    name, outcome: 'SKIP', reason, failures: [], requestsChecked: 0, requestsFailed: 0, statusChecks: 0, durationMs: 0, diagnostics: [], runtimeLog: [], hints: [],
  });
  const deadline = Date.now() + suiteTimeoutMs;
  let suite: Suite | null = null;
  try {
    for (const e of selected) {
      const c: ConformanceCase | undefined = caseByName.get(e.name);
      let r: TestResult;
      if (!c && e.mesh) r = skip(e.name, MESH_SKIP_REASON);
      else if (!c) r = skip(e.name, 'no case written yet');
      else if (c.skip) r = skip(e.name, c.skip);
      else if (manifestsMissing) r = skip(e.name, `upstream manifests not found in ${opts.conformanceDir}`);
      else if (!product) r = skip(e.name, `product not available: ${productProblem}`);
      else if (Date.now() > deadline) r = skip(e.name, `suite timeout (${suiteTimeoutMs}ms) reached`);
      else {
        suite ??= await Suite.start(opts, product);
        r = await suite.run(c);
      }
      results.push(r);
      for (const l of testLines(r)) log(l);
    }
  } finally {
    await suite?.close();
    if (suite && opts.keepDirs) log(`assembled directories kept in ${suite.workDir}`);
  }

  const summary = summarise(results, catalogue);
  log('');
  for (const l of summaryLines(summary)) log(l);
  const mode = o.mustPass ?? 'core';
  const mustPass =
    mode === 'none' ? [] : mode === 'core' ? catalogue.filter((e) => isCoreIn(e, 'GATEWAY-HTTP')).map((e) => e.name) : expectedPass();
  // A must-pass test fails the run unless it PASSed or its case declares why it cannot run (a SKIP
  // because the product or the suite deadline was missing still counts as a failure).
  const declaredSkip = (n: string): boolean => !!caseByName.get(n)?.skip || (!caseByName.has(n) && !!catalogue.find((e) => e.name === n)?.mesh);
  const mustPassFailed = mustPass.filter((n) => {
    const r = results.find((x) => x.name === n);
    return r !== undefined && r.outcome !== 'PASS' && !(r.outcome === 'SKIP' && declaredSkip(n));
  });
  const mustPassRun = mustPass.filter((n) => results.some((x) => x.name === n) && !declaredSkip(n));
  if (mustPassRun.length) log(`\nmust-pass (${mode}): ${mustPassRun.length - mustPassFailed.length}/${mustPassRun.length} passed`);
  if (mustPassFailed.length) log(`must-pass tests not passing: ${mustPassFailed.join(', ')}`);
  const byName = new Map(catalogue.map((e) => [e.name, e]));
  const report: RunReport = {
    generatedAt: new Date().toISOString(),
    product: product?.description ?? `unavailable (${productProblem})`,
    conformanceDir: opts.conformanceDir,
    upstreamRevision: revisionOf(opts.conformanceDir),
    options: {
      requestTimeoutMs: opts.requestTimeoutMs,
      testTimeoutMs: opts.testTimeoutMs,
      consistencyMs: opts.consistencyMs,
      consecutive: opts.consecutive,
      suiteTimeoutMs,
      mustPass: mode,
    },
    mustPass,
    mustPassFailed,
    summary,
    results: results.map((r) => {
      const e = byName.get(r.name);
      return { ...r, features: e?.features ?? [], profiles: e?.profiles ?? [], provisional: e?.provisional ?? false };
    }),
  };
  if (o.write !== false) {
    mkdirSync(join(PACKAGE_DIR, 'results'), { recursive: true });
    writeFileSync(join(PACKAGE_DIR, 'results', 'latest.json'), `${JSON.stringify(report, null, 1)}\n`);
    writePublished(report, catalogue, log);
  }
  return { report, exitCode: mustPassFailed.length ? 1 : 0 };
}

/** RESULTS.md and the README's marked block (only that block is rewritten), both rendered from `report`. */
function writePublished(report: RunReport, catalogue: readonly CatalogueEntry[], log: (line: string) => void): void {
  writeFileSync(join(PACKAGE_DIR, 'RESULTS.md'), markdown(report, catalogue));
  if (!existsSync(README_PATH)) return;
  const readme = readFileSync(README_PATH, 'utf8');
  try {
    const next = spliceReadme(readme, readmeBlock(report, catalogue));
    if (next !== readme) writeFileSync(README_PATH, next);
  } catch (e) {
    log(`README not updated: ${(e as Error).message}`);
  }
}

/** `--render`: RESULTS.md and the README block again from results/latest.json, without running anything. */
export function renderPublished(log: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): void {
  const report = JSON.parse(readFileSync(join(PACKAGE_DIR, 'results', 'latest.json'), 'utf8')) as RunReport;
  writePublished(report, loadCatalogue(CASES_DIR), log);
  log(`rendered RESULTS.md and the README block from results/latest.json (${report.generatedAt})`);
}
