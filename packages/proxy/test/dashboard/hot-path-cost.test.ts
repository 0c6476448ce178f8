/**
 * What the dashboard's live numbers cost on the hot path: Metrics.onRequest (what every request
 * already pays) alone, and teed through LiveTelemetry. Prints ns per request; fails only when the
 * added cost is far beyond the expected ~60-70 ns (a regression, e.g. an allocation per request).
 * Takes ~1 s.
 */
import t from 'tap';
import { Metrics, GatewayTelemetry } from '../../src/metrics.js';
import { LiveStats, LiveTelemetry } from '../../src/dashboard/live.js';
import type { RequestRecord, Telemetry } from '../../src/api.js';

const N = 200_000;
const records: RequestRecord[] = Array.from({ length: 64 }, (_, i) => ({
  gateway: 'default/gw', listener: 'default/gw/http', route: `default/r${i % 8}`, rule: 0, backend: `Service default/b${i % 4}:80`,
  endpoint: '127.0.0.1:1', method: 'GET', status: i % 50 === 0 ? 503 : 200, durationMs: 0.2 + (i % 13), upstreamMs: 0.1, bytesIn: 0,
  bytesOut: 10, error: null, host: 'h', path: '/', client: '127.0.0.1', startTime: 0,
}));

function nsPerRequest(tel: Telemetry): number {
  for (let i = 0; i < 20_000; i++) tel.onRequest(records[i & 63]!); // warm up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) tel.onRequest(records[i & 63]!);
  return Number(process.hrtime.bigint() - t0) / N;
}

t.test('live stats add little to the per-request telemetry cost', async (t) => {
  const base: number[] = [], teed: number[] = [];
  for (let round = 0; round < 3; round++) {
    base.push(nsPerRequest(new GatewayTelemetry(new Metrics({ version: 't', processMetrics: false }), null)));
    const live = new LiveStats();
    teed.push(nsPerRequest(new LiveTelemetry(new GatewayTelemetry(new Metrics({ version: 't', processMetrics: false }), null), live)));
    live.tick();
  }
  const b = Math.min(...base), l = Math.min(...teed);
  // The difference of two noisy numbers can be negative: measure LiveStats.record on its own too.
  const alone = new LiveStats();
  const own: number[] = [];
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 20_000; i++) alone.record(records[i & 63]!);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) alone.record(records[i & 63]!);
    own.push(Number(process.hrtime.bigint() - t0) / N);
  }
  const r = Math.min(...own);
  t.comment(`metrics only: ${b.toFixed(0)} ns/request; metrics + live stats: ${l.toFixed(0)} ns/request; LiveStats.record alone: ${r.toFixed(0)} ns`);
  // Loose bound (a shared CI machine is noisy): catches an allocation or a scan per request, not 10 ns.
  t.ok(r < 2000, `LiveStats.record ${r.toFixed(0)} ns < 2 µs per request`);

  const live = new LiveStats();
  for (let i = 0; i < 64; i++) live.record(records[i]!);
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < 100; k++) live.tick();
  const tickUs = Number(process.hrtime.bigint() - t0) / 100 / 1000;
  const t1 = process.hrtime.bigint();
  for (let k = 0; k < 100; k++) JSON.stringify(live.snapshot());
  const snapUs = Number(process.hrtime.bigint() - t1) / 100 / 1000;
  t.comment(`once a second, admin side (13 series): tick ${tickUs.toFixed(1)} µs, snapshot+JSON ${snapUs.toFixed(1)} µs`);
  t.ok(tickUs < 5000 && snapUs < 20000);
});
