import t from 'tap';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigWatcher, isIgnoredPath } from '../../src/watch.js';

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - t0;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'gh-watch-'));
}

t.test('isIgnoredPath', async (t) => {
  for (const p of ['/c/.hidden.yaml', '/c/.routes.yaml.swp', '/c/routes.yaml~', '/c/#routes.yaml#', '/c/4913', '/c/routes.yaml.bak', '/c/.git', '/c/x.tmp'])
    t.ok(isIgnoredPath(p), p);
  for (const p of ['/c/routes.yaml', '/c/..data', '/c/..2026_11_26_12_00_00.123', '/c/sub/gw.yml', '/c/x.json']) t.notOk(isIgnoredPath(p), p);
});

for (const poll of [false, true]) {
  t.test(`${poll ? 'polling' : 'native'}: edit, new file, rename-save, delete → one debounced call each; noise ignored`, async (t) => {
    const dir = tmp();
    writeFileSync(join(dir, 'gw.yaml'), 'a: 1\n');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'routes.yaml'), 'b: 1\n');
    let calls = 0;
    const w = new ConfigWatcher(dir, () => calls++, { poll, pollIntervalMs: 100, debounceMs: 150 });
    await w.start();
    t.teardown(() => w.close());

    writeFileSync(join(dir, 'gw.yaml'), 'a: 2\n');
    const ms = await until(() => calls === 1, 2000, 'edit');
    t.ok(ms < 2000, `edit seen in ${ms} ms`);

    writeFileSync(join(dir, 'sub', 'routes.yaml'), 'b: 2\n');
    writeFileSync(join(dir, 'gw.yaml'), 'a: 3\n');
    await until(() => calls === 2, 2000, 'burst');
    await sleep(400);
    t.equal(calls, 2, 'a burst of writes is one call');

    // editor rename-save: write a temp file, rename it over the original
    writeFileSync(join(dir, '.gw.yaml.tmp'), 'a: 4\n');
    renameSync(join(dir, '.gw.yaml.tmp'), join(dir, 'gw.yaml'));
    await until(() => calls === 3, 2000, 'rename-save');

    writeFileSync(join(dir, 'new.yaml'), 'c: 1\n');
    await until(() => calls === 4, 2000, 'new file');

    rmSync(join(dir, 'new.yaml'));
    await until(() => calls === 5, 2000, 'delete');

    // noise: dotfiles, swap files, backups
    writeFileSync(join(dir, '.gw.yaml.swp'), 'x');
    writeFileSync(join(dir, 'gw.yaml~'), 'x');
    writeFileSync(join(dir, '.hidden'), 'x');
    await sleep(poll ? 700 : 500);
    t.equal(calls, 5, 'ignored files do not trigger');
  });
}

/**
 * The kubelet's atomic writer: files are symlinks `name -> ..data/name`, `..data -> ..<timestamp>`;
 * an update writes a new `..<timestamp>` dir, points `..data_tmp` at it, renames `..data_tmp` over
 * `..data`, and removes the old dir.
 */
function k8sVolume(dir: string, files: Record<string, string>, stamp: string): void {
  const ts = join(dir, `..${stamp}`);
  mkdirSync(ts);
  for (const [n, c] of Object.entries(files)) writeFileSync(join(ts, n), c);
  symlinkSync(`..${stamp}`, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
}

for (const poll of [false, true]) {
  t.test(`${poll ? 'polling' : 'native'}: Kubernetes ..data symlink swap triggers a reload`, async (t) => {
    const dir = tmp();
    k8sVolume(dir, { 'gateway.yaml': 'v: 1\n' }, '2026_11_26_12_00_00.000000001');
    symlinkSync('..data/gateway.yaml', join(dir, 'gateway.yaml'));
    let calls = 0;
    const w = new ConfigWatcher(dir, () => calls++, { poll, pollIntervalMs: 100, debounceMs: 150 });
    await w.start();
    t.teardown(() => w.close());
    await sleep(100);

    k8sVolume(dir, { 'gateway.yaml': 'v: 2\n' }, '2026_11_26_12_01_00.000000002');
    rmSync(join(dir, '..2026_11_26_12_00_00.000000001'), { recursive: true });
    const ms = await until(() => calls >= 1, 2000, 'symlink swap');
    t.ok(ms < 2000, `swap seen in ${ms} ms`);

    const before = calls;
    k8sVolume(dir, { 'gateway.yaml': 'v: 3\n' }, '2026_11_26_12_02_00.000000003');
    rmSync(join(dir, '..2026_11_26_12_01_00.000000002'), { recursive: true });
    await until(() => calls > before, 2000, 'second swap');
    t.pass('a second swap is seen too');
  });
}
