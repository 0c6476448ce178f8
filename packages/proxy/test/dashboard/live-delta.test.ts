/**
 * `--workers`: each worker's LiveStats reports what changed (takeDelta) and the primary adds it (addDelta).
 * The primary's snapshot must equal the one of a single LiveStats that recorded every request itself.
 */
import { deserialize, serialize } from 'node:v8';
import t from 'tap';
import { LiveStats, type LiveDelta } from '../../src/dashboard/live.js';
import type { RequestRecord } from '../../src/api.js';

function rec(over: Partial<RequestRecord> = {}): RequestRecord {
  return {
    gateway: 'default/gw', listener: 'default/gw/http', route: 'default/www', rule: 0, backend: 'Service default/web:80',
    endpoint: '127.0.0.1:1', method: 'GET', status: 200, durationMs: 1, upstreamMs: 1, bytesIn: 0, bytesOut: 0,
    error: null, host: 'h', path: '/', client: '127.0.0.1', startTime: 0, ...over,
  };
}

/** Through the structured clone IPC uses (advanced serialization) and JSON (the default). */
const overIpc = (d: LiveDelta): LiveDelta => JSON.parse(JSON.stringify(deserialize(serialize(d)))) as LiveDelta;

t.test('two workers reporting to a primary give the same snapshot as one process', async (t) => {
  const w1 = new LiveStats();
  const w2 = new LiveStats();
  const primary = new LiveStats();
  const single = new LiveStats();
  const both = (r: RequestRecord, w: LiveStats) => {
    w.record(r);
    single.record(r);
  };
  for (let i = 0; i < 50; i++) both(rec({ durationMs: 2 + (i % 7) }), w1);
  for (let i = 0; i < 30; i++) both(rec({ durationMs: 40, route: 'default/api', backend: 'Service default/api:80' }), w2);
  both(rec({ status: 503, durationMs: 300 }), w2);
  both(rec({ status: 404, route: null, rule: -1, backend: null }), w1);
  w2.recordBackendError('Service default/api:80');
  single.recordBackendError('Service default/api:80');

  for (const w of [w1, w2]) {
    const d = w.takeDelta();
    t.ok(d !== null, 'a worker with requests has something to report');
    primary.addDelta(overIpc(d!));
  }
  t.equal(w1.takeDelta(), null, 'nothing new: nothing to report');
  primary.tick(1000);
  single.tick(1000);
  const p = primary.snapshot();
  const s = single.snapshot();
  t.same(p.listeners, s.listeners, 'listener series equal');
  t.same(p.routes, s.routes, 'route series equal');
  t.same(p.backends, s.backends, 'backend series equal');
  t.equal(p.listeners[0].total, 82);
  t.equal(p.backends.find((b) => b.id === 'Service default/api:80')?.minute.backendErrors, 1);

  // the next report carries only what came after the previous one
  both(rec({ durationMs: 5 }), w1);
  const d = w1.takeDelta()!;
  t.same(d.listeners.map((x) => [x.id, x.count]), [['default/gw/http', 1]]);
  t.same(d.routes.map((x) => [x.id, x.count]), [['default/www', 1]]);
  primary.addDelta(d);
  primary.tick(2000);
  single.tick(2000);
  t.same(primary.snapshot().routes, single.snapshot().routes, 'still equal after a second report');
});

t.test('addDelta ignores malformed input instead of throwing', async (t) => {
  const live = new LiveStats();
  const bad = {
    listeners: [{ id: 'l', count: -5, errors: Number.NaN, backendErrors: 'x', hist: [9999, 1, -1, 2, 1.5, 3, 10, 2] }, null, { id: 7 }],
    routes: 'nope',
  } as unknown as LiveDelta;
  live.addDelta(bad);
  live.tick();
  const l = live.snapshot().listeners;
  t.equal(l.length, 1);
  t.equal(l[0].total, 0, 'negative and non-numeric counts are not added');
});
