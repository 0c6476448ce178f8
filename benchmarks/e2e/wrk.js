/**
 * Running wrk and reading its plain-text report (no Lua script: the numbers come from the summary wrk
 * prints with `--latency`).
 */
import { spawn } from 'node:child_process';
import { wrapCommand } from './procs.js';

const TIME_UNITS = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const COUNT_UNITS = { '': 1, k: 1e3, M: 1e6, G: 1e9 };
const BYTE_UNITS = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

/** `202.77us` → 0.20277 (milliseconds). */
export function parseTimeMs(text) {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`wrk: cannot read a time from "${text}"`);
  return Number(m[1]) * TIME_UNITS[m[2]];
}

/** `84.23MB` → bytes. */
export function parseBytes(text) {
  const m = /^([\d.]+)(B|KB|MB|GB|TB)$/.exec(text.trim());
  if (!m) throw new Error(`wrk: cannot read a size from "${text}"`);
  return Number(m[1]) * BYTE_UNITS[m[2]];
}

/** `178.50k` → 178500. */
export function parseCount(text) {
  const m = /^([\d.]+)([kMG]?)$/.exec(text.trim());
  if (!m) throw new Error(`wrk: cannot read a count from "${text}"`);
  return Number(m[1]) * COUNT_UNITS[m[2]];
}

/**
 * Parses the report wrk prints (wrk 4.x, with `--latency`). Throws when a line every run prints is
 * missing, so a changed format fails loudly rather than producing zeros.
 */
export function parseWrkOutput(text) {
  const need = (re, what) => {
    const m = re.exec(text);
    if (!m) throw new Error(`wrk output: no ${what} line in:\n${text}`);
    return m;
  };
  const lat = need(/^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)%\s*$/m, 'Latency');
  const rs = need(/^\s*Req\/Sec\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)%\s*$/m, 'Req/Sec');
  const total = need(/^\s*(\d+) requests in (\S+), (\S+) read\s*$/m, 'requests');
  const rps = need(/^Requests\/sec:\s+([\d.]+)\s*$/m, 'Requests/sec');
  const tps = need(/^Transfer\/sec:\s+(\S+)\s*$/m, 'Transfer/sec');

  const percentiles = {};
  const dist = /Latency Distribution\n((?:\s+[\d.]+%\s+\S+\n?)+)/.exec(text);
  if (dist) {
    for (const line of dist[1].split('\n')) {
      const m = /^\s*([\d.]+)%\s+(\S+)\s*$/.exec(line);
      if (m) percentiles[`p${m[1]}`] = parseTimeMs(m[2]);
    }
  }
  const non2xx = /^\s*Non-2xx or 3xx responses:\s+(\d+)\s*$/m.exec(text);
  const sock = /^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)\s*$/m.exec(text);
  const header = /^\s*(\d+) threads and (\d+) connections\s*$/m.exec(text);

  return {
    threads: header ? Number(header[1]) : undefined,
    connections: header ? Number(header[2]) : undefined,
    requests: Number(total[1]),
    durationMs: parseTimeMs(total[2]),
    bytesRead: parseBytes(total[3]),
    requestsPerSec: Number(rps[1]),
    transferPerSecBytes: parseBytes(tps[1]),
    latencyMs: {
      avg: parseTimeMs(lat[1]),
      stdev: parseTimeMs(lat[2]),
      max: parseTimeMs(lat[3]),
      ...percentiles,
    },
    threadReqPerSec: { avg: parseCount(rs[1]), stdev: parseCount(rs[2]), max: parseCount(rs[3]) },
    non2xx3xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: sock
      ? { connect: Number(sock[1]), read: Number(sock[2]), write: Number(sock[3]), timeout: Number(sock[4]) }
      : { connect: 0, read: 0, write: 0, timeout: 0 },
  };
}

/**
 * Runs wrk once (bounded: killed `durationS + 20` seconds after start) and returns its parsed report.
 * `cpus` is a taskset list such as "1"; null runs unpinned.
 */
export function runWrk({ url, durationS, threads = 1, connections = 50, headers = {}, cpus = null, timeoutS = 5 }) {
  const args = [`-t${threads}`, `-c${connections}`, `-d${durationS}s`, '--latency', `--timeout`, `${timeoutS}s`];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  args.push(url);
  const [cmd, argv] = wrapCommand('wrk', args, cpus);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), (durationS + 20) * 1000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`wrk exited ${code ?? signal}: ${err || out}`));
      try {
        resolve({ raw: out, ...parseWrkOutput(out) });
      } catch (e) {
        reject(e);
      }
    });
  });
}
