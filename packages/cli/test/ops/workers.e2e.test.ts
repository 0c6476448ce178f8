import t from 'tap';
import * as http from 'node:http';
import { appendFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { gatehouse, quickstartEnv, sleep, waitReady, withTimeout } from './e2e-helpers.js';

function get(port: number, host: string, path = '/'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
  });
}

function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

t.test('--workers 2: shared listeners, aggregated metrics, reload across workers, drain', async (t) => {
  const env = await quickstartEnv();
  t.teardown(env.close);
  const p = gatehouse(['run', env.dir, '--workers', '2', '--admin', `127.0.0.1:${env.admin}`, '--access-log', 'json', '--log-format', 'json']);
  t.teardown(() => void p.child.kill('SIGKILL'));
  await waitReady(env.admin, p, 15_000);

  for (let i = 0; i < 20; i++) t.equal(await get(env.port, 'www.example.com'), 200, `request ${i}`);
  const m = await (await fetch(`http://127.0.0.1:${env.admin}/metrics`)).text();
  t.equal(sample(m, 'gatehouse_listener_requests_total{gateway="default/demo",listener="default/demo/http",method="GET",code="200"}'), 20, 'requests summed over workers');
  t.equal(sample(m, 'gatehouse_build_info{version="0.1.0",node="' + process.version + '"}'), 1, 'build_info not summed');
  t.equal(sample(m, 'gatehouse_config_last_reload_successful'), 1);
  t.equal(sample(m, 'gatehouse_config_reloads_total{result="success"}'), 1);
  for (const l of m.split('\n')) if (l && !l.startsWith('#')) t.ok(/^[a-zA-Z_:][\w:]*(\{.*\})? \S+$/.test(l), `sample line: ${l}`);

  appendFileSync(
    join(env.dir, 'routes.yaml'),
    '---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: added\n  namespace: default\nspec:\n  parentRefs: [{name: demo}]\n  hostnames: [new.example.com]\n  rules:\n    - backendRefs: [{name: api, port: 80}]\n',
  );
  const t0 = Date.now();
  while (Date.now() - t0 < 3000 && (await get(env.port, 'new.example.com')) !== 200) await sleep(20);
  t.ok(Date.now() - t0 < 2000, `applied in ${Date.now() - t0} ms`);
  let all = true;
  for (let i = 0; i < 10; i++) all &&= (await get(env.port, 'new.example.com')) === 200;
  t.ok(all, 'every worker serves the new route');

  // a worker that dies is replaced and gets the serving table (the new route included)
  const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(p.child.pid)], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
  t.equal(children.length, 2, 'two worker processes');
  process.kill(children[0], 'SIGKILL');
  const k0 = Date.now();
  let replaced = false;
  while (Date.now() - k0 < 8000) {
    const now = execFileSync('ps', ['-o', 'pid=', '--ppid', String(p.child.pid)], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
    const rz = await fetch(`http://127.0.0.1:${env.admin}/readyz`);
    if (now.length === 2 && !now.includes(children[0]) && rz.status === 200) {
      replaced = true;
      break;
    }
    await sleep(50);
  }
  t.ok(replaced, `worker replaced in ${Date.now() - k0} ms`);
  let after = true;
  for (let i = 0; i < 10; i++) after &&= (await get(env.port, 'new.example.com')) === 200;
  t.ok(after, 'the replacement serves the current table');
  t.match(p.stderr(), /"msg":"worker restarted"/, 'restarted before readyz turned 200 again');

  const slow = get(env.port, 'www.example.com', '/?delay=1s');
  await sleep(300);
  p.child.kill('SIGTERM');
  t.equal(await withTimeout(slow, 8000, 'slow request'), 200, 'in-flight request on a worker finished');
  t.same(await withTimeout(p.exited, 10_000, 'exit'), { code: 0, signal: null });
  await t.rejects(get(env.port, 'www.example.com'), 'workers are gone');
  const access = p.stdout().trim().split('\n');
  t.ok(access.length >= 41, `${access.length} access-log lines from the workers`);
  for (const l of access) JSON.parse(l);
  t.pass('every access-log line is whole JSON');
});
