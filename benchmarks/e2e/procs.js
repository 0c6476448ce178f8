/**
 * Child processes for the end-to-end bench: every process the harness starts is registered here and
 * killed (its whole process group) when the harness exits, fails or is interrupted. Also: per-process
 * CPU time from /proc, free ports, a small HTTP client, bounded polling.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

const live = new Set();

/** `cmd args` pinned with taskset when `cpus` is set (taskset execs, so the pid is cmd's). */
export function wrapCommand(cmd, args, cpus) {
  return cpus == null ? [cmd, args] : ['taskset', ['-c', cpus, cmd, ...args]];
}
const tempDirs = new Set();
let keepTemp = false;

function killGroup(proc, signal) {
  try {
    process.kill(-proc.pid, signal);
  } catch {
    try {
      process.kill(proc.pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/** Kills everything still running (synchronous: safe in an 'exit' handler) and removes temp dirs. */
export function killAllSync() {
  for (const p of live) killGroup(p, 'SIGKILL');
  live.clear();
  if (!keepTemp) for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

/** Installs exit/signal/error handlers once. */
export function installCleanup({ keep = false } = {}) {
  keepTemp = keep;
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping everything\n`);
      killAllSync();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
  process.on('uncaughtException', (e) => {
    process.stderr.write(`bench: ${e?.stack ?? e}\n`);
    killAllSync();
    process.exit(1);
  });
  process.on('unhandledRejection', (e) => {
    process.stderr.write(`bench: ${e?.stack ?? e}\n`);
    killAllSync();
    process.exit(1);
  });
}

export function makeTempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', prefix));
  // nginx workers drop to `nobody`: they must be able to read what the harness writes here.
  fs.chmodSync(dir, 0o755);
  tempDirs.add(dir);
  return dir;
}

/**
 * Starts `cmd args` in its own process group, pinned with taskset when `cpus` is set, stdout and
 * stderr appended to `logFile`. Returns { name, pid, exited, log() }.
 */
export function startProcess(name, cmd, args, { cpus = null, env = {}, cwd, logFile }) {
  const fd = fs.openSync(logFile, 'a');
  const [file, argv] = wrapCommand(cmd, args, cpus);
  const child = spawn(file, argv, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  fs.closeSync(fd);
  const proc = {
    name,
    pid: child.pid,
    child,
    exitCode: undefined,
    log: () => {
      try {
        return fs.readFileSync(logFile, 'utf8').slice(-4000);
      } catch {
        return '';
      }
    },
  };
  proc.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      proc.exitCode = code ?? signal;
      live.delete(proc);
      resolve(proc.exitCode);
    });
    child.on('error', (e) => {
      proc.exitCode = String(e.message);
      live.delete(proc);
      resolve(proc.exitCode);
    });
  });
  live.add(proc);
  return proc;
}

/** SIGTERM to the group, then SIGKILL after `graceMs`. Resolves when the process has exited. */
export async function stopProcess(proc, { graceMs = 3000, signal = 'SIGTERM' } = {}) {
  if (!proc || proc.exitCode !== undefined) return;
  killGroup(proc, signal);
  const t = setTimeout(() => killGroup(proc, 'SIGKILL'), graceMs);
  await proc.exited;
  clearTimeout(t);
  // Workers of a master that exited on SIGTERM may linger a moment: make sure the group is gone.
  killGroup(proc, 'SIGKILL');
}

// ------------------------------------------------------------------------------------------ CPU time

const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

function readStat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // rest[0] = state (field 3), rest[1] = ppid (4), rest[11] = utime (14), rest[12] = stime (15)
    return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return null;
  }
}

/**
 * utime+stime in microseconds of `pid` and every live descendant (nginx/cluster workers; taskset
 * execs, so the pid is the program itself). All threads of a process are included.
 */
export function treeCpuMicros(pid) {
  const stats = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(name);
    if (st) stats.set(Number(name), st);
  }
  const children = new Map();
  for (const [p, st] of stats) {
    if (!children.has(st.ppid)) children.set(st.ppid, []);
    children.get(st.ppid).push(p);
  }
  let ticks = 0;
  const todo = [pid];
  const seen = new Set();
  while (todo.length) {
    const p = todo.pop();
    if (seen.has(p)) continue;
    seen.add(p);
    const st = stats.get(p);
    if (st) ticks += st.ticks;
    for (const c of children.get(p) ?? []) todo.push(c);
  }
  return (ticks * 1e6) / CLK_TCK;
}

export const clockTicksPerSecond = CLK_TCK;

/** Per-core { busyMicros, totalMicros } from /proc/stat (busy = everything but idle and iowait). */
export function coreTimes() {
  const out = [];
  for (const line of fs.readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const v = m[2].trim().split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal (guest* are already inside user/nice)
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = v[3] + v[4];
    out[Number(m[1])] = { busyMicros: ((total - idle) * 1e6) / CLK_TCK, totalMicros: (total * 1e6) / CLK_TCK, stealMicros: ((v[7] ?? 0) * 1e6) / CLK_TCK };
  }
  return out;
}

// ------------------------------------------------------------------------------------------ network

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** One GET on a fresh connection; resolves { status, length, head } or rejects on error/timeout. */
export function httpGet({ port, path: p = '/', headers = {}, timeoutMs = 2000 }) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: p, method: 'GET', headers, agent: false, timeout: timeoutMs },
      (res) => {
        let length = 0;
        let head = '';
        res.on('data', (d) => {
          if (head.length < 32) head += d.toString('latin1', 0, Math.min(d.length, 32));
          length += d.length;
        });
        res.on('end', () => resolve({ status: res.statusCode, length, head: head.slice(0, 32) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits (at most `maxMs`) until, over a `sampleMs` window, processes other than `ownPids` trees used
 * less than `maxPct` of core `core`. Returns the last foreign percentage seen.
 */
export async function waitForQuietCore({ core = 0, ownPids = [], maxPct = 25, maxMs = 10_000, sampleMs = 500 }) {
  const deadline = Date.now() + maxMs;
  let pct = 0;
  for (let i = 0; i < 100; i++) {
    const c0 = coreTimes()[core];
    const own0 = ownPids.reduce((a, p) => a + treeCpuMicros(p), 0);
    await sleep(sampleMs);
    const c1 = coreTimes()[core];
    const own1 = ownPids.reduce((a, p) => a + treeCpuMicros(p), 0);
    if (!c0 || !c1) return 0;
    pct = Math.max(0, (100 * (c1.busyMicros - c0.busyMicros - (own1 - own0))) / Math.max(1, c1.totalMicros - c0.totalMicros));
    if (pct < maxPct || Date.now() >= deadline) break;
  }
  return Math.round(pct * 10) / 10;
}

/** Polls `fn` (async, truthy = done) every 50 ms until `timeoutMs`; throws with `what` on timeout. */
export async function waitFor(fn, { timeoutMs = 10_000, what = 'condition', proc = null } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (let i = 0; Date.now() < deadline && i < 10_000; i++) {
    if (proc && proc.exitCode !== undefined) {
      throw new Error(`${proc.name} exited (${proc.exitCode}) while waiting for ${what}:\n${proc.log()}`);
    }
    try {
      if (await fn()) return;
    } catch (e) {
      last = e;
    }
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (${last.message})` : ''}${proc ? `:\n${proc.log()}` : ''}`);
}

export { sleep };
