import t from 'tap';
import { EventEmitter } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessLog, IsoTime, SyncFileSink, RequestLineWriter, requestLogObject, type AccessLogSink } from '../../src/access-log.js';
import type { RequestRecord } from '../../src/api.js';
import { sampleRequest } from './helpers.js';

class MemorySink extends EventEmitter implements AccessLogSink {
  writes: string[] = [];
  full = false;
  write(chunk: Uint8Array, cb?: (err?: Error | null) => void): boolean {
    this.writes.push(Buffer.from(chunk).toString('utf8'));
    setImmediate(() => cb?.());
    return !this.full;
  }
}

const FIELDS = ['time', 'gateway', 'listener', 'route', 'rule', 'backend', 'endpoint', 'method', 'host', 'path', 'status', 'duration_ms', 'upstream_ms', 'bytes_in', 'bytes_out', 'error', 'client'];

t.test('JSON lines with every documented field, batched into one write', async (t) => {
  const sink = new MemorySink();
  const log = new AccessLog({ format: 'json', sink, flushMs: 20 });
  log.request(sampleRequest());
  log.request(sampleRequest({ status: 404, route: null, rule: -1, backend: null, endpoint: null, upstreamMs: -1, error: 'no_route' }));
  log.l4({ gateway: 'default/gw', listener: 'default/gw/tls', route: 'default/pt', backend: 'Service default/db:5432', endpoint: '127.0.0.1:5432', protocol: 'TLS', sni: 'db.example.com', bytesIn: 10, bytesOut: 20, durationMs: 1000, result: 'ok', client: '127.0.0.1', startTime: Date.now() });
  t.equal(sink.writes.length, 0, 'nothing written synchronously');
  await new Promise((r) => setTimeout(r, 80));
  t.equal(sink.writes.length, 1, 'one write per batch');
  const lines = sink.writes[0].split('\n');
  t.equal(lines.pop(), '', 'ends with a newline');
  t.equal(lines.length, 3);
  const a = JSON.parse(lines[0]);
  t.same(Object.keys(a), FIELDS, 'fields in the documented order');
  t.equal(a.time, '2026-11-26T12:00:00.000Z');
  t.equal(a.status, 200);
  t.equal(a.duration_ms, 12.5);
  t.equal(a.upstream_ms, 10.25);
  t.equal(a.path, '/secret/path?q=1');
  const b = JSON.parse(lines[1]);
  t.equal(b.route, null);
  t.equal(b.error, 'no_route');
  t.equal(b.upstream_ms, -1);
  const c = JSON.parse(lines[2]);
  t.equal(c.protocol, 'TLS');
  t.equal(c.sni, 'db.example.com');
  t.equal(c.result, 'ok');
});

t.test('flushes at the size threshold', async (t) => {
  const sink = new MemorySink();
  const log = new AccessLog({ format: 'json', sink, flushMs: 10_000, flushBytes: 1000 });
  for (let i = 0; i < 10; i++) log.request(sampleRequest());
  t.ok(sink.writes.length >= 1, 'flushed without waiting for the timer');
  await log.close();
});

t.test('back-pressure: drops and counts beyond the bound, resumes on drain', async (t) => {
  const sink = new MemorySink();
  sink.full = true;
  let drops = 0;
  const log = new AccessLog({ format: 'json', sink, flushMs: 5, flushBytes: 100, maxBufferBytes: 5000, onDrop: () => drops++ });
  for (let i = 0; i < 200; i++) log.request(sampleRequest());
  t.ok(log.dropped > 0, `dropped ${log.dropped}`);
  t.equal(drops, log.dropped);
  t.ok(log.lines + log.dropped === 200);
  t.equal(sink.writes.length, 1, 'waits for drain after a write returned false');
  sink.full = false;
  await new Promise((r) => setTimeout(r, 20));
  sink.emit('drain');
  await log.close();
  const total = sink.writes.join('').split('\n').filter(Boolean).length;
  t.equal(total, log.lines, 'every accepted line written');
});

t.test('pretty: one human line, no colour when asked', async (t) => {
  const sink = new MemorySink();
  const log = new AccessLog({ format: 'pretty', sink, color: false, flushMs: 5 });
  log.request(sampleRequest());
  await log.close();
  const line = sink.writes.join('');
  t.match(line, /^2026-11-26T12:00:00\.000Z 10\.1\.2\.3 GET www\.example\.com\/secret\/path\?q=1 200 12\.5ms/);
  t.match(line, /default\/web#0/);
  t.notMatch(line, /\x1b\[/);
  t.equal(line.split('\n').length, 2);
  const coloured = new MemorySink();
  const log2 = new AccessLog({ format: 'pretty', sink: coloured, color: true, flushMs: 5 });
  log2.request(sampleRequest({ status: 502 }));
  await log2.close();
  t.match(coloured.writes.join(''), /\x1b\[31m502/);
});

t.test('off writes nothing', async (t) => {
  const log = new AccessLog({ format: 'off' });
  t.equal(log.enabled, false);
  log.request(sampleRequest());
  await log.close();
  t.equal(log.lines, 0);
});

t.test('real file sink via fs.WriteStream', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-al-'));
  const file = join(dir, 'access.log');
  const stream = createWriteStream(file);
  const log = new AccessLog({ format: 'json', sink: stream, flushMs: 5 });
  for (let i = 0; i < 1000; i++) log.request(sampleRequest({ bytesOut: i }));
  await log.close();
  await new Promise<void>((r) => stream.end(r));
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  t.equal(lines.length, 1000);
  t.equal(JSON.parse(lines[999]).bytes_out, 999);
});

t.test('maxWriteBytes splits a batch at line boundaries (cluster workers sharing a pipe)', async (t) => {
  const sink = new MemorySink();
  const log = new AccessLog({ format: 'json', sink, flushMs: 5, maxWriteBytes: 4096 });
  for (let i = 0; i < 100; i++) log.request(sampleRequest({ bytesOut: i }));
  await log.close();
  t.ok(sink.writes.length > 1, `${sink.writes.length} writes`);
  for (const w of sink.writes) {
    t.ok(w.length <= 4096, 'each write fits PIPE_BUF');
    t.ok(w.endsWith('\n'), 'each write ends at a line boundary');
  }
  const lines = sink.writes.join('').trim().split('\n');
  t.equal(lines.length, 100);
  t.equal(JSON.parse(lines[99]).bytes_out, 99);
});

t.test('the request line writer writes exactly what JSON.stringify writes', async (t) => {
  // a seeded generator, so a failure names a record that can be replayed
  let seed = 20261127;
  const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const strings = ['', 'default/web', 'a"b', 'back\\slash', 'tab\tnew\nline', '\u0000\u001f\u007f', 'caf\u00e9 \u4e2d\u6587', '\ud83d\ude00 pair', 'lone \ud800 high', 'lone \udc00 low', '/p?q=%22x%22&y=<>', 'x'.repeat(300)];
  const numbers = [0, 0.0004, 0.0005, 0.0015, 1, 1.25, 12.5, 0.1 + 0.2, 123.4567, 999.9995, 1e-7, 86_400_000.123456, 2 ** 40 + 0.5, NaN, Infinity];
  const writer = new RequestLineWriter();
  let checked = 0;
  for (let i = 0; i < 5000; i++) {
    const r: RequestRecord = {
      gateway: pick(strings), listener: pick(strings), route: rnd() < 0.2 ? null : pick(strings), rule: Math.floor(rnd() * 5) - 1,
      backend: rnd() < 0.2 ? null : pick(strings), endpoint: rnd() < 0.2 ? null : pick(strings), method: pick(['GET', 'POST', 'M"', 'DELETE']),
      status: pick([200, 404, 502]), durationMs: rnd() < 0.5 ? pick(numbers) : rnd() * 10 ** Math.floor(rnd() * 8),
      upstreamMs: rnd() < 0.2 ? -1 : rnd() < 0.5 ? pick(numbers) : rnd() * 100, bytesIn: Math.floor(rnd() * 1e6), bytesOut: Math.floor(rnd() * 1e9),
      error: rnd() < 0.5 ? null : pick(['no_route', 'timeout', 'q"uote']), host: pick(strings), path: pick(strings), client: pick(['127.0.0.1', '::1', 'fe80::1%eth0']),
      startTime: pick([0, Date.UTC(2026, 10, 27, 2, 59, 59, 999), Date.UTC(2026, 10, 27, 3, 0, 0, 0), Math.floor(rnd() * 4e12), -1, 253402300800000]),
    };
    if (rnd() < 0.5) r.requestId = pick(strings);
    const want = JSON.stringify(requestLogObject(r));
    const got = writer.line(r);
    if (got !== want) {
      t.equal(got, want, `record ${i}: ${JSON.stringify(r)}`);
      return;
    }
    checked++;
  }
  t.equal(checked, 5000, 'every generated record written identically');
});

t.test('IsoTime formats like toISOString across seconds, days and odd years', async (t) => {
  const time = new IsoTime();
  const instants = [0, 999, 1000, 1001, Date.UTC(2026, 11, 31, 23, 59, 59, 999), Date.UTC(2027, 0, 1), -1, -1001, 253402300799999, 253402300800000, -62167219200001, 1.7];
  for (const i of instants) t.equal(time.format(i), new Date(i).toISOString(), `instant ${i}`);
});

t.test('a chunk handed to the sink is not touched until the sink is done with it', async (t) => {
  // keeps each chunk by reference with a copy of its bytes at write time, and calls back later
  const held: { chunk: Uint8Array; copy: Buffer }[] = [];
  const changed: number[] = [];
  const sink = Object.assign(new EventEmitter(), {
    write(chunk: Uint8Array, cb?: (err?: Error | null) => void): boolean {
      const entry = { chunk, copy: Buffer.from(chunk) };
      held.push(entry);
      setTimeout(() => {
        if (!entry.copy.equals(entry.chunk)) changed.push(held.indexOf(entry));
        cb?.();
      }, 5);
      return true;
    },
  });
  const log = new AccessLog({ format: 'json', sink, flushMs: 1, flushBytes: 2000 });
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 30; i++) log.request(sampleRequest({ bytesOut: round * 100 + i }));
    await new Promise((r) => setTimeout(r, 2));
  }
  await log.close();
  t.ok(held.length > 20, `${held.length} writes`);
  t.same(changed, [], 'no chunk changed between its write and its callback');
  const lines = held.map((h) => h.copy.toString('utf8')).join('').trim().split('\n');
  t.equal(lines.length, 600);
  t.same(lines.map((l) => JSON.parse(l).bytes_out), Array.from({ length: 600 }, (_, i) => Math.floor(i / 30) * 100 + (i % 30)), 'every line, in order');
});

t.test('long and non-ASCII lines are written whole', async (t) => {
  const sink = new MemorySink();
  const log = new AccessLog({ format: 'json', sink, flushMs: 5, flushBytes: 1000 });
  const long = '/' + 'a'.repeat(200_000);
  log.request(sampleRequest({ path: '/caf\u00e9/\u4e2d\u6587/\ud83d\ude00' }));
  log.request(sampleRequest({ path: long }));
  log.request(sampleRequest({ path: '/after' }));
  await log.close();
  const lines = sink.writes.join('').trim().split('\n');
  t.same(lines.map((l) => JSON.parse(l).path), ['/caf\u00e9/\u4e2d\u6587/\ud83d\ude00', long, '/after']);
});

t.test('SyncFileSink: batches written to the file at once; a failing fd loses its batch, counted, without throwing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-alsync-'));
  const file = join(dir, 'access.log');
  const fd = openSync(file, 'a');
  t.teardown(() => closeSync(fd));
  const sink = new SyncFileSink(fd);
  const log = new AccessLog({ format: 'json', sink, flushMs: 10_000, flushBytes: 4096 });
  for (let i = 0; i < 500; i++) log.request(sampleRequest({ bytesOut: i }));
  // size-triggered flushes are written before request() returns: no timer, no thread pool
  const early = readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
  t.ok(early > 400, `${early} lines on disk before any timer`);
  await log.close();
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  t.same(lines.map((l) => JSON.parse(l).bytes_out), Array.from({ length: 500 }, (_, i) => i));
  const bad = new SyncFileSink(-1);
  t.equal(bad.write(Buffer.from('x\n')), true);
  t.equal(bad.failedWrites, 1);
});

t.test('SyncFileSink: a slow write moves it to a non-blocking stream on the same fd, and no line is lost', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-alslow-'));
  const file = join(dir, 'access.log');
  const fd = openSync(file, 'a');
  t.teardown(() => closeSync(fd));
  // a threshold of -1 ms makes the first write "slow", as a stalled disk would
  const sink = new SyncFileSink(fd, -1);
  const log = new AccessLog({ format: 'json', sink, flushMs: 10_000, flushBytes: 4096 });
  for (let i = 0; i < 5; i++) log.request(sampleRequest({ bytesOut: i }));
  t.equal(sink.stream, null, 'nothing written yet: still synchronous');
  for (let i = 5; i < 500; i++) log.request(sampleRequest({ bytesOut: i }));
  t.not(sink.stream, null, 'after the slow write the sink writes through a stream');
  const early = readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
  t.ok(early < 500, `only the first batch was written synchronously (${early} lines on disk)`);
  await log.close();
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  t.same(lines.map((l) => JSON.parse(l).bytes_out), Array.from({ length: 500 }, (_, i) => i), 'every line, in order');
  // a fast disk never switches
  const fast = new SyncFileSink(fd, 60_000);
  fast.write(Buffer.from(''));
  t.equal(fast.stream, null);
});
