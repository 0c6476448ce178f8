import t from 'tap';
import { HISTORY_SECONDS, LiveStats, LiveTelemetry, bucketMid, bucketOf } from '../../src/dashboard/live.js';
import type { RequestRecord, Telemetry } from '../../src/api.js';

function rec(over: Partial<RequestRecord> = {}): RequestRecord {
  return {
    gateway: 'default/gw', listener: 'default/gw/http', route: 'default/www', rule: 0, backend: 'Service default/web:80',
    endpoint: '127.0.0.1:1', method: 'GET', status: 200, durationMs: 1, upstreamMs: 1, bytesIn: 0, bytesOut: 0,
    error: null, host: 'h', path: '/', client: '127.0.0.1', startTime: 0, ...over,
  };
}

t.test('histogram buckets: monotonic, contiguous, within 12.5 %', async (t) => {
  let prev = -1;
  for (let us = 0; us < 70_000_000; us = us < 100 ? us + 1 : Math.ceil(us * 1.01)) {
    const b = bucketOf(us);
    if (b < prev || (prev !== -1 && b - prev > 1)) t.fail(`bucket ${b} after ${prev} at ${us} µs`);
    prev = b;
    if (us >= 8 && b < 199) {
      const err = Math.abs(bucketMid(b) - us) / us;
      if (err > 0.125) t.fail(`bucket ${b} mid ${bucketMid(b)} for ${us}: ${err}`);
    }
  }
  t.ok(prev > 190 && prev < 199, `70 s still has its own bucket (${prev})`);
  t.equal(bucketOf(NaN), 199);
  t.equal(bucketOf(-5), 0);
  t.equal(bucketOf(1e12), 199);
});

t.test('rates, 5xx rate, quantiles and the 60 s ring', async (t) => {
  const live = new LiveStats();
  t.same(live.snapshot().routes, [], 'nothing before a request or a table');
  for (let i = 0; i < 98; i++) live.record(rec({ durationMs: 2 }));
  live.record(rec({ status: 503, durationMs: 100 }));
  live.record(rec({ status: 500, durationMs: 100, route: null, rule: -1, backend: null }));
  live.recordBackendError('Service default/web:80');
  live.tick();
  let s = live.snapshot();
  const l = s.listeners[0]!, r = s.routes[0]!, b = s.backends[0]!;
  t.equal(l.total, 100);
  t.equal(r.total, 99, 'the unmatched request counts for the listener only');
  t.equal(l.rps, 100);
  t.equal(l.errorRate, 0.02);
  t.equal(r.errorRate, 0.0101);
  t.ok(Math.abs(l.p50! - 2) / 2 < 0.13, `p50 ≈ 2 ms: ${l.p50}`);
  t.ok(Math.abs(l.p99! - 100) / 100 < 0.13, `p99 ≈ 100 ms: ${l.p99}`);
  t.equal(b.minute.backendErrors, 1);
  t.equal(l.spark.length, HISTORY_SECONDS);
  t.equal(l.spark[HISTORY_SECONDS - 1], 100, 'newest second last');

  for (let k = 0; k < 4; k++) live.tick();
  s = live.snapshot();
  t.equal(s.listeners[0]!.rps, 20, '100 requests over the 5 s window');
  t.equal(s.listeners[0]!.spark[HISTORY_SECONDS - 5], 100);
  for (let k = 0; k < HISTORY_SECONDS; k++) live.tick();
  s = live.snapshot();
  t.equal(s.listeners[0]!.minute.requests, 0, 'a minute later the window is empty');
  t.equal(s.listeners[0]!.p99, null);
  t.equal(s.listeners[0]!.errorRate, null);
  t.equal(s.listeners[0]!.total, 100, 'the total stays');
});

t.test('LiveTelemetry records and forwards every call', async (t) => {
  const calls: string[] = [];
  const inner: Telemetry = {
    prepare: () => void calls.push('prepare'),
    onRequest: () => void calls.push('request'),
    onL4: () => void calls.push('l4'),
    onConnection: () => void calls.push('conn'),
    onBackendError: () => void calls.push('berr'),
    onUdpDatagram: () => void calls.push('udp'),
  };
  const live = new LiveStats();
  const tel = new LiveTelemetry(inner, live);
  tel.prepare({ hash: 'x', ports: [], backends: [{ id: 'Service a/b:1', resolution: 'DNS', protocol: 'http1', endpoints: [] }], certificates: [] });
  tel.onRequest(rec());
  tel.onL4({ gateway: 'g', listener: 'g/tcp', route: 'a/tcp', backend: 'Service a/b:1', endpoint: null, protocol: 'TCP', sni: null, bytesIn: 0, bytesOut: 0, durationMs: 5, result: 'connect_error', client: '', startTime: 0 });
  tel.onConnection('l', 1);
  tel.onBackendError('Service a/b:1', 'reset');
  tel.onUdpDatagram('l', 'in', 'forwarded');
  t.same(calls, ['prepare', 'request', 'l4', 'conn', 'berr', 'udp']);
  live.tick();
  const s = live.snapshot();
  t.same(s.backends.map((b) => [b.id, b.total, b.minute.errors5xx, b.minute.backendErrors]), [
    ['Service a/b:1', 1, 1, 1],
    ['Service default/web:80', 1, 0, 0],
  ]);
  t.same(s.routes.map((r) => r.id), ['a/tcp', 'default/www']);
});
