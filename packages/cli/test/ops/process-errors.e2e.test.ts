/**
 * The last resort (docs/reliability.md §6), through the real CLI: an uncaught exception and an unhandled
 * rejection (TypeErrors, i.e. programmer errors) are logged with their stack, counted in
 * `gatehouse_process_errors_total{kind}`, and the process keeps serving. A `--require` preload injects
 * them inside the gateway process: on SIGUSR2 in the primary, after a delay in `--workers` workers.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, quickstartEnv, sleep, waitReady, withTimeout, type Proc } from './e2e-helpers.js';

const PRELOAD = `'use strict';
const cluster = require('node:cluster');
const n = Number(process.env.GH_TEST_INJECT_COUNT || 1);
function inject() {
  for (let i = 0; i < n; i++) {
    Promise.reject(new TypeError('injected rejection'));
    setTimeout(() => { throw new TypeError('injected exception'); });
  }
}
process.on('SIGUSR2', inject);
const ms = Number(process.env.GH_TEST_INJECT_WORKER_MS || 0);
if (cluster.isWorker && ms > 0) setTimeout(inject, ms);
`;

function preloadFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gh-preload-'));
  const file = join(dir, 'inject.cjs');
  writeFileSync(file, PRELOAD);
  return file;
}

function gatehouseWithPreload(preload: string, args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, ['--require', preload, BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exited };
}

function status(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', headers: { host }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
  });
}

function errorsOf(metrics: string): { uncaught: number; rejection: number } {
  const v = (kind: string): number => {
    const m = new RegExp(`^gatehouse_process_errors_total\\{kind="${kind}"\\} (\\d+)$`, 'm').exec(metrics);
    return m === null ? -1 : Number(m[1]);
  };
  return { uncaught: v('uncaughtException'), rejection: v('unhandledRejection') };
}

async function metricsText(admin: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
}

t.test('an uncaught exception and an unhandled rejection are logged and counted; the gateway keeps serving', async (t) => {
  const env = await quickstartEnv();
  t.teardown(env.close);
  const p = gatehouseWithPreload(preloadFile(), ['run', env.dir, '--admin', `127.0.0.1:${env.admin}`, '--access-log', 'off', '--log-format', 'json']);
  t.teardown(() => void p.child.kill('SIGKILL'));
  await waitReady(env.admin, p);
  t.equal(await status(env.port, 'www.example.com'), 200);
  t.same(errorsOf(await metricsText(env.admin)), { uncaught: 0, rejection: 0 }, 'both kinds exported at 0 before any error');

  p.child.kill('SIGUSR2');
  let counts = { uncaught: 0, rejection: 0 };
  for (let i = 0; i < 100 && (counts.uncaught < 1 || counts.rejection < 1); i++) {
    await sleep(30);
    counts = errorsOf(await metricsText(env.admin));
  }
  t.same(counts, { uncaught: 1, rejection: 1 }, 'gatehouse_process_errors_total counts one of each kind');
  t.equal(p.child.exitCode, null, 'the process is still running');
  for (let i = 0; i < 5; i++) t.equal(await status(env.port, 'www.example.com'), 200, `request ${i + 1} after the errors: 200`);
  t.equal((await fetch(`http://127.0.0.1:${env.admin}/readyz`)).status, 200, 'still ready');

  const lines = p
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: string; msg: string; kind?: string; class?: string; stack?: string });
  const logged = lines.filter((l) => l.kind !== undefined);
  t.same(logged.map((l) => l.kind).sort(), ['uncaughtException', 'unhandledRejection'], 'one log line per error');
  for (const l of logged) {
    t.equal(l.level, 'error');
    t.equal(l.class, 'programmer');
    t.match(l.msg, /kept serving/);
    t.match(l.stack, /^TypeError: injected (rejection|exception)\n\s+at /, 'with its stack');
  }

  p.child.kill('SIGTERM');
  t.equal((await withTimeout(p.exited, 8000, 'exit')).code, 0, 'a clean shutdown afterwards');
});

t.test('a burst of errors: every one counted, the log limited to 20 lines a second', async (t) => {
  const env = await quickstartEnv();
  t.teardown(env.close);
  const p = gatehouseWithPreload(preloadFile(), ['run', env.dir, '--admin', `127.0.0.1:${env.admin}`, '--access-log', 'off', '--log-format', 'json'], { GH_TEST_INJECT_COUNT: '200' });
  t.teardown(() => void p.child.kill('SIGKILL'));
  await waitReady(env.admin, p);
  p.child.kill('SIGUSR2');
  let counts = { uncaught: 0, rejection: 0 };
  for (let i = 0; i < 100 && (counts.uncaught < 200 || counts.rejection < 200); i++) {
    await sleep(30);
    counts = errorsOf(await metricsText(env.admin));
  }
  t.same(counts, { uncaught: 200, rejection: 200 }, 'all 400 errors counted');
  t.equal(await status(env.port, 'www.example.com'), 200, 'still serving');
  const logged = p
    .stderr()
    .split('\n')
    .filter((l) => l.includes('"kind":"'));
  t.ok(logged.length >= 20 && logged.length <= 40, `${logged.length} log lines for 400 errors (20 a second)`);
  // one more error later: its line says how many were not logged
  await sleep(1100);
  p.child.kill('SIGUSR2');
  const t0 = Date.now();
  while (!/"suppressedBefore":\d+/.test(p.stderr()) && Date.now() - t0 < 3000) await sleep(30);
  const m = /"suppressedBefore":(\d+)/.exec(p.stderr());
  t.ok(m !== null && Number(m[1]) + logged.length === 400, `the next line reports the ${m?.[1]} suppressed ones`);
  p.child.kill('SIGTERM');
  t.equal((await withTimeout(p.exited, 8000, 'exit')).code, 0);
});

t.test('--workers: errors in the workers are counted on the primary and no worker exits', async (t) => {
  const env = await quickstartEnv();
  t.teardown(env.close);
  const p = gatehouseWithPreload(
    preloadFile(),
    ['run', env.dir, '--admin', `127.0.0.1:${env.admin}`, '--access-log', 'off', '--log-format', 'json', '--workers', '2'],
    { GH_TEST_INJECT_WORKER_MS: '1500' },
  );
  t.teardown(() => void p.child.kill('SIGKILL'));
  await waitReady(env.admin, p, 15_000);
  let counts = { uncaught: 0, rejection: 0 };
  const t0 = Date.now();
  while ((counts.uncaught < 2 || counts.rejection < 2) && Date.now() - t0 < 10_000) {
    await sleep(100);
    counts = errorsOf(await metricsText(env.admin));
  }
  t.same(counts, { uncaught: 2, rejection: 2 }, 'one of each kind per worker, summed on the admin port');
  for (let i = 0; i < 6; i++) t.equal(await status(env.port, 'www.example.com'), 200, `request ${i + 1}: 200`);
  t.notMatch(p.stderr(), /worker exited/, 'no worker exited');
  t.equal((await fetch(`http://127.0.0.1:${env.admin}/readyz`)).status, 200, 'every worker still serving');
  p.child.kill('SIGTERM');
  t.equal((await withTimeout(p.exited, 10_000, 'exit')).code, 0);
});
