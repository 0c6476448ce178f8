/**
 * The second run of the engine matrix. The default run (`tap`, `pnpm test`) covers the default HTTP/1.1
 * engine (`fast`, or whatever GATEHOUSE_HTTP_ENGINE says); this file re-runs every test file of this
 * package that serves HTTP through a gateway on the **other** engine, each as its own process with
 * GATEHOUSE_HTTP_ENGINE set, which the Runtime reads, so the suites themselves are not copied.
 *
 * Which files: every `*.test.ts` under test/ (except test/fast, whose files pick their engines
 * themselves) that starts a gateway: it uses GatehouseRuntime, the hardening harness's startGateway,
 * gatewayInFront, the gateway helper, HttpPortServer or HttpsTerminator. Today that is test/http, test/hardening (but
 * process.test.ts), test/faults, test/runtime.test.ts, test/upstream/resolver.test.ts,
 * test/l4/e2e.test.ts and test/l4/tls-port.test.ts (HTTPS listeners), and test/soak. Run once only:
 * test/ops, test/dashboard, test/filters and the rest of test/l4, which never start an HTTP engine. The
 * soak runs here with 200 connections for 8 s (1,000 for 20 s in the default run): the same traffic mix
 * and checks, ~10 s instead of ~40 s.
 *
 * Two files at a time; about 115 s on the shared 2-core machine (most of it TypeScript start-up per file). Skipped
 * when this Node has no usable llhttp binding (both runs would be the node engine then).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { bindingContract } from '../../src/fast/binding.js';
import { DEFAULT_HTTP_ENGINE } from '../../src/fast/engine.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..');
const PARALLEL = 2;
/** A test file that starts a gateway (see above). */
const SERVES_HTTP = /\b(?:GatehouseRuntime|startGateway|startGatewayYaml|gatewayInFront|HttpPortServer|HttpsTerminator)\b|helpers\/gateway\.js/;
const SKIP_DIRS = new Set(['fast', 'helpers']);

const first = process.env.GATEHOUSE_HTTP_ENGINE === 'node' || process.env.GATEHOUSE_HTTP_ENGINE === 'fast' ? process.env.GATEHOUSE_HTTP_ENGINE : DEFAULT_HTTP_ENGINE;
const other = first === 'fast' ? 'node' : 'fast';

function testFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const r = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) {
      if (rel === '' && SKIP_DIRS.has(e.name)) continue;
      out.push(...testFiles(path.join(dir, e.name), r));
    } else if (e.name.endsWith('.test.ts') && SERVES_HTTP.test(fs.readFileSync(path.join(dir, e.name), 'utf8'))) out.push(r);
  }
  return out;
}

function run(file: string): Promise<{ code: number | null; out: string; err: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, GATEHOUSE_HTTP_ENGINE: other };
    if (file.startsWith('soak/')) {
      env.SOAK_SECONDS ??= '8';
      env.SOAK_CONNECTIONS ??= '200';
    }
    delete env.TAP_CHILD_ID;
    const c = spawn(process.execPath, [...process.execArgv, path.join(root, file)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => c.kill('SIGKILL'), 150_000);
    c.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err, ms: Date.now() - t0 });
    });
  });
}

t.setTimeout(900_000);
t.test(`HTTP suites on the ${other} engine (the default run covers ${first})`, { skip: bindingContract().ok ? false : `no usable llhttp binding: ${bindingContract().reason}` }, async (t) => {
  const files = testFiles(root);
  for (const must of ['http/routing.test.ts', 'hardening/malformed.test.ts', 'faults/faults.test.ts', 'runtime.test.ts', 'soak/soak.test.ts', 'l4/tls-port.test.ts']) {
    t.ok(files.includes(must), `${must} is in the matrix`);
  }
  const results = new Map<string, Awaited<ReturnType<typeof run>>>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const name = files[next++];
      results.set(name, await run(name));
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  for (const name of files) {
    const r = results.get(name)!;
    const failed = r.out.split('\n').filter((l) => /^\s*not ok/.test(l));
    t.equal(r.code, 0, `${name} on the ${other} engine (${(r.ms / 1000).toFixed(1)} s)`, { failed: failed.slice(0, 10), stderr: r.err.slice(-2000) });
  }
});
