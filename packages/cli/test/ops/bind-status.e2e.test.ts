/**
 * Status reasons only the data plane can know (docs/status-reasons.md): a reload adds listeners whose
 * sockets cannot be bound, and GET /status says so instead of calling them Programmed.
 *  - a port another process holds (EADDRINUSE) → Listener Accepted=False PortUnavailable;
 *  - a spec.addresses IP this machine does not have (192.0.2.10, TEST-NET-1: EADDRNOTAVAIL) → Gateway
 *    Programmed=False AddressNotUsable.
 * The listener that did bind keeps serving. The real CLI is spawned (about 2 s).
 */
import t from 'tap';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEchoServer } from '@gatehouse/proxy';
import { freePorts, gatehouse, waitReady, withTimeout } from './e2e-helpers.js';

interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
}
interface GatewayStatus {
  name: string;
  conditions: Cond[];
  listeners: { name: string; conditions: Cond[] }[];
}

const cond = (cs: Cond[], type: string): Cond | undefined => cs.find((c) => c.type === type);

function gateway(name: string, port: number, address?: string): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ${name}, namespace: default}
spec:
  gatewayClassName: gatehouse
${address ? `  addresses: [{type: IPAddress, value: ${address}}]\n` : ''}  listeners: [{name: http, protocol: HTTP, port: ${port}}]
---
`;
}

function config(echoPort: number, gateways: string): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: gatehouse}
spec: {controllerName: gatehouse.dev/gateway-controller}
---
${gateways}apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: echo, port: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: default}
spec:
  ports: [{name: http, port: 80, targetPort: ${echoPort}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: echo, namespace: default, labels: {kubernetes.io/service-name: echo}}
addressType: IPv4
ports: [{name: http, port: ${echoPort}}]
endpoints: [{addresses: ["127.0.0.1"], conditions: {ready: true}}]
`;
}

t.test('ports that cannot be bound on reload show in /status; the bound listener keeps serving', async (t) => {
  const echo = await startEchoServer({ host: '127.0.0.1', port: 0, name: 'echo' });
  const [port, admin, taken, unusable] = await freePorts(4);
  // Another process holds `taken` on the address Gatehouse binds (--bind 127.0.0.1).
  const blocker: Server = createServer();
  await new Promise<void>((r) => blocker.listen(taken, '127.0.0.1', () => r()));
  const dir = mkdtempSync(join(tmpdir(), 'gh-bind-status-'));
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, config(echo.port, gateway('gw', port)));
  const p = gatehouse(['run', dir, '--admin', `127.0.0.1:${admin}`, '--bind', '127.0.0.1', '--no-watch', '--access-log', 'off']);
  t.teardown(async () => {
    p.child.kill('SIGKILL');
    await echo.close();
    await new Promise((r) => blocker.close(r));
    rmSync(dir, { recursive: true, force: true });
  });
  await waitReady(admin, p);

  writeFileSync(file, config(echo.port, gateway('gw', port) + gateway('blocked', taken) + gateway('elsewhere', unusable, '192.0.2.10')));
  const reload = await fetch(`http://127.0.0.1:${admin}/reload`, { method: 'POST' });
  const outcome = (await reload.json()) as { result: string; message: string };
  t.equal(reload.status, 200, 'the reload itself succeeds');
  t.match(outcome.message, /2 ports could not be bound/);

  const status = (await (await fetch(`http://127.0.0.1:${admin}/status`)).json()) as { gateways: GatewayStatus[] };
  const byName = new Map(status.gateways.map((g) => [g.name, g]));

  const blocked = byName.get('default/blocked')!;
  t.ok(blocked, 'the Gateway with the taken port is in /status');
  const listener = blocked.listeners[0].conditions;
  t.match(cond(listener, 'Accepted'), { status: 'False', reason: 'PortUnavailable', message: /already in use/ });
  t.match(cond(listener, 'Programmed'), { status: 'False', reason: 'Invalid' });
  t.match(cond(blocked.conditions, 'Accepted'), { status: 'False', reason: 'ListenersNotValid' });
  t.match(cond(blocked.conditions, 'Programmed'), { status: 'False', reason: 'Invalid' });

  const elsewhere = byName.get('default/elsewhere')!;
  t.match(cond(elsewhere.conditions, 'Programmed'), { status: 'False', reason: 'AddressNotUsable', message: /192\.0\.2\.10/ });
  t.match(cond(elsewhere.conditions, 'Accepted'), { status: 'True', reason: 'Accepted' }, 'the address, not the Gateway, is the problem');
  t.match(cond(elsewhere.listeners[0].conditions, 'Programmed'), { status: 'False' });

  const gw = byName.get('default/gw')!;
  t.match(cond(gw.conditions, 'Programmed'), { status: 'True', reason: 'Programmed' });
  t.match(cond(gw.listeners[0].conditions, 'Accepted'), { status: 'True', reason: 'Accepted' });
  const r = await fetch(`http://127.0.0.1:${port}/`, { headers: { host: 'any.example' } });
  t.equal(r.status, 200, 'the listener that bound still serves');
  await r.text();

  // The other process lets the port go; a reload of the same files (SIGHUP, POST /reload) binds it now.
  await new Promise((r) => blocker.close(r));
  const again = await fetch(`http://127.0.0.1:${admin}/reload`, { method: 'POST' });
  const second = (await again.json()) as { result: string; message: string };
  t.equal(second.result, 'ok', 'the same content is applied again while a port is unbound');
  t.match(second.message, /1 port could not be bound/, 'only the foreign address is left');
  const after = (await (await fetch(`http://127.0.0.1:${admin}/status`)).json()) as { gateways: GatewayStatus[] };
  const nowBound = after.gateways.find((g) => g.name === 'default/blocked')!;
  t.match(cond(nowBound.listeners[0].conditions, 'Accepted'), { status: 'True' }, 'the freed port is now Accepted');
  const viaFreed = await fetch(`http://127.0.0.1:${taken}/`, { headers: { host: 'any.example' } });
  t.equal(viaFreed.status, 404, 'and answers on the freed port (no route attaches to that Gateway: 404)');
  await viaFreed.text();

  p.child.kill('SIGTERM');
  t.equal((await withTimeout(p.exited, 8000, 'exit')).code, 0, 'exits 0 on SIGTERM');
});
