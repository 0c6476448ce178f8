import t from 'tap';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessLog, type AccessLogSink } from '../../src/access-log.js';
import { sampleRequest } from './helpers.js';

class MemorySink extends EventEmitter implements AccessLogSink {
  writes: string[] = [];
  full = false;
  write(chunk: string, cb?: (err?: Error | null) => void): boolean {
    this.writes.push(chunk);
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
