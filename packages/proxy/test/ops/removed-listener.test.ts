/**
 * A port removed by a reload (or whose protocol changes on the same address:port) drains: it stops
 * accepting at once, its in-flight requests and open connections finish in the background bounded by the
 * drain timeout, and `apply()` does not wait for them.
 */
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import t from 'tap';
import type { PortIR, RoutingTable } from '@gatehouse/core';
import { startEchoServer } from '../../src/echo-server.js';
import { GatehouseRuntime } from '../../src/runtime.js';
import { backend, emptyStatus, table } from '../helpers/ir.js';
import { l4Port, l4Route, ref, tcpEchoServer, udpEchoServer } from '../l4/helpers.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function get(port: number, path: string): Promise<{ status: number; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, agent: false, headers: { host: 'x' } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Date.now() - t0 }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('client timeout')));
    req.end();
  });
}

/** `n` distinct free ports (all held open while picking). */
async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  for (let i = 0; i < n; i++) {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    servers.push(s);
  }
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function refused(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

/** One HTTP port per number, every rule to backend 0. */
function httpTable(ports: number[], be: RoutingTable['backends'], hash: string): RoutingTable {
  return table(
    ports.map((port) => ({ port, groups: [{ rules: [{ path: '/', refs: [{ backend: 0 }] }] }] })),
    be,
    [],
    hash,
  );
}

function tcpPortOn(port: number, backendIndex: number): PortIR {
  return { ...l4Port('TCP', l4Route('default/tcp', 'TCPRoute', [ref(backendIndex)])), key: `127.0.0.1:${port}/tcp`, port };
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const t0 = Date.now();
  while (!cond() && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 10));
  return cond();
}

t.test('an HTTP port removed by a reload: apply does not wait, the request in flight finishes, new connections are refused', async (t) => {
  const echo = await startEchoServer({ name: 'a' });
  const [pa, pb] = await freePorts(2);
  const be = [backend('a', [{ address: '127.0.0.1', port: echo.port }])];
  const rt = new GatehouseRuntime({ bindAddress: '127.0.0.1', logger: quiet, drainTimeoutMs: 5000 });
  t.teardown(async () => {
    await rt.close(100);
    await echo.close();
  });
  await rt.apply(httpTable([pa, pb], be, 'v1'), emptyStatus);

  const slow = get(pb, '/slow?delay=700ms');
  await new Promise((r) => setTimeout(r, 150));
  const t0 = Date.now();
  const res = await rt.apply(httpTable([pa], be, 'v2'), emptyStatus);
  const applyMs = Date.now() - t0;
  t.same(res.closed, [`127.0.0.1:${pb}/tcp`], 'the removed port is reported closed');
  t.ok(applyMs < 400, `apply returned in ${applyMs} ms, without waiting for the request in flight`);
  t.equal(await refused(pb), 'ECONNREFUSED', 'a new connection to the removed port is refused at once');
  t.equal(rt.retiring(), 1, 'the removed port is still draining');

  const r = await slow;
  t.equal(r.status, 200, 'the request in flight on the removed port completed');
  t.ok(r.ms >= 650, `after its full delay (${r.ms} ms)`);
  t.ok(await waitFor(() => rt.retiring() === 0, 1500), 'the drain ended once the connection was done, long before the 5 s deadline');
  t.equal((await get(pa, '/')).status, 200, 'the kept port serves');
});

t.test('a protocol change on the same port (HTTP → TCP) rebinds at once while the old request finishes', async (t) => {
  const echo = await startEchoServer({ name: 'a' });
  const tcpEcho = await tcpEchoServer();
  const [p] = await freePorts(1);
  const be = [backend('a', [{ address: '127.0.0.1', port: echo.port }]), backend('t', [{ address: '127.0.0.1', port: tcpEcho.port }])];
  const rt = new GatehouseRuntime({ bindAddress: '127.0.0.1', logger: quiet, drainTimeoutMs: 5000 });
  t.teardown(async () => {
    await rt.close(100);
    await echo.close();
    await tcpEcho.close();
  });
  await rt.apply(httpTable([p], be, 'v1'), emptyStatus);
  const slow = get(p, '/slow?delay=600ms');
  await new Promise((r) => setTimeout(r, 150));

  const v2: RoutingTable = { hash: 'v2', ports: [tcpPortOn(p, 1)], backends: be, certificates: [] };
  const res = await rt.apply(v2, emptyStatus);
  t.same(res.failed, [], 'the TCP server bound the port the HTTP server had');
  t.same(res.opened, [`127.0.0.1:${p}/tcp`]);
  t.same(res.closed, [`127.0.0.1:${p}/tcp`]);

  const s = net.connect(p, '127.0.0.1');
  t.teardown(() => s.destroy());
  let got = '';
  s.on('data', (d) => (got += d));
  s.write('ping over tcp');
  t.ok(await waitFor(() => got === 'ping over tcp', 3000), `the new TCP listener echoes (${JSON.stringify(got)})`);
  s.destroy();

  const r = await slow;
  t.equal(r.status, 200, 'the HTTP request started before the change completed');
});

t.test('a removed TCP port: its connection keeps relaying until the drain deadline, then is closed', async (t) => {
  const tcpEcho = await tcpEchoServer();
  const [p, keep] = await freePorts(2);
  const be = [backend('t', [{ address: '127.0.0.1', port: tcpEcho.port }])];
  const rt = new GatehouseRuntime({ bindAddress: '127.0.0.1', logger: quiet, drainTimeoutMs: 800 });
  t.teardown(async () => {
    await rt.close(100);
    await tcpEcho.close();
  });
  const mk = (ports: number[], hash: string): RoutingTable => ({ hash, ports: ports.map((n) => tcpPortOn(n, 0)), backends: be, certificates: [] });
  await rt.apply(mk([p, keep], 'v1'), emptyStatus);

  const s = net.connect(p, '127.0.0.1');
  t.teardown(() => s.destroy());
  let got = '';
  let closedAt = 0;
  s.on('data', (d) => (got += d));
  s.on('close', () => (closedAt = Date.now()));
  s.on('error', () => undefined);
  s.write('one');
  t.ok(await waitFor(() => got === 'one', 3000), 'relaying before the reload');

  const t0 = Date.now();
  await rt.apply(mk([keep], 'v2'), emptyStatus);
  t.ok(Date.now() - t0 < 400, 'apply did not wait for the connection');
  t.equal(await refused(p), 'ECONNREFUSED', 'new connections to the removed port are refused');
  s.write('two');
  t.ok(await waitFor(() => got === 'onetwo', 3000), 'the established connection still relays during the drain');
  t.ok(await waitFor(() => closedAt > 0, 3000), 'closed at the drain deadline');
  const after = closedAt - t0;
  t.ok(after >= 700 && after < 2500, `closed ${after} ms after the reload (drain timeout 800 ms)`);
  t.equal(rt.retiring(), 0);
});

t.test('the drain deadline bounds a removed port, and shutdown cuts what is still draining', async (t) => {
  const echo = await startEchoServer({ name: 'a' });
  const [pa, pb] = await freePorts(2);
  const be = [backend('a', [{ address: '127.0.0.1', port: echo.port }])];
  const rt = new GatehouseRuntime({ bindAddress: '127.0.0.1', logger: quiet, drainTimeoutMs: 10_000 });
  t.teardown(() => echo.close());
  await rt.apply(httpTable([pa, pb], be, 'v1'), emptyStatus);
  const slow = get(pb, '/slow?delay=5s').then(
    (r) => `status ${r.status}`,
    (e: Error) => `error ${e.message}`,
  );
  await new Promise((r) => setTimeout(r, 150));
  await rt.apply(httpTable([pa], be, 'v2'), emptyStatus);
  t.equal(rt.retiring(), 1);
  const t0 = Date.now();
  await rt.close(300);
  const closeMs = Date.now() - t0;
  t.ok(closeMs < 2000, `close(300) returned in ${closeMs} ms although the removed port's drain timeout is 10 s`);
  t.equal(rt.retiring(), 0);
  t.match(await slow, /^error /, 'the request still running on the removed port was cut at shutdown');
});

t.test('a removed UDP port: its session keeps relaying during the drain; the same port added back binds at once', async (t) => {
  const echo = await udpEchoServer('u');
  const probe = dgram.createSocket('udp4');
  await new Promise<void>((r) => probe.bind(0, '127.0.0.1', () => r()));
  const p = probe.address().port;
  await new Promise<void>((r) => probe.close(() => r()));
  const be = [backend('u', [{ address: '127.0.0.1', port: echo.port }])];
  const udpPort: PortIR = { ...l4Port('UDP', l4Route('default/udp', 'UDPRoute', [ref(0)])), key: `127.0.0.1:${p}/udp`, port: p };
  const withUdp: RoutingTable = { hash: 'v1', ports: [udpPort], backends: be, certificates: [] };
  const without: RoutingTable = { hash: 'v2', ports: [], backends: be, certificates: [] };
  const rt = new GatehouseRuntime({ bindAddress: '127.0.0.1', logger: quiet, drainTimeoutMs: 10_000 });
  const client = dgram.createSocket('udp4');
  const got: string[] = [];
  client.on('message', (m) => got.push(m.toString()));
  await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
  t.teardown(async () => {
    client.close();
    await rt.close(100);
    await echo.close();
  });
  await rt.apply(withUdp, emptyStatus);
  client.send('one', p, '127.0.0.1');
  t.ok(await waitFor(() => got.includes('u:one'), 3000), 'relayed before the reload');

  const t0 = Date.now();
  const res = await rt.apply(without, emptyStatus);
  t.ok(Date.now() - t0 < 400, 'apply did not wait for the UDP session');
  t.same(res.closed, [udpPort.key]);
  client.send('two', p, '127.0.0.1');
  t.ok(await waitFor(() => got.includes('u:two'), 3000), "the client's session still relays during the drain");
  t.equal(rt.retiring(), 1);

  const back = await rt.apply({ ...withUdp, hash: 'v3' }, emptyStatus);
  t.same(back.failed, [], 'the same UDP port binds again although the old one was still draining');
  t.same(back.opened, [udpPort.key]);
  t.ok(await waitFor(() => rt.retiring() === 0, 2000), 'the old drain ended when the port came back');
  client.send('three', p, '127.0.0.1');
  t.ok(await waitFor(() => got.includes('u:three'), 3000), 'served by the new listener');
});
