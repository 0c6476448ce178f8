/**
 * What /metrics shows for a table before any traffic (operations.md "Metrics"), and connections_open of
 * HTTPS listeners (counted on the listener the SNI chose), over a real runtime on loopback.
 */
import net from 'node:net';
import tls from 'node:tls';
import t from 'tap';
import { startEchoServer } from '../../src/echo-server.js';
import { GatewayTelemetry, Metrics } from '../../src/metrics.js';
import { GatehouseRuntime } from '../../src/runtime.js';
import { selfSigned } from '../helpers/certs.js';
import { backend, emptyStatus, freePorts, table } from '../helpers/ir.js';
import { find, parsePrometheus } from './helpers.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function value(text: string, name: string, labels: Record<string, string>): number | undefined {
  return find(parsePrometheus(text).samples, name, labels)[0]?.value;
}

t.test('before any traffic: connections_open 0 and an empty duration histogram per listener; no request counter is invented', async (t) => {
  const echo = await startEchoServer({ name: 'a' });
  const [port] = await freePorts(1);
  const tbl = table([{ port, groups: [{ rules: [{ path: '/', refs: [{ backend: 0 }] }] }] }], [backend('a', [{ address: '127.0.0.1', port: echo.port }])]);
  const metrics = new Metrics({ version: 'test', processMetrics: false });
  const rt = new GatehouseRuntime({ bindAddress: '127.0.0.1', logger: quiet, telemetry: new GatewayTelemetry(metrics, null) });
  t.teardown(async () => {
    await rt.close(100);
    await echo.close();
  });
  await rt.apply(tbl, emptyStatus);
  const text = await metrics.text();
  const l = 'default/gw/l0';
  t.equal(value(text, 'gatehouse_listener_connections_open', { listener: l }), 0, 'connections_open is 0, not missing');
  t.equal(value(text, 'gatehouse_listener_request_duration_seconds_count', { listener: l }), 0, 'the duration histogram exists with count 0');
  t.equal(value(text, 'gatehouse_listener_request_duration_seconds_bucket', { listener: l, le: '+Inf' }), 0);
  t.notMatch(text, /^gatehouse_listener_requests_total\{/m, 'no listener request series before a request (no code is invented)');
  t.notMatch(text, /^gatehouse_route_requests_total\{/m, 'no route series before a request');
  t.notMatch(text, /^gatehouse_backend_requests_total\{/m, 'no backend series before a request');

  // a second prepare (a reload) does not reset a gauge that is in use
  const s = net.connect(rt.boundPorts().get(tbl.ports[0].key)!, '127.0.0.1');
  t.teardown(() => s.destroy());
  await new Promise((r) => s.once('connect', r));
  const t0 = Date.now();
  while (value(await metrics.text(), 'gatehouse_listener_connections_open', { listener: l }) !== 1 && Date.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 10));
  await rt.apply({ ...tbl, hash: 'v2' }, emptyStatus);
  t.equal(value(await metrics.text(), 'gatehouse_listener_connections_open', { listener: l }), 1, 'an open connection is still counted after a reload');
});

t.test('HTTPS listeners count their open connections (on the listener the SNI chose)', async (t) => {
  const echo = await startEchoServer({ name: 'a' });
  const [port] = await freePorts(1);
  const certs = [selfSigned('ns/one', ['one.example']), selfSigned('ns/two', ['two.example'])];
  const tbl = table(
    [
      {
        port,
        protocol: 'TLS',
        groups: [
          { hostname: 'one.example', certificate: 0, rules: [{ path: '/', refs: [{ backend: 0 }] }] },
          { hostname: 'two.example', certificate: 1, rules: [{ path: '/', refs: [{ backend: 0 }] }] },
        ],
      },
    ],
    [backend('a', [{ address: '127.0.0.1', port: echo.port }])],
    certs,
  );
  const metrics = new Metrics({ version: 'test', processMetrics: false });
  const rt = new GatehouseRuntime({ bindAddress: '127.0.0.1', logger: quiet, telemetry: new GatewayTelemetry(metrics, null) });
  t.teardown(async () => {
    await rt.close(100);
    await echo.close();
  });
  await rt.apply(tbl, emptyStatus);
  const open = async (l: string) => value(await metrics.text(), 'gatehouse_listener_connections_open', { listener: l });
  const waitOpen = async (l: string, n: number) => {
    const t0 = Date.now();
    while ((await open(l)) !== n && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 10));
    return open(l);
  };
  t.equal(await open('default/gw/l0'), 0, 'HTTPS listener one: 0 before traffic');
  t.equal(await open('default/gw/l1'), 0, 'HTTPS listener two: 0 before traffic');
  t.equal(value(await metrics.text(), 'gatehouse_listener_request_duration_seconds_count', { listener: 'default/gw/l1' }), 0);

  const gw = rt.boundPorts().get(tbl.ports[0].key)!;
  const connect = (servername: string) =>
    new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: gw, servername, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => resolve(s));
      s.once('error', reject);
    });
  const a = await connect('two.example');
  const b = await connect('two.example');
  t.teardown(() => {
    a.destroy();
    b.destroy();
  });
  t.equal(await waitOpen('default/gw/l1', 2), 2, 'two open connections on listener two');
  t.equal(await open('default/gw/l0'), 0, 'none on listener one');
  a.end();
  b.destroy();
  t.equal(await waitOpen('default/gw/l1', 0), 0, 'back to 0 once both are closed (a FIN and an abort)');
});
