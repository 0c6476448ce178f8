/** Helpers for the end-to-end tests that spawn the real CLI (`node packages/cli/dist/bin.js`). */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startEchoServer, type EchoServer } from '@gatehouse/proxy';

export const ROOT = resolve(import.meta.dirname, '../../../..');
export const BIN = join(ROOT, 'packages/cli/dist/bin.js');
export const QUICKSTART = join(ROOT, 'fixtures/quickstart');

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return p;
}

/** `n` distinct free ports (all held open until every one is picked: separate freePort() calls can repeat). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = createServer();
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
      servers.push(s);
    }
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    for (const s of servers) await new Promise((r) => s.close(r));
  }
}

export interface Env {
  dir: string;
  port: number;
  admin: number;
  echoes: EchoServer[];
  close(): Promise<void>;
}

/** A copy of the quickstart on free ports, with its three echo backends running. */
export async function quickstartEnv(): Promise<Env> {
  const dir = join(mkdtempSync(join(tmpdir(), 'gh-e2e-')), 'config');
  cpSync(QUICKSTART, dir, { recursive: true });
  const echoes: EchoServer[] = [];
  for (const name of ['web-v1', 'web-v2', 'api']) echoes.push(await startEchoServer({ host: '127.0.0.1', port: 0, name }));
  const [port, admin] = await freePorts(2);
  const gw = join(dir, 'gateway.yaml');
  writeFileSync(gw, readFileSync(gw, 'utf8').replace('port: 8080', `port: ${port}`));
  const be = join(dir, 'backends.yaml');
  let text = readFileSync(be, 'utf8');
  [18081, 18082, 18083].forEach((p, i) => (text = text.replaceAll(String(p), String(echoes[i].port))));
  writeFileSync(be, text);
  return { dir, port, admin, echoes, close: async () => void (await Promise.all(echoes.map((e) => e.close()))) };
}

export interface Proc {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `gatehouse ARGS` as a child process; `stdoutFd`: its stdout goes to that file descriptor (stdout() is then ''). */
export function gatehouse(args: string[], stdoutFd?: number): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', stdoutFd ?? 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Polls /readyz until 200 (bounded). */
export async function waitReady(admin: number, proc: Proc, timeoutMs = 8000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (proc.child.exitCode !== null) throw new Error(`gatehouse exited ${proc.child.exitCode}: ${proc.stderr()}`);
    try {
      const r = await fetch(`http://127.0.0.1:${admin}/readyz`);
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`not ready after ${timeoutMs} ms: ${proc.stderr()}`);
}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const t = new Promise<never>((_r, rej) => (timer = setTimeout(() => rej(new Error(`${what}: timed out after ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer!);
  }
}
