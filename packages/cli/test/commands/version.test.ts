/**
 * `gatehouse version`: version, commit, node, build kind and platform; `-o json`; `--version`. The
 * unbundled build (tsc) has no baked-in commit: "unknown", or GATEHOUSE_COMMIT from the environment.
 * The single executable's baked-in commit is checked in test/package/sea.test.ts.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { VERSION } from '@gatehouse/core';
import { buildInfo } from '../../src/commands/version.js';

const BIN = join(resolve(import.meta.dirname, '../../../..'), 'packages/cli/dist/bin.js');
const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, GATEHOUSE_COMMIT: '', ...env } });

t.test('text', async (t) => {
  const r = run(['version']);
  t.equal(r.status, 0);
  t.equal(r.stdout, `gatehouse ${VERSION} (commit unknown, node ${process.version}, tsc, ${process.platform}-${process.arch})\n`);
  t.equal(run(['--version']).stdout, r.stdout, '--version is the same');
  t.equal(run(['-v']).stdout, r.stdout, '-v is the same');
});

t.test('json, and GATEHOUSE_COMMIT', async (t) => {
  const r = run(['version', '-o', 'json'], { GATEHOUSE_COMMIT: 'abc1234' });
  t.equal(r.status, 0);
  t.same(JSON.parse(r.stdout), { version: VERSION, commit: 'abc1234', node: process.version, build: 'tsc', platform: `${process.platform}-${process.arch}` });
});

t.test('help and usage error', async (t) => {
  const h = run(['version', '--help']);
  t.equal(h.status, 0);
  t.match(h.stdout, /^usage: gatehouse version/);
  const r = run(['version', '--bogus']);
  t.equal(r.status, 2);
  t.match(r.stderr, /usage: gatehouse version/);
});

t.test('buildInfo in-process', async (t) => {
  const info = buildInfo();
  t.equal(info.version, VERSION);
  t.equal(info.node, process.version);
  t.equal(info.build, 'tsc');
});
