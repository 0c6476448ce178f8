// Issue 7: "memory stays bounded under 10,000 idle connections". Runs the idle-rss measurement (a real
// `gatehouse run` process, N keep-alive connections each served once and left idle) and checks that
// every connection stayed open and the gateway's RSS grew by a bounded amount per connection.
// ~15 s. N is 10,000 when the open-files limit allows it (the gateway and this test each hold N sockets).
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const here = path.dirname(fileURLToPath(import.meta.url));
let limit = 1024;
try {
  limit = Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim()) || 1024;
} catch {
  /* keep the small default */
}
const N = Math.min(10_000, Math.floor((limit - 500) / 1000) * 1000);

t.test(`${N} idle keep-alive connections: all held, RSS bounded per connection`, { timeout: 90_000, skip: N < 1000 ? `open-files limit ${limit} is too low` : false }, async (t) => {
  const child = spawn(process.execPath, [path.join(here, 'idle-rss.mjs'), String(N)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  t.equal(code, 0, 'the measurement ran to the end');
  const line = out.trim().split('\n').pop() ?? '';
  const m = JSON.parse(line) as { connections: number; rssBeforeMiB: number; rssAfterMiB: number; kibPerConnection: number };
  t.equal(m.connections, N, 'every connection was accepted and answered');
  // 8 KiB per connection measured on 2026-11-27 (docs/reliability.md §6); 32 KiB would mean a leak per
  // connection (a buffer or a parser kept per idle socket), not noise.
  t.ok(m.kibPerConnection < 32, `${m.kibPerConnection} KiB per idle connection (RSS ${m.rssBeforeMiB} → ${m.rssAfterMiB} MiB)`);
});
