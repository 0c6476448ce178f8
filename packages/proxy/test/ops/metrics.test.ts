import t from 'tap';
import { Metrics, GatewayTelemetry, normaliseMethod } from '../../src/metrics.js';
import { find, parsePrometheus, sampleRequest, sampleTable } from './helpers.js';

const CONTRACT = [
  'gatehouse_listener_requests_total',
  'gatehouse_listener_request_duration_seconds',
  'gatehouse_listener_connections_open',
  'gatehouse_route_requests_total',
  'gatehouse_backend_requests_total',
  'gatehouse_backend_errors_total',
  'gatehouse_tcp_connections_total',
  'gatehouse_udp_datagrams_total',
  'gatehouse_config_reloads_total',
  'gatehouse_config_last_reload_successful',
  'gatehouse_config_last_reload_timestamp_seconds',
  'gatehouse_build_info',
];

t.test('exposition parses strictly and has every contract name and type', async (t) => {
  const m = new Metrics({ version: '9.9.9' });
  m.prepare(sampleTable());
  m.onRequest(sampleRequest());
  m.onRequest(sampleRequest({ status: 503, backend: null, endpoint: null, route: null, rule: -1, error: 'no_route' }));
  m.onConnection('default/gw/http', 1);
  m.onBackendError('Service default/web:80', 'connect_refused');
  m.onL4({ gateway: 'default/gw', listener: 'default/gw/tcp', route: 'default/t', backend: null, endpoint: null, protocol: 'TCP', sni: null, bytesIn: 1, bytesOut: 2, durationMs: 3, result: 'ok', client: '1.2.3.4', startTime: Date.now() });
  m.onUdpDatagram('default/gw/dns', 'in', 'forwarded');
  m.onReload(true, 1_700_000_000_000);
  const text = await m.text();
  const { samples, types } = parsePrometheus(text);
  for (const name of CONTRACT) t.ok(types.has(name), `TYPE ${name}`);
  t.equal(types.get('gatehouse_listener_request_duration_seconds'), 'histogram');
  t.equal(types.get('gatehouse_listener_requests_total'), 'counter');
  t.equal(types.get('gatehouse_listener_connections_open'), 'gauge');
  t.equal(types.get('gatehouse_config_last_reload_successful'), 'gauge');
  t.ok([...types.keys()].some((n) => n.startsWith('gatehouse_process_') || n.startsWith('gatehouse_nodejs_')), 'process metrics prefixed');
  t.notOk([...types.keys()].some((n) => !n.startsWith('gatehouse_')), 'every name has the prefix');

  t.equal(find(samples, 'gatehouse_listener_requests_total', { gateway: 'default/gw', listener: 'default/gw/http', method: 'GET', code: '200' })[0]?.value, 1);
  t.equal(find(samples, 'gatehouse_listener_requests_total', { code: '503' })[0]?.value, 1);
  t.equal(find(samples, 'gatehouse_route_requests_total', { route: 'default/web', rule: '0', code: '200' })[0]?.value, 1);
  t.equal(find(samples, 'gatehouse_route_requests_total', { code: '503' }).length, 0, 'unmatched requests have no route series');
  t.equal(find(samples, 'gatehouse_backend_requests_total', { backend: 'Service default/web:80', code: '200' })[0]?.value, 1);
  t.equal(find(samples, 'gatehouse_backend_errors_total', { backend: 'Service default/web:80', reason: 'connect_refused' })[0]?.value, 1);
  t.equal(find(samples, 'gatehouse_listener_connections_open', { listener: 'default/gw/http' })[0]?.value, 1);
  t.equal(find(samples, 'gatehouse_tcp_connections_total', { listener: 'default/gw/tcp', result: 'ok' })[0]?.value, 1);
  t.equal(find(samples, 'gatehouse_udp_datagrams_total', { listener: 'default/gw/dns', direction: 'in', result: 'forwarded' })[0]?.value, 1);
  t.equal(find(samples, 'gatehouse_config_reloads_total', { result: 'success' })[0]?.value, 1);
  t.equal(find(samples, 'gatehouse_config_reloads_total', { result: 'failure' })[0]?.value, 0);
  t.equal(find(samples, 'gatehouse_config_last_reload_successful')[0]?.value, 1);
  t.equal(find(samples, 'gatehouse_config_last_reload_timestamp_seconds')[0]?.value, 1_700_000_000);
  t.equal(find(samples, 'gatehouse_build_info', { version: '9.9.9', node: process.version })[0]?.value, 1);
  const count = find(samples, 'gatehouse_listener_request_duration_seconds_count', { listener: 'default/gw/http' })[0];
  t.equal(count?.value, 2);
  const inf = find(samples, 'gatehouse_listener_request_duration_seconds_bucket', { le: '+Inf' });
  t.equal(inf[0]?.value, 2);

  // prepared children are visible before any traffic (rule 1 of the route, the udp listener)
  t.ok(find(samples, 'gatehouse_udp_datagrams_total', { listener: 'default/gw/dns', direction: 'out', result: 'dropped' }).length === 1);

  m.onReload(false);
  const after = parsePrometheus(await m.text()).samples;
  t.equal(find(after, 'gatehouse_config_last_reload_successful')[0]?.value, 0);
  t.equal(find(after, 'gatehouse_config_reloads_total', { result: 'failure' })[0]?.value, 1);
});

t.test('labels never carry path, host or client; methods are bounded', async (t) => {
  const m = new Metrics({ version: '1', processMetrics: false });
  m.prepare(sampleTable());
  m.onRequest(sampleRequest({ method: 'PROPFIND' }));
  m.onRequest(sampleRequest({ method: 'get' }));
  for (let i = 0; i < 50; i++) m.onRequest(sampleRequest({ method: `X${i}` }));
  const text = await m.text();
  t.notMatch(text, /secret\/path/);
  t.notMatch(text, /www\.example\.com/);
  t.notMatch(text, /10\.1\.2\.3/);
  const { samples } = parsePrometheus(text);
  const methods = new Set(find(samples, 'gatehouse_listener_requests_total').map((s) => s.labels.method));
  t.same([...methods].sort(), ['GET', 'OTHER']);
  t.equal(find(samples, 'gatehouse_listener_requests_total', { method: 'OTHER' })[0]?.value, 51);
  t.equal(normaliseMethod('PATCH'), 'PATCH');
  t.equal(normaliseMethod('BREW'), 'OTHER');
});

t.test('hot path reuses prepared children (no new series per request)', async (t) => {
  const m = new Metrics({ version: '1', processMetrics: false });
  m.prepare(sampleTable());
  const tel = new GatewayTelemetry(m, null);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 200_000; i++) tel.onRequest(sampleRequest({ status: i % 2 ? 200 : 404 }));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  t.comment(`200k onRequest in ${ms.toFixed(0)} ms`);
  t.ok(ms < 5000, 'fast enough');
  const { samples } = parsePrometheus(await m.text());
  t.equal(find(samples, 'gatehouse_listener_requests_total', { code: '200' })[0]?.value, 100_000);
  t.equal(find(samples, 'gatehouse_listener_requests_total', { code: '404' })[0]?.value, 100_000);
});

t.test('labels with quotes and backslashes are escaped', async (t) => {
  const m = new Metrics({ version: '1', processMetrics: false });
  m.onBackendError('Backend ns/we"ird\\name', 'reset');
  const { samples } = parsePrometheus(await m.text());
  t.equal(find(samples, 'gatehouse_backend_errors_total', { backend: 'Backend ns/we"ird\\name' })[0]?.value, 1);
});
