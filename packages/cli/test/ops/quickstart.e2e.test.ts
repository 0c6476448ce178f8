import t from 'tap';
import * as http from 'node:http';
import { createServer } from 'node:net';
import { freePort, gatehouse, waitReady, withTimeout } from './e2e-helpers.js';

/** The quickstart uses fixed ports (8080, 18081..18083); skip when something else holds them. */
async function portsFree(ports: number[]): Promise<boolean> {
  for (const p of ports) {
    const s = createServer();
    const ok = await new Promise<boolean>((r) => {
      s.once('error', () => r(false));
      s.listen(p, '127.0.0.1', () => r(true));
    });
    if (ok) await new Promise((r) => s.close(r));
    else return false;
  }
  return true;
}

function get(host: string, path: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: 8080, path, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
  });
}

t.test('gatehouse quickstart: demo backends, the printed curl lines work', async (t) => {
  if (!(await portsFree([8080, 18081, 18082, 18083]))) {
    t.skip('quickstart ports busy', () => undefined);
    return;
  }
  const admin = await freePort();
  const p = gatehouse(['quickstart', '--admin', `127.0.0.1:${admin}`, '--access-log', 'off']);
  t.teardown(() => void p.child.kill('SIGKILL'));
  await waitReady(admin, p);
  const t0 = Date.now();
  while (!p.stderr().includes('Ctrl-C') && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 20));
  const out = p.stderr();
  t.match(out, /curl -H 'Host: www\.example\.com' http:\/\/127\.0\.0\.1:8080\//);
  t.match(out, /curl -H 'Host: api\.example\.com' http:\/\/127\.0\.0\.1:8080\/v1\/users/);

  const pods: Record<string, number> = {};
  for (let i = 0; i < 8; i++) {
    const r = await get('www.example.com', '/');
    t.equal(r.status, 200);
    const pod = JSON.parse(r.body).pod as string;
    pods[pod] = (pods[pod] ?? 0) + 1;
  }
  t.same(pods, { 'web-v1': 6, 'web-v2': 2 }, '3:1 canary');
  const api = await get('api.example.com', '/v1/users');
  t.equal(api.status, 200);
  t.equal(JSON.parse(api.body).path, '/users', 'prefix rewritten');
  t.equal(JSON.parse(api.body).pod, 'api');
  const redirect = await get('www.example.com', '/old-blog/hi');
  t.equal(redirect.status, 301);
  t.match(redirect.headers.location, /\/blog\/hi$/);
  t.equal((await get('nope.example.com', '/')).status, 404);

  p.child.kill('SIGINT');
  t.equal((await withTimeout(p.exited, 8000, 'exit')).code, 0);
});
