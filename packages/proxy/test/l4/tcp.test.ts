import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import t from 'tap';
import { TcpPortServer } from '../../src/listeners/tcp.js';
import { backend, context, l4Port, l4Route, ref, sleep, table, tcpEchoServer, waitFor } from './helpers.js';

/** Connect, send, wait for `expect` bytes (or close), return what came back and how it ended. */
function exchange(
  port: number,
  data: string,
  opts: { halfClose?: boolean; expect?: number; timeoutMs?: number } = {},
): Promise<{ data: string; ended: boolean; error: string | null }> {
  return new Promise((resolve) => {
    let got = '';
    let ended = false;
    let error: string | null = null;
    const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => {
      s.write(data);
      if (opts.halfClose) s.end();
    });
    const done = (): void => {
      clearTimeout(timer);
      s.destroy();
      resolve({ data: got, ended, error });
    };
    const timer = setTimeout(done, opts.timeoutMs ?? 3000);
    s.on('data', (d) => {
      got += d.toString();
      if (opts.expect !== undefined && got.length >= opts.expect) done();
    });
    s.on('end', () => {
      ended = true;
      s.end();
    });
    s.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    s.on('close', done);
  });
}

/**
 * A backend that writes the chunks `next()` returns (null: done, then FIN) with back-pressure, behind a
 * TCPRoute; returns a client connected through the proxy. Both are closed at the end of the test.
 */
async function throughProducer(t: { teardown(fn: () => unknown): void }, name: string, next: () => Buffer | null): Promise<net.Socket> {
  const producer = net.createServer((s) => {
    s.on('error', () => {});
    const pump = (): void => {
      for (let chunk = next(); chunk !== null; chunk = next()) {
        if (!s.write(chunk)) {
          s.once('drain', pump);
          return;
        }
      }
      s.end();
    };
    pump();
  });
  await new Promise<void>((r) => producer.listen(0, '127.0.0.1', r));
  const srv = new TcpPortServer(
    l4Port('TCP', l4Route(`default/${name}`, 'TCPRoute', [ref(0)])),
    context(table([backend(`Service default/${name}:9`, [(producer.address() as net.AddressInfo).port])])),
  );
  await srv.listen();
  t.teardown(async () => {
    await srv.close(0);
    producer.close();
  });
  const c = net.connect({ port: srv.boundPort(), host: '127.0.0.1' });
  c.on('error', () => {});
  return c;
}

t.test('TCP echo through the proxy, with weights', async (t) => {
  const a = await tcpEchoServer();
  const b = await tcpEchoServer();
  const ctx = context(table([backend('Service default/a:7', [a.port]), backend('Service default/b:7', [b.port])]));
  const srv = new TcpPortServer(l4Port('TCP', l4Route('default/echo', 'TCPRoute', [ref(0, 3), ref(1, 1)])), ctx);
  await srv.listen();
  t.teardown(async () => {
    await srv.close(0);
    await a.close();
    await b.close();
  });
  const r = await exchange(srv.boundPort(), 'ping', { expect: 4 });
  t.equal(r.data, 'ping', 'echoed');
  for (let i = 0; i < 7; i++) await exchange(srv.boundPort(), 'x', { expect: 1 });
  t.same([a.connections, b.connections], [6, 2], '3:1 over 8 connections');
  await waitFor(() => ctx.telemetry.l4.length === 8, 2000, 'records');
  const rec = ctx.telemetry.l4[0]!;
  t.equal(rec.protocol, 'TCP');
  t.equal(rec.route, 'default/echo');
  t.equal(rec.bytesIn, 4);
  t.equal(rec.bytesOut, 4);
  t.equal(ctx.telemetry.connections.get('default/gw/tcp'), 0, 'gauge back to zero');
});

t.test('half-close: the client FIN reaches the backend, which still answers', async (t) => {
  const be = await tcpEchoServer({ halfClose: true });
  const srv = new TcpPortServer(
    l4Port('TCP', l4Route('default/hc', 'TCPRoute', [ref(0)])),
    context(table([backend('Service default/hc:7', [be.port])])),
  );
  await srv.listen();
  t.teardown(async () => {
    await srv.close(0);
    await be.close();
  });
  const payload = 'y'.repeat(200_000);
  const r = await exchange(srv.boundPort(), payload, { halfClose: true });
  t.equal(r.data, 'bytes=200000', 'the backend saw every byte and the FIN, then answered');
  t.ok(r.ended, 'and its FIN came back');
  t.equal(r.error, null);
});

t.test('rejections: invalid backend share, no route, refused endpoint', async (t) => {
  const be = await tcpEchoServer();
  const ctx = context(table([backend('Service default/ok:7', [be.port])]));
  const srv = new TcpPortServer(l4Port('TCP', l4Route('default/r', 'TCPRoute', [ref(0, 1), ref(-1, 1)])), ctx);
  await srv.listen();
  t.teardown(async () => {
    await srv.close(0);
    await be.close();
  });
  const results: string[] = [];
  for (let i = 0; i < 6; i++) {
    const r = await exchange(srv.boundPort(), 'z', { expect: 1 });
    results.push(r.data === 'z' ? 'ok' : 'rejected');
  }
  t.same(results.sort(), ['ok', 'ok', 'ok', 'rejected', 'rejected', 'rejected'], 'half rejected');
  t.equal(be.connections, 3, 'rejected connections never reached the backend');
  await waitFor(() => ctx.telemetry.l4.filter((r) => r.result === 'backend_invalid').length === 3, 2000, 'records');

  // No route at all: every connection is rejected.
  srv.update(l4Port('TCP', null), context(table([])));
  const r = await exchange(srv.boundPort(), 'z', { timeoutMs: 1000 });
  t.equal(r.data, '', 'no route: nothing answered');
  t.ok(r.error === 'ECONNRESET' || r.ended, 'and the connection is closed');

  // An endpoint that refuses: connect_error, backend error reported, client rejected.
  const closed = net.createServer();
  await new Promise<void>((res) => closed.listen(0, '127.0.0.1', res));
  const deadPort = (closed.address() as net.AddressInfo).port;
  await new Promise<void>((res) => closed.close(() => res()));
  const ctx3 = context(table([backend('Service default/dead:7', [deadPort])]));
  srv.update(l4Port('TCP', l4Route('default/r', 'TCPRoute', [ref(0)])), ctx3);
  const r3 = await exchange(srv.boundPort(), 'z', { timeoutMs: 1000 });
  t.equal(r3.data, '');
  await waitFor(() => ctx3.telemetry.l4.length === 1, 2000, 'record');
  t.equal(ctx3.telemetry.l4[0]!.result, 'connect_error');
  t.same(ctx3.telemetry.backendErrors, [{ backend: 'Service default/dead:7', reason: 'connect_refused' }]);
  t.same(ctx3.resolver.failures, [`127.0.0.1:${deadPort}`], 'failure reported to the resolver');

  // Two endpoints, the first refusing: the connection is retried on the next one.
  const ctx4 = context(table([backend('Service default/mixed:7', [deadPort, be.port])]));
  srv.update(l4Port('TCP', l4Route('default/r', 'TCPRoute', [ref(0)])), ctx4);
  const r4 = await exchange(srv.boundPort(), 'again', { expect: 5 });
  t.equal(r4.data, 'again', 'served by the endpoint that accepts');
  t.same(ctx4.telemetry.backendErrors.map((e) => e.reason), ['connect_refused']);
});

t.test('reload keeps an established connection; a removed route closes it on the next sweep', async (t) => {
  const a = await tcpEchoServer();
  const b = await tcpEchoServer();
  const tbl = table([backend('Service default/a:7', [a.port]), backend('Service default/b:7', [b.port])]);
  const srv = new TcpPortServer(l4Port('TCP', l4Route('default/r', 'TCPRoute', [ref(0)])), context(tbl), {
    idleTimeoutMs: 60_000,
    sweepIntervalMs: 50,
  });
  await srv.listen();
  t.teardown(async () => {
    await srv.close(0);
    await a.close();
    await b.close();
  });
  const s = net.connect({ port: srv.boundPort(), host: '127.0.0.1' });
  s.on('error', () => {});
  let got = '';
  s.on('data', (d) => (got += d.toString()));
  let closed = false;
  s.on('close', () => (closed = true));
  s.write('one');
  await waitFor(() => got === 'one', 2000, 'first echo');

  // Same route name, new weights pointing at b: the open connection stays on a; new ones go to b.
  srv.update(l4Port('TCP', l4Route('default/r', 'TCPRoute', [ref(1)])), context(tbl));
  await sleep(150);
  s.write('two');
  await waitFor(() => got === 'onetwo', 2000, 'echo after reload');
  t.equal(closed, false, 'still open after the reload');
  t.same([a.connections, b.connections], [1, 0]);
  const r = await exchange(srv.boundPort(), 'new', { expect: 3 });
  t.equal(r.data, 'new');
  t.same([a.connections, b.connections], [1, 1], 'new connections use the new config');

  // The route disappears: the old connection is closed by the sweep.
  srv.update(l4Port('TCP', l4Route('default/other', 'TCPRoute', [ref(1)])), context(tbl));
  await waitFor(() => closed, 2000, 'orphaned connection closed');
  t.pass('closed after its route was removed');
});

t.test('idle connections are closed by the sweep', async (t) => {
  const be = await tcpEchoServer();
  const ctx = context(table([backend('Service default/idle:7', [be.port])]));
  const srv = new TcpPortServer(l4Port('TCP', l4Route('default/r', 'TCPRoute', [ref(0)])), ctx, {
    idleTimeoutMs: 300,
    sweepIntervalMs: 50,
  });
  await srv.listen();
  t.teardown(async () => {
    await srv.close(0);
    await be.close();
  });
  const start = Date.now();
  const r = await exchange(srv.boundPort(), 'hi', { timeoutMs: 3000 });
  const took = Date.now() - start;
  t.equal(r.data, 'hi');
  t.ok(took >= 250 && took < 2000, `closed after ~300 ms idle (${took} ms)`);
  await waitFor(() => ctx.telemetry.l4.length === 1, 2000, 'record');
  t.equal(ctx.telemetry.l4[0]!.result, 'idle_timeout');
});

t.test('close(drainMs) waits for connections, then destroys them', async (t) => {
  const be = await tcpEchoServer();
  const srv = new TcpPortServer(
    l4Port('TCP', l4Route('default/r', 'TCPRoute', [ref(0)])),
    context(table([backend('Service default/d:7', [be.port])])),
  );
  await srv.listen();
  t.teardown(() => be.close());
  const s = net.connect({ port: srv.boundPort(), host: '127.0.0.1' });
  s.on('error', () => {});
  let got = '';
  s.on('data', (d) => (got += d.toString()));
  s.write('a');
  await waitFor(() => got === 'a', 2000, 'echo');
  const start = Date.now();
  await srv.close(300);
  const took = Date.now() - start;
  t.ok(took >= 250 && took < 2000, `waited for the drain (${took} ms)`);
  t.equal(srv.connectionCount(), 0);
  const refused = await new Promise<boolean>((resolve) => {
    const c = net.connect({ port: srv.boundPort() || 1, host: '127.0.0.1' });
    c.on('error', () => resolve(true));
    c.on('connect', () => {
      c.destroy();
      resolve(false);
    });
  });
  t.ok(refused, 'no longer accepting');
});

t.test('back-pressure: a client that stops reading stalls the backend instead of growing proxy memory', async (t) => {
  const total = 96 * 1024 * 1024;
  let flushedAtStall = -1;
  let sent = 0;
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const c = await throughProducer(t, 'bp', () => {
    if (sent >= total) return null;
    sent += chunk.length;
    return chunk;
  });
  c.pause();
  await sleep(800);
  flushedAtStall = sent;
  t.ok(flushedAtStall < total / 2, `the producer stalled after ${(flushedAtStall / 1048576).toFixed(1)} MiB of ${total / 1048576}`);
  // Now read everything: it all arrives, in order and complete.
  let received = 0;
  c.on('data', (d) => (received += d.length));
  c.resume();
  await waitFor(() => received === total, 20_000, 'all bytes');
  t.equal(received, total, 'every byte delivered once the client reads');
  c.destroy();
});

t.test('limits.maxConnections caps a TCP port too: the connection over the cap is closed at once', async (t) => {
  const { setDefaultLimits } = await import('../../src/limits.js');
  setDefaultLimits({ maxConnections: 2 });
  t.teardown(() => setDefaultLimits({}));
  const a = await tcpEchoServer();
  const ctx = context(table([backend('Service default/a:7', [a.port])]));
  const srv = new TcpPortServer(l4Port('TCP', l4Route('default/echo', 'TCPRoute', [ref(0)])), ctx);
  await srv.listen();
  t.teardown(async () => {
    await srv.close(0);
    await a.close();
  });
  const open = async (): Promise<net.Socket> => {
    const s = net.connect(srv.boundPort(), '127.0.0.1');
    s.on('error', () => undefined);
    await new Promise((r) => s.once('connect', r));
    return s;
  };
  const held = [await open(), await open()];
  for (const s of held) {
    s.write('hi');
    await new Promise((r) => s.once('data', r));
  }
  const third = await exchange(srv.boundPort(), 'x', { expect: 1, timeoutMs: 1500 });
  t.equal(third.data, '', 'the third connection gets nothing');
  await waitFor(() => ctx.logger.lines.some((l) => l.msg === 'connection refused: max connections reached'), 2000, 'drop logged');
  held[0].destroy();
  await sleep(100);
  const again = await exchange(srv.boundPort(), 'ok', { expect: 2 });
  t.equal(again.data, 'ok', 'a slot freed: served again');
  held[1].destroy();
});

t.test('bulk upstream → client: every byte arrives intact and in order through the recycled read buffers, with a slow reader', async (t) => {
  // 24 MiB of random bytes sent in odd-sized writes: a copy reused before its write completed, or chunks
  // written out of order, would change the digest. The client pauses now and then so writes queue up.
  const data = randomBytes(24 * 1024 * 1024);
  const want = createHash('sha256').update(data).digest('hex');
  let off = 0;
  const c = await throughProducer(t, 'bulk', () => {
    if (off >= data.length) return null;
    const n = Math.min(data.length - off, 1000 + ((off * 7919) % 150_000));
    off += n;
    return data.subarray(off - n, off);
  });
  const hash = createHash('sha256');
  let received = 0;
  let reads = 0;
  c.on('data', (d) => {
    hash.update(d);
    received += d.length;
    if (++reads % 32 === 0) {
      c.pause();
      setTimeout(() => c.resume(), 30);
    }
  });
  // start paused: the kernel buffers fill and the proxy's writes queue in user space, where a copy
  // recycled too early would be overwritten by the next read
  c.pause();
  setTimeout(() => c.resume(), 300);
  const ended = new Promise<void>((r) => c.once('end', r));
  await Promise.race([ended, sleep(20_000)]);
  t.equal(received, data.length, 'every byte');
  t.equal(hash.digest('hex'), want, 'the same bytes, in order');
  c.destroy();
});
