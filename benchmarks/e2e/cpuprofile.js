#!/usr/bin/env node
/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function (name + file:line),
 * and per area (Gatehouse packages, undici, node internals, GC, idle...).
 *
 *   node benchmarks/e2e/cpuprofile.js FILE.cpuprofile [--top N]
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

function area(url, name) {
  if (name === '(garbage collector)') return 'GC';
  if (name === '(idle)') return 'idle';
  if (name === '(program)') return 'native / (program)';
  if (url.startsWith('wasm://')) return 'undici (llhttp wasm)';
  if (!url) return 'native / builtins';
  if (url.includes('/packages/proxy/')) return 'gatehouse proxy';
  if (url.includes('/packages/core/')) return 'gatehouse core';
  if (url.includes('/packages/cli/')) return 'gatehouse cli';
  if (url.startsWith('node:internal/deps/undici') || url.includes('/undici/')) return 'undici';
  if (url.includes('/node_modules/')) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules)/.exec(url);
    return m ? `dep ${m[1]}` : 'dependencies';
  }
  if (url.startsWith('node:')) return 'node internals';
  return 'other';
}

function shortUrl(url) {
  if (!url) return '';
  const i = url.indexOf('/packages/');
  if (i >= 0) return url.slice(i + 1);
  const j = url.lastIndexOf('node_modules/');
  if (j >= 0) return url.slice(j + 'node_modules/'.length);
  return url.replace(/^file:\/\//, '');
}

/** Returns { totalMs, functions: [{ name, where, area, selfMs, pct }], areas: [{ area, selfMs, pct }] }. */
export function summariseProfile(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const { samples = [], timeDeltas = [] } = profile;
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time since the previous sample: attribute it to the sample's node.
    const dt = Math.max(0, timeDeltas[i] ?? 0);
    self.set(samples[i], (self.get(samples[i]) ?? 0) + dt);
  }
  let totalUs = 0;
  const fn = new Map();
  const areas = new Map();
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    totalUs += us;
    const cf = n.callFrame;
    const name = cf.functionName || '(anonymous)';
    const where = cf.url ? `${shortUrl(cf.url)}:${cf.lineNumber + 1}` : '';
    const key = `${name}\u0000${where}`;
    const a = area(cf.url, cf.functionName);
    const e = fn.get(key) ?? { name, where, area: a, selfUs: 0 };
    e.selfUs += us;
    fn.set(key, e);
    areas.set(a, (areas.get(a) ?? 0) + us);
  }
  const busyUs = totalUs - (areas.get('idle') ?? 0);
  const pct = (us) => (busyUs > 0 ? (100 * us) / busyUs : 0);
  return {
    totalMs: totalUs / 1000,
    busyMs: busyUs / 1000,
    functions: [...fn.values()]
      .sort((a, b) => b.selfUs - a.selfUs)
      .map((e) => ({ name: e.name, where: e.where, area: e.area, selfMs: e.selfUs / 1000, pct: e.area === 'idle' ? null : pct(e.selfUs) })),
    areas: [...areas]
      .sort((a, b) => b[1] - a[1])
      .map(([a, us]) => ({ area: a, selfMs: us / 1000, pct: a === 'idle' ? null : pct(us) })),
  };
}

/** Markdown: the top `top` non-idle functions by self time, and the split by area (% of busy time). */
export function profileMarkdown(summary, top = 15) {
  const rows = summary.functions.filter((f) => f.area !== 'idle').slice(0, top);
  const lines = [
    `Busy (non-idle) samples: ${summary.busyMs.toFixed(0)} ms of ${summary.totalMs.toFixed(0)} ms profiled.`,
    '',
    '| # | self % | self ms | function | where | area |',
    '|---:|---:|---:|---|---|---|',
    ...rows.map((f, i) => `| ${i + 1} | ${f.pct.toFixed(1)} | ${f.selfMs.toFixed(0)} | \`${f.name}\` | ${f.where} | ${f.area} |`),
    '',
    'Gatehouse\'s own functions (packages/*), by self time:',
    '',
    '| # | self % | self ms | function | where |',
    '|---:|---:|---:|---|---|',
    ...summary.functions
      .filter((f) => f.area.startsWith('gatehouse'))
      .slice(0, 10)
      .map((f, i) => `| ${i + 1} | ${f.pct.toFixed(1)} | ${f.selfMs.toFixed(0)} | \`${f.name}\` | ${f.where} |`),
    '',
    '| area | self % of busy |',
    '|---|---:|',
    ...summary.areas.filter((a) => a.area !== 'idle').map((a) => `| ${a.area} | ${a.pct.toFixed(1)} |`),
  ];
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  const args = process.argv.slice(2);
  const ti = args.indexOf('--top');
  const top = ti >= 0 ? Number(args[ti + 1]) : 15;
  const file = args.find((a, i) => !a.startsWith('--') && !(ti >= 0 && i === ti + 1));
  if (!file) {
    process.stderr.write('usage: node benchmarks/e2e/cpuprofile.js FILE.cpuprofile [--top N]\n');
    process.exit(2);
  }
  const summary = summariseProfile(JSON.parse(fs.readFileSync(file, 'utf8')));
  process.stdout.write(profileMarkdown(summary, top) + '\n');
}
