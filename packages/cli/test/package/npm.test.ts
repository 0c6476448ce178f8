/**
 * The CLI as an npm package: `pnpm pack` of core, proxy and cli, `npm install` of the three tarballs
 * into an empty project, then the installed `gatehouse` binary validates fixtures/quickstart (the
 * same path `npx @gatehouse/cli` takes). About 10 s; needs the npm registry for the third-party
 * dependencies: skipped, saying so, when it cannot be reached.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, QUICKSTART } from '../ops/e2e-helpers.js';

const work = mkdtempSync(join(tmpdir(), 'gh-npm-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const PACKAGES = ['core', 'proxy', 'cli'];

t.test('package.json fields', async (t) => {
  for (const p of PACKAGES) {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'packages', p, 'package.json'), 'utf8'));
    t.same(pkg.files, ['dist'], `${p}: files`);
    t.match(pkg.engines?.node, /^>=20/, `${p}: engines.node`);
    t.notOk(pkg.private, `${p}: publishable`);
  }
  const cli = JSON.parse(readFileSync(join(ROOT, 'packages/cli/package.json'), 'utf8'));
  t.same(cli.bin, { gatehouse: './dist/bin.js' }, 'cli: bin');
  t.match(readFileSync(join(ROOT, 'packages/cli/dist/bin.js'), 'utf8'), /^#!\/usr\/bin\/env node\n/, 'bin.js starts with a node shebang');
});

t.test('pnpm pack + npm install of the tarballs', { timeout: 180_000 }, async (t) => {
  const tgz = join(work, 'tgz');
  mkdirSync(tgz);
  for (const p of PACKAGES) {
    const r = spawnSync('pnpm', ['pack', '--pack-destination', tgz], { cwd: join(ROOT, 'packages', p), encoding: 'utf8', timeout: 60_000 });
    t.equal(r.status, 0, `pnpm pack ${p}: ${r.stderr}`);
  }
  const files = readdirSync(tgz).sort();
  t.same(files, ['gatehouse-cli-0.1.0.tgz', 'gatehouse-core-0.1.0.tgz', 'gatehouse-proxy-0.1.0.tgz'].map((f) => f.replace('0.1.0', JSON.parse(readFileSync(join(ROOT, 'packages/cli/package.json'), 'utf8')).version)));
  const list = spawnSync('tar', ['-tzf', join(tgz, files[0]!)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  t.ok(list.includes('package/dist/bin.js'), 'the cli tarball holds dist/bin.js');
  t.notOk(list.some((f) => f.startsWith('package/src/') || f.startsWith('package/test/')), 'and no sources or tests');
  const manifest = JSON.parse(spawnSync('tar', ['-xzOf', join(tgz, files[0]!), 'package/package.json'], { encoding: 'utf8' }).stdout);
  t.notMatch(JSON.stringify(manifest.dependencies), /workspace:/, 'workspace: versions are replaced by real ones');

  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...files.map((f) => join(tgz, f))], { cwd: app, encoding: 'utf8', timeout: 150_000 });
  if (install.status !== 0 && /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|network/i.test(install.stderr)) {
    t.skip(`npm registry unreachable: ${install.stderr.split('\n').find((l) => /ERR/.test(l)) ?? ''}`, () => undefined);
    return;
  }
  t.equal(install.status, 0, `npm install: ${install.stderr}`);
  const bin = join(app, 'node_modules/.bin/gatehouse');
  t.ok(existsSync(bin), 'node_modules/.bin/gatehouse');
  const v = spawnSync(bin, ['validate', QUICKSTART], { encoding: 'utf8', timeout: 20_000 });
  t.equal(v.status, 0, `validate: ${v.stdout}${v.stderr}`);
  t.match(v.stdout, /10 objects, 0 errors/);
  const s = spawnSync(bin, ['schema', 'gateway'], { encoding: 'utf8', timeout: 20_000 });
  t.equal(JSON.parse(s.stdout).properties.kind.const, 'Gateway', 'schema works from the package');
});
