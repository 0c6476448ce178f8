/**
 * The dashboard's live numbers with `--workers 2` (docs/dashboard.md): the workers serve the requests and
 * report their LiveStats over IPC once a second; the primary's /api/stats adds them up.
 */
import t from 'tap';
import http from 'node:http';
import { gatehouse, quickstartEnv, sleep, waitReady, withTimeout } from './e2e-helpers.js';

interface Series {
  id: string;
  total: number;
  rps: number;
  minute: { requests: number; errors5xx: number };
  p50: number | null;
}
interface Stats {
  available: boolean;
  listeners: Series[];
  routes: Series[];
  backends: Series[];
}

function get(port: number, host: string, path = '/'): Promise<number> {
  return new Promise((resolve, reject) => {
    // a new connection each time, so both workers get some (the primary hands connections round-robin)
    const req = http.get({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
  });
}

t.test('--workers 2: /api/stats reports the requests the workers served', async (t) => {
  const env = await quickstartEnv();
  t.teardown(env.close);
  const p = gatehouse(['run', env.dir, '--workers', '2', '--admin', `127.0.0.1:${env.admin}`, '--access-log', 'off', '--no-watch']);
  t.teardown(() => void p.child.kill('SIGKILL'));
  await waitReady(env.admin, p, 15_000);
  const stats = async (): Promise<Stats> => (await (await fetch(`http://127.0.0.1:${env.admin}/api/stats`)).json()) as Stats;

  const before = await stats();
  t.equal(before.available, true, 'live numbers are available with --workers');
  t.ok(before.routes.some((r) => r.id === 'default/api'), 'route series exist from the serving table, before traffic');

  for (let i = 0; i < 20; i++) t.equal(await get(env.port, 'www.example.com'), 200);
  for (let i = 0; i < 4; i++) t.equal(await get(env.port, 'api.example.com', '/v1/users'), 200);
  let s = before;
  const t0 = Date.now();
  const total = (list: Series[], id: string) => list.find((x) => x.id === id)?.total ?? 0;
  while (total(s.listeners, 'default/demo/http') < 24 && Date.now() - t0 < 5000) {
    await sleep(100);
    s = await stats();
  }
  t.equal(total(s.listeners, 'default/demo/http'), 24, `every request counted on the primary (${Date.now() - t0} ms after the last one)`);
  t.equal(total(s.routes, 'default/api'), 4, 'per route');
  t.equal(total(s.routes, 'default/www'), 20);
  // the per-second slots and the latency quantiles come from the primary's own ticks of the merged counters
  while ((s.listeners.find((x) => x.id === 'default/demo/http')?.minute.requests ?? 0) < 24 && Date.now() - t0 < 8000) {
    await sleep(200);
    s = await stats();
  }
  const l = s.listeners.find((x) => x.id === 'default/demo/http')!;
  t.equal(l.minute.requests, 24, 'in the last minute');
  t.ok(l.p50 !== null && l.p50 > 0, `p50 ${l.p50} ms`);
  t.equal(l.minute.errors5xx, 0);

  p.child.kill('SIGTERM');
  t.equal((await withTimeout(p.exited, 10_000, 'exit')).code, 0);
});
