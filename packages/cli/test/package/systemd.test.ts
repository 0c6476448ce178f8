/**
 * examples/systemd/gatehouse.service: the keys the deployment relies on (static), and, where
 * systemd-analyze exists, `verify` plus `security --offline` (no unknown or unparsable keys, exposure
 * score "OK"). The binary path is swapped for one that exists here, since verify checks it.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../ops/e2e-helpers.js';

const UNIT = join(ROOT, 'examples/systemd/gatehouse.service');
const text = readFileSync(UNIT, 'utf8');

/** section → key → values (a key may repeat, e.g. ExecReload). */
function parseUnit(s: string): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  let section = '';
  for (const raw of s.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      section = sec[1]!;
      out.set(section, out.get(section) ?? new Map());
      continue;
    }
    const eq = line.indexOf('=');
    const k = line.slice(0, eq).trim();
    const v = line.slice(eq + 1).trim();
    const m = out.get(section)!;
    m.set(k, [...(m.get(k) ?? []), v]);
  }
  return out;
}

t.test('the unit has the keys the deployment relies on', async (t) => {
  const unit = parseUnit(text);
  const svc = unit.get('Service')!;
  const one = (k: string) => svc.get(k)?.[0];
  t.equal(one('DynamicUser'), 'yes');
  t.equal(one('AmbientCapabilities'), 'CAP_NET_BIND_SERVICE');
  t.equal(one('CapabilityBoundingSet'), 'CAP_NET_BIND_SERVICE');
  t.equal(one('ExecStartPre'), '/usr/local/bin/gatehouse validate /etc/gatehouse');
  t.equal(one('ExecStart'), '/usr/local/bin/gatehouse run /etc/gatehouse --admin 127.0.0.1:9901');
  t.same(svc.get('ExecReload'), ['/usr/local/bin/gatehouse validate /etc/gatehouse', '/bin/kill -HUP $MAINPID'], 'reload validates, then SIGHUP');
  t.equal(one('Restart'), 'on-failure');
  for (const [k, v] of [['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['ProtectHome', 'yes'], ['PrivateTmp', 'yes'], ['PrivateDevices', 'yes'], ['RestrictSUIDSGID', 'yes']])
    t.equal(one(k), v, `${k}=${v}`);
  t.notOk(svc.has('MemoryDenyWriteExecute'), 'no MemoryDenyWriteExecute (V8 JIT)');
  const stop = Number(/^(\d+)s$/.exec(one('TimeoutStopSec') ?? '')?.[1]);
  t.ok(stop > 15, `TimeoutStopSec (${stop}s) outlasts the default --drain-timeout 15s`);
  t.equal(unit.get('Install')?.get('WantedBy')?.[0], 'multi-user.target');
});

const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
t.test('systemd-analyze verify and security', { skip: analyze.status !== 0 && 'systemd-analyze is not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-systemd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const f = join(dir, 'gatehouse.service');
  writeFileSync(f, text.replaceAll('/usr/local/bin/gatehouse', '/bin/true'));
  const v = spawnSync('systemd-analyze', ['verify', f], { encoding: 'utf8', timeout: 30_000 });
  t.equal(v.status, 0, `verify exits 0: ${v.stderr}`);
  t.equal(v.stderr.trim(), '', 'no warnings');
  const s = spawnSync('systemd-analyze', ['security', '--offline=yes', f], { encoding: 'utf8', timeout: 30_000 });
  t.notMatch(s.stderr, /Unknown key|Failed to parse|Invalid/, `no unknown or invalid keys: ${s.stderr}`);
  const score = Number(/Overall exposure level for gatehouse\.service: ([\d.]+)/.exec(s.stdout)?.[1]);
  t.ok(score <= 2.5, `exposure level ${score} (OK is below 3)`);
});
