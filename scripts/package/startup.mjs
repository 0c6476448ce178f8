#!/usr/bin/env node
/**
 * Start-up time of the single executable: runs `gatehouse version` N times (default 20) and prints
 * min / median / mean / p90 wall-clock milliseconds, next to the same for `node packages/cli/dist/bin.js`,
 * then the same for `validate fixtures/quickstart`.
 *
 *   node scripts/package/startup.mjs [EXE] [--runs 20]
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const ri = args.indexOf('--runs');
const runs = ri >= 0 ? Number(args[ri + 1]) : 20;
const exe = resolve(args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--runs') ?? join(ROOT, `dist-bin/gatehouse-${process.platform}-${process.arch}`));

function measure(cmd, argv, env) {
  spawnSync(cmd, argv, { env }); // warm the page cache
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, argv, { env, encoding: 'utf8' });
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  ms.sort((a, b) => a - b);
  const f = (x) => x.toFixed(1);
  return `min ${f(ms[0])}  median ${f(ms[Math.floor(runs / 2)])}  mean ${f(ms.reduce((a, b) => a + b, 0) / runs)}  p90 ${f(ms[Math.floor(runs * 0.9)])} ms`;
}

process.stdout.write(`${exe} (${(statSync(exe).size / 1048576).toFixed(1)} MiB), ${runs} runs of \`version\`:\n`);
process.stdout.write(`  single executable      ${measure(exe, ['version'], { PATH: '/nonexistent' })}\n`);
process.stdout.write(`  node dist/bin.js (tsc) ${measure(process.execPath, [join(ROOT, 'packages/cli/dist/bin.js'), 'version'], process.env)}\n`);
process.stdout.write(`  node -e 0 (baseline)   ${measure(process.execPath, ['-e', '0'], process.env)}\n`);
const qs = join(ROOT, 'fixtures/quickstart');
process.stdout.write(`${runs} runs of \`validate fixtures/quickstart\` (load, decode, compile 10 objects):\n`);
process.stdout.write(`  single executable      ${measure(exe, ['validate', qs], { PATH: '/nonexistent' })}\n`);
process.stdout.write(`  node dist/bin.js (tsc) ${measure(process.execPath, [join(ROOT, 'packages/cli/dist/bin.js'), 'validate', qs], process.env)}\n`);
