import t from 'tap';
import * as http from 'node:http';
import { createServer } from 'node:net';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatehouse, quickstartEnv, sleep, waitReady, withTimeout } from './e2e-helpers.js';

function request(port: number, host: string, path: string, agent?: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers: { host }, agent: agent ?? false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('request timeout')));
  });
}

t.test('SIGTERM during a slow request: it finishes with 200, readyz 503 meanwhile, exit 0', async (t) => {
  const env = await quickstartEnv();
  t.teardown(env.close);
  const p = gatehouse(['run', env.dir, '--admin', `127.0.0.1:${env.admin}`, '--access-log', 'json', '--log-format', 'json', '--drain-timeout', '10s']);
  t.teardown(() => void p.child.kill('SIGKILL'));
  await waitReady(env.admin, p);
  const slow = request(env.port, 'www.example.com', '/?delay=1500ms');
  await sleep(300);
  p.child.kill('SIGTERM');
  await sleep(200);
  const rz = await fetch(`http://127.0.0.1:${env.admin}/readyz`);
  t.equal(rz.status, 503, 'readyz 503 while draining');
  const r = await withTimeout(slow, 8000, 'slow request');
  t.equal(r.status, 200, 'in-flight request completed');
  await t.rejects(request(env.port, 'www.example.com', '/'), 'no longer accepting');
  const ex = await withTimeout(p.exited, 8000, 'exit');
  t.same(ex, { code: 0, signal: null }, 'exit 0');
  const access = p.stdout().trim().split('\n').map((l) => JSON.parse(l));
  t.ok(access.some((a) => String(a.path).startsWith('/') && a.status === 200 && a.duration_ms >= 1400), `the slow request is in the access log: ${p.stdout()}`);
  t.match(p.stderr(), /"msg":"draining"/);
});

t.test('a second signal exits at once', async (t) => {
  const env = await quickstartEnv();
  t.teardown(env.close);
  const p = gatehouse(['run', env.dir, '--admin', `127.0.0.1:${env.admin}`, '--access-log', 'off', '--drain-timeout', '30s']);
  t.teardown(() => void p.child.kill('SIGKILL'));
  await waitReady(env.admin, p);
  const slow = request(env.port, 'www.example.com', '/?delay=20s').catch((e: Error) => e);
  await sleep(200);
  p.child.kill('SIGTERM');
  await sleep(300);
  t.equal(p.child.exitCode, null, 'still draining after the first');
  const t0 = Date.now();
  p.child.kill('SIGINT');
  const ex = await withTimeout(p.exited, 3000, 'exit after second signal');
  t.ok(Date.now() - t0 < 2000, 'promptly');
  t.equal(ex.code, 1);
  await slow;
});

t.test('startup with an invalid config: exit 1 with the full report', async (t) => {
  const env = await quickstartEnv();
  t.teardown(env.close);
  const routes = join(env.dir, 'routes.yaml');
  writeFileSync(routes, readFileSync(routes, 'utf8').replace('hostnames:\n    - www.example.com', 'hostnames:\n    - www.example.com\n  colour: blue').replace('statusCode: 301', 'statusCode: 399'));
  const p = gatehouse(['run', env.dir, '--admin', `127.0.0.1:${env.admin}`]);
  const ex = await withTimeout(p.exited, 8000, 'exit');
  t.equal(ex.code, 1);
  const lines = p.stderr().trim().split('\n');
  t.ok(lines.length >= 3, p.stderr());
  t.match(lines[0], /^config\/routes\.yaml:\d+:\d+ HTTPRoute default\/www [A-Z_]+: /);
  t.match(p.stderr(), /colour/);
  t.match(p.stderr(), /399/);
  t.match(lines[lines.length - 1], /config: 2 errors; not starting$/);
});

t.test('a listener that cannot bind: exit 1 naming the address and the listener', async (t) => {
  const env = await quickstartEnv();
  t.teardown(env.close);
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(env.port, '127.0.0.1', () => r()));
  t.teardown(() => blocker.close());
  const p = gatehouse(['run', env.dir, '--admin', `127.0.0.1:${env.admin}`]);
  const ex = await withTimeout(p.exited, 8000, 'exit');
  t.equal(ex.code, 1);
  t.match(p.stderr(), new RegExp(`cannot listen on 127\\.0\\.0\\.1:${env.port}/tcp \\(listener default/demo/http\\): .*(EADDRINUSE|address already in use)`));
});

t.test('healthcheck: 0 when ready, 1 when not', async (t) => {
  const env = await quickstartEnv();
  t.teardown(env.close);
  const down = gatehouse(['healthcheck', '--admin', `127.0.0.1:${env.admin}`]);
  t.equal((await withTimeout(down.exited, 5000, 'healthcheck')).code, 1);
  t.match(down.stderr(), /not ready: .*ECONNREFUSED/);
  const p = gatehouse(['run', env.dir, '--admin', `127.0.0.1:${env.admin}`, '--access-log', 'off']);
  t.teardown(() => void p.child.kill('SIGKILL'));
  await waitReady(env.admin, p);
  const up = gatehouse(['healthcheck', '--admin', `127.0.0.1:${env.admin}`]);
  t.equal((await withTimeout(up.exited, 5000, 'healthcheck')).code, 0);
  const st = gatehouse(['status', '--admin', `127.0.0.1:${env.admin}`]);
  t.equal((await withTimeout(st.exited, 5000, 'status --admin')).code, 0, st.stderr());
  t.match(st.stdout(), /Gateway\s+default\/demo/);
  t.match(st.stdout(), /last reload: ok at .* \(startup\): configuration applied/);
  const sj = gatehouse(['status', '--admin', `127.0.0.1:${env.admin}`, '-o', 'json']);
  await withTimeout(sj.exited, 5000, 'status --admin -o json');
  t.equal(JSON.parse(sj.stdout()).lastReload.result, 'ok');
  p.child.kill('SIGTERM');
  t.equal((await withTimeout(p.exited, 8000, 'exit')).code, 0);
});

t.test('usage errors exit 2', async (t) => {
  const p = gatehouse(['run', '--log-format', 'xml']);
  t.equal((await withTimeout(p.exited, 5000, 'exit')).code, 2);
  t.match(p.stderr(), /--log-format must be one of json, pretty/);
});

t.test('stdout and stderr closed by their reader (`gatehouse run | head`): still serves, SIGINT exits 0', async (t) => {
  const env = await quickstartEnv();
  t.teardown(env.close);
  const p = gatehouse(['run', env.dir, '--admin', `127.0.0.1:${env.admin}`, '--access-log', 'json', '--log-level', 'debug', '--drain-timeout', '2s']);
  t.teardown(() => void p.child.kill('SIGKILL'));
  await waitReady(env.admin, p);
  // the reader goes away: every later write gets EPIPE
  p.child.stdout!.destroy();
  p.child.stderr!.destroy();
  for (let i = 0; i < 20; i++) {
    const r = await request(env.port, 'www.example.com', '/');
    t.equal(r.status, 200, `request ${i} served with the log pipes closed`);
  }
  await sleep(300);
  t.equal(p.child.exitCode, null, 'still running');
  p.child.kill('SIGINT');
  const ex = await withTimeout(p.exited, 6000, 'exit after SIGINT');
  t.same(ex, { code: 0, signal: null }, 'drained and exited 0');
});

t.test('access log to a regular file (stdout redirected): every line lands in the file, whole, in order', async (t) => {
  const env = await quickstartEnv();
  t.teardown(env.close);
  const dir = mkdtempSync(join(tmpdir(), 'gh-alfile-'));
  const file = join(dir, 'access.log');
  const fd = openSync(file, 'a');
  const p = gatehouse(['run', env.dir, '--admin', `127.0.0.1:${env.admin}`, '--access-log', 'json', '--no-watch', '--drain-timeout', '2s'], fd);
  closeSync(fd);
  t.teardown(() => void p.child.kill('SIGKILL'));
  await waitReady(env.admin, p);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const n = 300;
  const answers = await Promise.all(Array.from({ length: n }, (_, i) => request(env.port, 'www.example.com', `/file-log/${i}`, agent)));
  agent.destroy();
  t.ok(answers.every((a) => a.status === 200), 'all answered');
  p.child.kill('SIGTERM');
  t.same(await withTimeout(p.exited, 8000, 'exit'), { code: 0, signal: null }, 'exit 0');
  const lines = readFileSync(file, 'utf8').split('\n');
  t.equal(lines.pop(), '', 'the file ends with a newline');
  const paths = lines.map((l) => JSON.parse(l).path as string).filter((path) => path.startsWith('/file-log/'));
  t.equal(paths.length, n, `${n} request lines in the file`);
  t.same(new Set(paths).size, n, 'each request once');
});
