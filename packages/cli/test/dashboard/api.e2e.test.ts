/**
 * The dashboard API on a real `gatehouse run` (no browser): POST /api/explain answers exactly what
 * `gatehouse explain DIR METHOD URL -o json` prints, and /api/stats counts the requests served.
 * About 3-5 s.
 */
import t from 'tap';
import * as http from 'node:http';
import { gatehouse, quickstartEnv, waitReady, withTimeout } from '../ops/e2e-helpers.js';

function get(port: number, host: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const r = http.get({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    r.on('error', reject);
    r.setTimeout(3000, () => r.destroy(new Error('timeout')));
  });
}

t.test('dashboard API on a running gateway', async (t) => {
  const env = await quickstartEnv();
  t.teardown(() => env.close());
  const p = gatehouse(['run', env.dir, '--admin', `127.0.0.1:${env.admin}`, '--access-log', 'off', '--no-watch', '--log-level', 'warn']);
  t.teardown(() => void p.child.kill('SIGKILL'));
  await waitReady(env.admin, p);
  const admin = `http://127.0.0.1:${env.admin}`;

  const cases: [string, string, [string, string][]][] = [
    ['GET', `http://www.example.com:${env.port}/old-blog/x`, []],
    ['POST', `http://api.example.com:${env.port}/v1/users?a=1`, [['x-test', 'yes']]],
    ['GET', `http://nope.example.com:${env.port}/`, []],
    ['GET', `http://www.example.com:1/`, []],
  ];
  for (const [method, url, headers] of cases) {
    const r = await fetch(`${admin}/api/explain`, { method: 'POST', body: JSON.stringify({ method, url, headers: Object.fromEntries(headers) }) });
    t.equal(r.status, 200, `${method} ${url}`);
    const api = await r.json();
    const cli = gatehouse(['explain', env.dir, method, url, ...headers.flatMap(([k, v]) => ['-H', `${k}: ${v}`]), '-o', 'json']);
    t.equal((await withTimeout(cli.exited, 10_000, 'gatehouse explain')).code, 0);
    t.same(api, JSON.parse(cli.stdout()), `same answer as gatehouse explain for ${method} ${url}`);
  }

  for (let i = 0; i < 12; i++) t.equal(await get(env.port, 'www.example.com', '/'), 200);
  await get(env.port, 'nope.example.com', '/');
  type Row = { id: string; total: number; spark?: number[] };
  let stats: { routes: Row[]; listeners: Row[]; backends: Row[] } | null = null;
  const t0 = Date.now();
  while (Date.now() - t0 < 4000) {
    stats = (await (await fetch(`${admin}/api/stats`)).json()) as typeof stats;
    if (stats!.routes.find((r) => r.id === 'default/www')?.spark?.some((n: number) => n > 0)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  t.equal(stats!.routes.find((r) => r.id === 'default/www')?.total, 12);
  t.equal(stats!.listeners.find((l) => l.id === 'default/demo/http')?.total, 13, 'the 404 counts for the listener');
  const v1 = stats!.backends.find((b) => b.id === 'Service default/web-v1:80')?.total ?? 0;
  const v2 = stats!.backends.find((b) => b.id === 'Service default/web-v2:80')?.total ?? 0;
  t.same([v1, v2], [9, 3], '3:1 split seen per backend');
  t.equal((await fetch(`${admin}/healthz`)).status, 200, 'contract endpoints still there');
});
