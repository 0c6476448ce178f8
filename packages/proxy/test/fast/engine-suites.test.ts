/**
 * The HTTP suites run a second time on the fast engine (the default run covers the node engine): every
 * file of test/http and test/hardening as its own process with GATEHOUSE_HTTP_ENGINE=fast, which the
 * Runtime reads, so the suites themselves are not copied. Two files at a time; about 40 s on a quiet
 * machine (most of it TypeScript start-up per file). Skipped when this Node has no usable llhttp binding
 * (the runtime falls back to node then).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { bindingContract } from '../../src/fast/binding.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SUITES = ['http', 'hardening'];
const PARALLEL = 2;

function run(file: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, GATEHOUSE_HTTP_ENGINE: 'fast' };
    delete env.TAP_CHILD_ID;
    const c = spawn(process.execPath, [...process.execArgv, file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => c.kill('SIGKILL'), 150_000);
    c.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

t.setTimeout(600_000);
t.test('HTTP suites on the fast engine', { skip: bindingContract().ok ? false : `no usable llhttp binding: ${bindingContract().reason}` }, async (t) => {
  const files: [string, string][] = [];
  for (const dir of SUITES) {
    const full = path.join(here, '..', dir);
    for (const f of fs.readdirSync(full).filter((n) => n.endsWith('.test.ts')).sort()) files.push([`${dir}/${f}`, path.join(full, f)]);
  }
  const results = new Map<string, Awaited<ReturnType<typeof run>>>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const [name, file] = files[next++];
      results.set(name, await run(file));
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  for (const [name] of files) {
    const r = results.get(name)!;
    const failed = r.out.split('\n').filter((l) => /^\s*not ok/.test(l));
    t.equal(r.code, 0, `${name} on the fast engine`, { failed: failed.slice(0, 10), stderr: r.err.slice(-2000) });
  }
});
