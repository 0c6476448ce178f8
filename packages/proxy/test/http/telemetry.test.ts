import t from 'tap';
import type { RequestRecord } from '../../src/api.js';
import { startEchoServer } from '../../src/echo-server.js';
import { NoopTelemetry } from '../../src/runtime.js';
import { closeAgent, request } from '../helpers/client.js';
import { gateway } from '../helpers/gateway.js';
import { backend, freePort, table } from '../helpers/ir.js';

class Recorder extends NoopTelemetry {
  records: RequestRecord[] = [];
  errors: [string, string][] = [];
  prepared = 0;
  override prepare(): void {
    this.prepared++;
  }
  override onRequest(rec: RequestRecord): void {
    this.records.push(rec);
  }
  override onBackendError(id: string, reason: string): void {
    this.errors.push([id, reason]);
  }
}

t.test('every request produces one RequestRecord with stable error reasons', async (t) => {
  const a = await startEchoServer({ name: 'a' });
  const port = await freePort();
  const dead = await freePort();
  const tbl = table(
    [{ port, groups: [{ rules: [{ path: '/ok', refs: [{ backend: 0 }] }, { path: '/dead', refs: [{ backend: 1 }] }] }] }],
    [backend('Service default/a:80', [{ address: '127.0.0.1', port: a.port }]), backend('Service default/dead:80', [{ address: '127.0.0.1', port: dead }])],
  );
  const telemetry = new Recorder();
  const { rt, port: gw } = await gateway(tbl, { telemetry });
  t.teardown(async () => {
    closeAgent();
    await rt.close(100);
    await a.close();
  });
  t.equal(telemetry.prepared, 1, 'prepare called before serving');
  await request(gw, '/ok?x', { host: 'www.example.com' });
  await request(gw, '/missing', { host: 'www.example.com' });
  await request(gw, '/dead', { host: 'www.example.com', method: 'POST', body: 'x' });
  const [ok, missing, refused] = telemetry.records;
  t.match(ok, { gateway: 'default/gw', listener: 'default/gw/l0', route: 'default/route0', rule: 0, backend: 'Service default/a:80', endpoint: `127.0.0.1:${a.port}`, method: 'GET', status: 200, error: null, host: 'www.example.com', path: '/ok', client: '127.0.0.1' });
  t.ok(ok.upstreamMs >= 0 && ok.durationMs >= ok.upstreamMs);
  t.ok(ok.bytesOut > 0);
  t.match(missing, { route: null, rule: -1, backend: null, status: 404, error: 'no_route' });
  t.match(refused, { status: 502, error: 'connect_refused', bytesIn: 1 });
  t.same(telemetry.errors, [['Service default/dead:80', 'connect_refused']]);
});
