#!/usr/bin/env node
/**
 * `pnpm package`: builds the Gatehouse single executable for this platform (Linux x64 is the one we
 * ship and test), from a fresh clone:
 *
 *   1. tsc -b                          (the workspace's compiled ESM in packages/* /dist)
 *   2. esbuild → dist-bin/gatehouse.cjs  one CommonJS file: the CLI with core, proxy and every npm
 *      dependency; the commit, the build kind and `import.meta.url` are replaced at build time
 *   3. node --experimental-sea-config  → dist-bin/sea-prep.blob
 *   4. a copy of this `node` binary (stripped of debug symbols when `strip` exists), with the blob
 *      injected by postject under the SEA fuse → dist-bin/gatehouse-<platform>-<arch>
 *   5. a smoke test: the executable's `version` must answer
 *
 * Options: --no-strip (keep the node binary's symbols), --bundle-only (stop after step 2),
 * --skip-tsc (use packages/* /dist as they are),
 * --out DIR (default dist-bin). Exit code 0 on success; a failing step prints what it ran.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(join(ROOT, 'package.json'));
const args = process.argv.slice(2);
const flag = (f) => args.includes(f);
const outIdx = args.indexOf('--out');
const OUT = resolve(ROOT, outIdx >= 0 ? args[outIdx + 1] : 'dist-bin');
const SENTINEL = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const EXE = join(OUT, `gatehouse-${process.platform}-${process.arch}${process.platform === 'win32' ? '.exe' : ''}`);

const t0 = Date.now();
const step = (msg) => process.stderr.write(`package: ${msg} (+${((Date.now() - t0) / 1000).toFixed(1)}s)\n`);

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], encoding: 'utf8', ...opts });
  if (r.error || r.status !== 0) {
    if (typeof r.stderr === 'string') process.stderr.write(r.stderr);
    process.stderr.write(`package: failed: ${cmd} ${argv.join(' ')}${r.error ? ` (${r.error.message})` : ` (exit ${r.status})`}\n`);
    process.exit(1);
  }
  return r;
}

/** `git rev-parse --short HEAD`, or "unknown" when this is not a git checkout (a tarball, an image build). */
function gitCommit() {
  if (process.env.GATEHOUSE_COMMIT) return process.env.GATEHOUSE_COMMIT;
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8' }).trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}

// 1. compile the workspace (incremental: quick when up to date)
if (!flag('--skip-tsc')) {
  step('tsc -b');
  run(process.execPath, [require.resolve('typescript/bin/tsc'), '-b']);
}

// 2. bundle
mkdirSync(OUT, { recursive: true });
const commit = gitCommit();
const bundle = join(OUT, 'gatehouse.cjs');
step(`esbuild → ${relative(ROOT, bundle)} (commit ${commit})`);
const esbuild = require('esbuild');
const result = await esbuild.build({
  absWorkingDir: ROOT,
  entryPoints: ['packages/cli/dist/bin.js'],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // The command table loads each command with `import('./x.js')`: with string literals esbuild
  // inlines them as lazily initialised modules, so start-up still runs only the command it needs.
  define: {
    __GATEHOUSE_COMMIT__: JSON.stringify(commit),
    __GATEHOUSE_BUILD__: JSON.stringify(flag('--bundle-only') ? 'bundle' : 'sea'),
    // The one `import.meta` use (commands/quickstart.ts locating fixtures/) gets this file's own URL:
    // CommonJS has no import.meta, and esbuild would otherwise leave it empty.
    'import.meta.url': '__gatehouse_import_meta_url',
  },
  banner: {
    js: [
      'var __gatehouse_import_meta_url = require("node:url").pathToFileURL(__filename).href;',
      // `run --workers N` forks with node:cluster, which starts process.execPath with the script path
      // (process.argv[1]) as the first argument. A single executable has no script: it sees that path
      // as an extra argument, so a SEA cluster worker drops it and gets the primary's argv.
      'if (process.argv.length > 2 && require("node:cluster").isWorker) { try { if (require("node:sea").isSea()) process.argv.splice(2, 1); } catch {} }',
    ].join('\n'),
  },
  legalComments: 'none',
  minifySyntax: true,
  minifyWhitespace: true,
  keepNames: true,
  metafile: true,
  logLevel: 'warning',
});
// A SEA main script runs as a CommonJS function body, where a `#!` line is a syntax error.
let code = readFileSync(bundle, 'utf8');
if (code.startsWith('#!')) code = code.slice(code.indexOf('\n') + 1);
writeFileSync(bundle, code);
const leftImportMeta = /\bimport\.meta\b/.test(code);
if (leftImportMeta) {
  process.stderr.write('package: the bundle still mentions import.meta (a dependency uses it): handle it in scripts/package/build.mjs\n');
  process.exit(1);
}
writeFileSync(join(OUT, 'meta.json'), JSON.stringify(result.metafile));
step(`bundle ${(statSync(bundle).size / 1024).toFixed(0)} KiB, ${Object.keys(result.metafile.inputs).length} input files`);
if (flag('--bundle-only')) process.exit(0);

// 3. the SEA blob
const seaConfig = join(OUT, 'sea-config.json');
const blob = join(OUT, 'sea-prep.blob');
writeFileSync(
  seaConfig,
  JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }, null, 2) + '\n',
);
step('node --experimental-sea-config');
run(process.execPath, ['--experimental-sea-config', seaConfig], { stdio: ['ignore', 'ignore', 'pipe'] });

// 4. copy node, strip it, inject the blob
step(`copy ${process.execPath} → ${relative(ROOT, EXE)}`);
rmSync(EXE, { force: true });
copyFileSync(process.execPath, EXE);
chmodSync(EXE, 0o755);
if (!flag('--no-strip') && process.platform === 'linux') {
  const s = spawnSync('strip', ['--strip-all', EXE], { stdio: 'ignore' });
  step(s.status === 0 ? 'stripped debug symbols' : 'strip not available: keeping symbols');
}
step('postject');
run(process.execPath, [
  require.resolve('postject/dist/cli.js'),
  EXE,
  'NODE_SEA_BLOB',
  blob,
  '--sentinel-fuse',
  SENTINEL,
  ...(process.platform === 'darwin' ? ['--macho-segment-name', 'NODE_SEA'] : []),
  // LIEF warns about the stripped binary's unnamed notes; its output is shown only when it fails.
], { stdio: ['ignore', 'ignore', 'pipe'] });

// 5. smoke test
const v = spawnSync(EXE, ['version'], { encoding: 'utf8', env: { PATH: '/nonexistent' } });
if (v.status !== 0 || !v.stdout.includes(commit)) {
  process.stderr.write(`package: the executable does not answer \`version\`: exit ${v.status}\n${v.stdout}${v.stderr}\n`);
  process.exit(1);
}
step(`${relative(ROOT, EXE)} ${(statSync(EXE).size / 1024 / 1024).toFixed(1)} MiB: ${v.stdout.trim()}`);
if (!existsSync(EXE)) process.exit(1);
