import t from 'tap';
import * as http from 'node:http';
import * as net from 'node:net';
import { randomBytes } from 'node:crypto';
import { appendFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts, gatehouse, quickstartEnv, sleep, waitReady, withTimeout } from './e2e-helpers.js';

const NEW_ROUTE = `
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: added
  namespace: default
spec:
  parentRefs:
    - name: demo
  hostnames:
    - new.example.com
  rules:
    - backendRefs:
        - name: api
          port: 80
`;

function get(port: number, host: string, agent: http.Agent, sockets: Set<number>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', headers: { host }, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('socket', (s) => {
      const track = () => sockets.add(s.localPort ?? 0);
      if (s.localPort) track();
      else s.once('connect', track);
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
  });
}

t.test('a route change under steady keep-alive load: applied within 2 s, zero failed requests, no connection dropped', async (t) => {
  const env = await quickstartEnv();
  t.teardown(env.close);
  const p = gatehouse(['run', env.dir, '--admin', `127.0.0.1:${env.admin}`, '--access-log', 'off', '--drain-timeout', '2s']);
  t.teardown(() => void p.child.kill('SIGKILL'));
  await waitReady(env.admin, p);

  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  t.teardown(() => agent.destroy());
  const sockets = new Set<number>();
  let ok = 0;
  const failures: string[] = [];
  let stop = false;
  const worker = async () => {
    for (let i = 0; i < 100_000 && !stop; i++) {
      try {
        const s = await get(env.port, 'www.example.com', agent, sockets);
        if (s === 200) ok++;
        else failures.push(`status ${s}`);
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
  };
  const workers = Array.from({ length: 8 }, worker);
  await sleep(500);
  t.equal((await get(env.port, 'new.example.com', new http.Agent(), new Set())), 404, 'new host not routed yet');
  const socketsBefore = sockets.size;

  appendFileSync(join(env.dir, 'routes.yaml'), NEW_ROUTE);
  const t0 = Date.now();
  let applied = -1;
  for (let i = 0; i < 200 && Date.now() - t0 < 3000; i++) {
    if ((await get(env.port, 'new.example.com', new http.Agent(), new Set())) === 200) {
      applied = Date.now() - t0;
      break;
    }
    await sleep(20);
  }
  t.ok(applied >= 0 && applied < 2000, `new route serving ${applied} ms after the write`);
  await sleep(500);
  stop = true;
  await withTimeout(Promise.all(workers), 10_000, 'load workers');
  t.ok(ok > 100, `${ok} requests under load`);
  t.same(failures, [], 'zero failed requests');
  t.ok(socketsBefore <= 8 && sockets.size <= 8, `keep-alive connections survived the reload (${socketsBefore} before, ${sockets.size} in total)`);

  const st = (await (await fetch(`http://127.0.0.1:${env.admin}/status`)).json()) as { lastReload: { result: string; trigger: string } };
  t.equal(st.lastReload.result, 'ok');
  t.equal(st.lastReload.trigger, 'watch');
  const metrics = await (await fetch(`http://127.0.0.1:${env.admin}/metrics`)).text();
  t.match(metrics, /^gatehouse_config_reloads_total\{result="success"\} 2$/m);
  p.child.kill('SIGTERM');
  t.equal((await withTimeout(p.exited, 8000, 'exit')).code, 0);
});

function wsFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  const head = Buffer.from([0x81, 0x80 | payload.length]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
  return Buffer.concat([head, mask, masked]);
}

t.test('a WebSocket opened before a reload still echoes after it', async (t) => {
  const env = await quickstartEnv();
  t.teardown(env.close);
  const p = gatehouse(['run', env.dir, '--admin', `127.0.0.1:${env.admin}`, '--access-log', 'off']);
  t.teardown(() => void p.child.kill('SIGKILL'));
  await waitReady(env.admin, p);

  const sock = net.connect(env.port, '127.0.0.1');
  t.teardown(() => sock.destroy());
  let buf = Buffer.alloc(0);
  sock.on('data', (d) => (buf = Buffer.concat([buf, d])));
  await new Promise((r) => sock.once('connect', r));
  sock.write(`GET /chat HTTP/1.1\r\nHost: www.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  const t0 = Date.now();
  while (!buf.includes('\r\n\r\n') && Date.now() - t0 < 3000) await sleep(10);
  const head = buf.subarray(0, buf.indexOf('\r\n\r\n') + 4).toString();
  t.match(head, /^HTTP\/1\.1 101/, 'upgraded');
  buf = buf.subarray(head.length);

  const echo = async (msg: string): Promise<string> => {
    buf = Buffer.alloc(0);
    sock.write(wsFrame(msg));
    const s = Date.now();
    while (buf.length < 2 + msg.length && Date.now() - s < 3000) await sleep(10);
    return buf.subarray(2, 2 + (buf[1] & 0x7f)).toString();
  };
  t.equal(await echo('before'), 'before');

  const servingHash = async (): Promise<string> => ((await (await fetch(`http://127.0.0.1:${env.admin}/status`)).json()) as { serving: { hash: string } }).serving.hash;
  const before = await servingHash();
  appendFileSync(join(env.dir, 'routes.yaml'), NEW_ROUTE);
  const s0 = Date.now();
  let after = before;
  while (after === before && Date.now() - s0 < 3000) {
    await sleep(50);
    after = await servingHash();
  }
  t.not(after, before, 'reloaded');
  t.equal(await echo('after the reload'), 'after the reload', 'the WebSocket still echoes');
  t.notOk(sock.destroyed, 'connection open');
  sock.destroy();
  p.child.kill('SIGTERM');
  t.equal((await withTimeout(p.exited, 8000, 'exit')).code, 0);
});

t.test('SIGHUP and POST /reload reload; an invalid edit keeps the old table serving', async (t) => {
  const env = await quickstartEnv();
  t.teardown(env.close);
  const p = gatehouse(['run', env.dir, '--admin', `127.0.0.1:${env.admin}`, '--access-log', 'off', '--no-watch', '--log-format', 'json']);
  t.teardown(() => void p.child.kill('SIGKILL'));
  await waitReady(env.admin, p);
  const agent = new http.Agent();
  appendFileSync(join(env.dir, 'routes.yaml'), NEW_ROUTE);
  await sleep(400);
  t.equal(await get(env.port, 'new.example.com', agent, new Set()), 404, '--no-watch: not applied by itself');
  p.child.kill('SIGHUP');
  const s0 = Date.now();
  let st = 0;
  while (Date.now() - s0 < 2000 && (st = await get(env.port, 'new.example.com', agent, new Set())) !== 200) await sleep(20);
  t.equal(st, 200, 'SIGHUP reloaded');

  appendFileSync(join(env.dir, 'routes.yaml'), '---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: broken\n  namespace: default\nspec:\n  parentRefs: [{name: demo}]\n  rules:\n    - matches: [{path: {type: Prefix, value: /x}}]\n');
  const r = await fetch(`http://127.0.0.1:${env.admin}/reload`, { method: 'POST' });
  t.equal(r.status, 422);
  const body = (await r.json()) as { result: string; diagnostics: { severity: string; location: string }[] };
  t.equal(body.result, 'error');
  t.match(body.diagnostics.find((d) => d.severity === 'error')?.location, /^config\/routes\.yaml:\d+:\d+$/);
  t.equal(await get(env.port, 'new.example.com', agent, new Set()), 200, 'old table still serving');
  t.equal(await get(env.port, 'www.example.com', agent, new Set()), 200);
  const metrics = await (await fetch(`http://127.0.0.1:${env.admin}/metrics`)).text();
  t.match(metrics, /^gatehouse_config_last_reload_successful 0$/m);
  t.match(p.stderr(), /"level":"error","msg":"config: config\/routes\.yaml:\d+:\d+ HTTPRoute default\/broken/);
  p.child.kill('SIGTERM');
  t.equal((await withTimeout(p.exited, 8000, 'exit')).code, 0);
});

// Idle keep-alive connections are closed at once on SIGTERM (HttpEngines emits 'listening' on its
// node:http server so closeIdleConnections() sees them; the fast engine closes its idle ones itself).
t.test(
  'idle keep-alive connections do not hold the drain',
  async (t) => {
    const env = await quickstartEnv();
    t.teardown(env.close);
    const p = gatehouse(['run', env.dir, '--admin', `127.0.0.1:${env.admin}`, '--access-log', 'off', '--drain-timeout', '6s']);
    t.teardown(() => void p.child.kill('SIGKILL'));
    await waitReady(env.admin, p);
    const agent = new http.Agent({ keepAlive: true });
    t.teardown(() => agent.destroy());
    t.equal(await get(env.port, 'www.example.com', agent, new Set()), 200);
    const t0 = Date.now();
    p.child.kill('SIGTERM');
    t.equal((await withTimeout(p.exited, 8000, 'exit')).code, 0);
    t.ok(Date.now() - t0 < 2000, `exited ${Date.now() - t0} ms after SIGTERM with an idle keep-alive connection open`);
  },
);

/** A second Gateway with one listener on `port`, routing everything to the quickstart's api backend. */
function sideGateway(port: number): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: side
  namespace: default
spec:
  gatewayClassName: gatehouse
  addresses:
    - type: IPAddress
      value: 127.0.0.1
  listeners:
    - name: b
      protocol: HTTP
      port: ${port}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: side
  namespace: default
spec:
  parentRefs:
    - name: side
  rules:
    - backendRefs:
        - name: api
          port: 80
`;
}

for (const workers of [1, 2]) t.test(`a listener removed by a reload drains (--workers ${workers}): its request in flight completes with 200, new connections are refused`, async (t) => {
  const env = await quickstartEnv();
  t.teardown(env.close);
  const [pb] = await freePorts(1);
  const side = join(env.dir, 'side.yaml');
  writeFileSync(side, sideGateway(pb));
  const p = gatehouse(['run', env.dir, '--admin', `127.0.0.1:${env.admin}`, '--access-log', 'off', '--drain-timeout', '10s', '--log-format', 'json', '--workers', String(workers)]);
  t.teardown(() => void p.child.kill('SIGKILL'));
  await waitReady(env.admin, p, 15_000);
  t.equal(await get(pb, 'anything.example', new http.Agent(), new Set()), 200, 'listener B serves');

  // a slow request on B (the echo backend answers after 2 s)
  const t0 = Date.now();
  const slow = new Promise<{ status: number; ms: number; body: string }>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: pb, path: '/slow?delay=2s', headers: { host: 'b.example' }, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Date.now() - t0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(8000, () => req.destroy(new Error('client timeout')));
  });
  slow.catch(() => undefined);
  await sleep(300);

  const servingHash = async (): Promise<string> => ((await (await fetch(`http://127.0.0.1:${env.admin}/status`)).json()) as { serving: { hash: string } }).serving.hash;
  const before = await servingHash();
  unlinkSync(side);
  let after = before;
  for (let i = 0; i < 100 && after === before && Date.now() - t0 < 1800; i++) {
    await sleep(25);
    after = await servingHash();
  }
  t.not(after, before, `reloaded without B ${Date.now() - t0} ms after the request started, while it is still in flight`);
  const refusedCode = await new Promise<string>((resolve) => {
    const s = net.connect(pb, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
  const refusedAt = Date.now() - t0;
  t.equal(refusedCode, 'ECONNREFUSED', `a new connection to B's port is refused after the reload (${refusedAt} ms)`);
  t.ok(refusedAt < 2000, 'checked while the slow request was still in flight');

  const r = await withTimeout(slow, 8000, 'slow request');
  t.equal(r.status, 200, 'the request in flight on the removed listener completed with 200');
  t.ok(r.ms >= 1900, `after the backend's full delay (${r.ms} ms)`);
  t.match(JSON.parse(r.body), { pod: 'api', path: '/slow?delay=2s' }, 'with the backend answer');
  t.equal(await get(env.port, 'www.example.com', new http.Agent(), new Set()), 200, 'the kept listener serves');
  p.child.kill('SIGTERM');
  t.equal((await withTimeout(p.exited, 8000, 'exit')).code, 0);
});
