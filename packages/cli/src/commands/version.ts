/**
 * `gatehouse version`: the version, the git commit it was built from, and the Node.js inside.
 *
 * The commit is baked in at build time: scripts/package/build.mjs replaces `__GATEHOUSE_COMMIT__`
 * (esbuild `define`) with `git rev-parse --short HEAD`, or "unknown" outside a git checkout. The
 * unbundled build (tsc, npm package) has no such constant and reports "unknown" too, unless
 * GATEHOUSE_COMMIT was set when the process started (handy in CI images).
 */
import { VERSION } from '@gatehouse/core';

declare const __GATEHOUSE_COMMIT__: string | undefined;
declare const __GATEHOUSE_BUILD__: string | undefined;

export interface BuildInfo {
  version: string;
  commit: string;
  node: string;
  /** How this binary was built: `sea` (single executable), `bundle` (one CommonJS file) or `tsc`. */
  build: string;
  platform: string;
}

export function buildInfo(): BuildInfo {
  const baked = typeof __GATEHOUSE_COMMIT__ === 'string' ? __GATEHOUSE_COMMIT__ : undefined;
  const commit = baked || process.env.GATEHOUSE_COMMIT || 'unknown';
  const build = typeof __GATEHOUSE_BUILD__ === 'string' ? __GATEHOUSE_BUILD__ : 'tsc';
  return { version: VERSION, commit, node: process.version, build, platform: `${process.platform}-${process.arch}` };
}

export const usage = 'version [-o json]';

export async function run(argv: string[]): Promise<number> {
  if (argv[0] === '-h' || argv[0] === '--help') {
    process.stdout.write(`usage: gatehouse ${usage}\n\nThe version, the git commit it was built from, the Node.js inside, how it was built (sea, bundle, tsc).\n`);
    return 0;
  }
  const info = buildInfo();
  const json = (argv[0] === '-o' && argv[1] === 'json') || argv[0] === '--output=json' || argv[0] === '-ojson';
  if (argv.length > 0 && !json) {
    process.stderr.write(`usage: gatehouse ${usage}\n`);
    return 2;
  }
  if (json) process.stdout.write(JSON.stringify(info) + '\n');
  else process.stdout.write(`gatehouse ${info.version} (commit ${info.commit}, node ${info.node}, ${info.build}, ${info.platform})\n`);
  return 0;
}
