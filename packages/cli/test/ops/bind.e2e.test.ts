/**
 * Issue 4 / DESIGN.md §3: which address `gatehouse run` binds a listener to. A Gateway's
 * `spec.addresses` decides it; `--bind` (default 0.0.0.0) applies only to a Gateway without addresses.
 * The real CLI is spawned; the checks are what a client sees: the chosen address answers, the same port
 * on another loopback address refuses the connection (Linux routes all of 127/8 to lo, so 127.0.0.2 and
 * 127.0.0.3 need no setup).
 */
import t from 'tap';
import * as http from 'node:http';
import * as net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEchoServer } from '@gatehouse/proxy';
import { freePorts, gatehouse, waitReady, withTimeout } from './e2e-helpers.js';

function get(address: string, port: number): Promise<{ status: number; pod: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: address, port, path: '/', headers: { host: 'bind.example' }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, pod: res.statusCode === 200 ? String(JSON.parse(body).pod) : '' }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('request timeout')));
  });
}

/** 'connected' or the connect error's code (ECONNREFUSED, ...). */
function tryConnect(address: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host: address, port });
    const timer = setTimeout(() => {
      s.destroy();
      resolve('timeout');
    }, 3000);
    s.on('connect', () => {
      clearTimeout(timer);
      s.destroy();
      resolve('connected');
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(e.code ?? e.message);
    });
  });
}

/** A config directory: one Gateway (with `addresses` when given) on `port`, one route to the echo server. */
function configDir(port: number, echoPort: number, addresses: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'gh-bind-'));
  const addr = addresses.length > 0 ? `  addresses:\n${addresses.map((a) => `    - type: IPAddress\n      value: ${a}\n`).join('')}` : '';
  writeFileSync(
    join(dir, 'gateway.yaml'),
    `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: gatehouse
spec:
  controllerName: gatehouse.dev/gateway-controller
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: gw
  namespace: default
spec:
  gatewayClassName: gatehouse
${addr}  listeners:
    - name: http
      protocol: HTTP
      port: ${port}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: r
  namespace: default
spec:
  parentRefs:
    - name: gw
  rules:
    - backendRefs:
        - name: echo
          port: 80
---
apiVersion: v1
kind: Service
metadata:
  name: echo
  namespace: default
spec:
  ports:
    - name: http
      port: 80
      targetPort: ${echoPort}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: echo
  namespace: default
  labels:
    kubernetes.io/service-name: echo
addressType: IPv4
ports:
  - name: http
    port: ${echoPort}
endpoints:
  - addresses: ["127.0.0.1"]
    conditions:
      ready: true
`,
  );
  return dir;
}

const cases: { name: string; addresses: string[]; args: string[]; serves: string; refuses: string[] }[] = [
  {
    name: 'spec.addresses 127.0.0.2, --bind left at its default (0.0.0.0): bound to 127.0.0.2 only',
    addresses: ['127.0.0.2'],
    args: [],
    serves: '127.0.0.2',
    refuses: ['127.0.0.1', '127.0.0.3'],
  },
  {
    name: 'no spec.addresses, --bind 127.0.0.3: bound to 127.0.0.3 only',
    addresses: [],
    args: ['--bind', '127.0.0.3'],
    serves: '127.0.0.3',
    refuses: ['127.0.0.1', '127.0.0.2'],
  },
  {
    name: 'spec.addresses 127.0.0.2 and --bind 127.0.0.3: the Gateway\'s address wins',
    addresses: ['127.0.0.2'],
    args: ['--bind', '127.0.0.3'],
    serves: '127.0.0.2',
    refuses: ['127.0.0.1', '127.0.0.3'],
  },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const echo = await startEchoServer({ host: '127.0.0.1', port: 0, name: 'echo' });
    const [port, admin] = await freePorts(2);
    const dir = configDir(port, echo.port, c.addresses);
    const p = gatehouse(['run', dir, '--admin', `127.0.0.1:${admin}`, '--no-watch', '--access-log', 'off', ...c.args]);
    t.teardown(async () => {
      p.child.kill('SIGKILL');
      await echo.close();
      rmSync(dir, { recursive: true, force: true });
    });
    await waitReady(admin, p);
    const r = await get(c.serves, port);
    t.same(r, { status: 200, pod: 'echo' }, `${c.serves}:${port} serves the route`);
    for (const other of c.refuses) t.equal(await tryConnect(other, port), 'ECONNREFUSED', `${other}:${port} refuses the connection`);
    p.child.kill('SIGTERM');
    t.equal((await withTimeout(p.exited, 8000, 'exit')).code, 0, 'exits 0 on SIGTERM');
  });
}
