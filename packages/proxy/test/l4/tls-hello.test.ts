/**
 * Issue 6, TLS passthrough edge cases over real loopback sockets:
 *  - a passthrough connection opened before a reload keeps working when the reload keeps its TLSRoute,
 *    and is closed (by the registry's sweep) when the reload removes the route;
 *  - a real ClientHello (captured from tls.connect) re-framed as two TLS records, the split inside the
 *    SNI, still routes by SNI, whether both records arrive in one segment or in two;
 *  - a client dribbling its ClientHello one byte every 200 ms is closed by the fixed hello deadline
 *    (helloTimeoutMs 300 → well under 1 s). Before 6079e76 the peek used an idle timeout, which every
 *    byte re-armed, so this client was held for the whole hello (~100 s at this rate).
 */
import net from 'node:net';
import tls from 'node:tls';
import t from 'tap';
import { TlsPortServer } from '../../src/listeners/tls-port.js';
import { backend, context, listener, ref, sleep, table, testPki, tlsAsk, tlsNameServer, tlsPort, tlsRoute, waitFor } from './helpers.js';

const pki = testPki();

/** The first TLS record a real `tls.connect` sends (its ClientHello), for `servername`. */
async function captureClientHello(servername: string): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no ClientHello within 3 s')), 3000);
      server.once('connection', (s) => {
        let buf = Buffer.alloc(0);
        s.on('error', () => {});
        s.on('data', (d: Buffer) => {
          buf = Buffer.concat([buf, d]);
          if (buf.length >= 5 && buf.length >= 5 + buf.readUInt16BE(3)) {
            clearTimeout(timer);
            s.destroy();
            resolve(buf.subarray(0, 5 + buf.readUInt16BE(3)));
          }
        });
      });
      const c = tls.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', servername, rejectUnauthorized: false });
      c.on('error', () => {});
    });
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
}

/**
 * One handshake record → two: the handshake bytes cut at `cut` (an offset into the record's payload),
 * each part with its own 5-byte record header (same content type and version).
 */
function splitRecord(record: Buffer, cut: number): [Buffer, Buffer] {
  const payload = record.subarray(5);
  const header = (len: number): Buffer => Buffer.from([record[0], record[1], record[2], len >> 8, len & 0xff]);
  return [
    Buffer.concat([header(cut), payload.subarray(0, cut)]),
    Buffer.concat([header(payload.length - cut), payload.subarray(cut)]),
  ];
}

/**
 * A relay in front of the proxy that re-frames the client's first record (its ClientHello) as two
 * records, split in the middle of the SNI host name, then pipes everything else unchanged. With
 * `gapMs` the two records are written separately, that far apart (two TCP segments); else in one write.
 */
async function splittingRelay(target: number, gapMs: number | null): Promise<{ port: number; splits: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const res = { port: 0, splits: 0, close: async () => {} };
  const server = net.createServer((c) => {
    const u = net.connect({ port: target, host: '127.0.0.1', noDelay: true });
    for (const s of [c, u]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    c.on('error', () => u.destroy());
    u.on('error', () => c.destroy());
    c.on('close', () => u.destroy());
    u.on('close', () => c.destroy());
    u.pipe(c);
    let buf = Buffer.alloc(0);
    const onData = async (d: Buffer): Promise<void> => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 5 || buf.length < 5 + buf.readUInt16BE(3)) return;
      c.removeListener('data', onData);
      c.pause();
      const len = 5 + buf.readUInt16BE(3);
      const record = buf.subarray(0, len);
      const rest = buf.subarray(len);
      // cut inside the server_name extension's host name, so neither record holds the whole SNI
      const at = record.subarray(5).indexOf(Buffer.from('split.example.com'));
      const [r1, r2] = splitRecord(record, at > 0 ? at + 6 : (record.length - 5) >> 1);
      res.splits++;
      u.write(r1);
      if (gapMs !== null) await sleep(gapMs);
      if (u.destroyed) return;
      u.write(r2);
      if (rest.length > 0) u.write(rest);
      c.pipe(u);
      c.resume();
    };
    c.on('data', onData);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  res.port = (server.address() as net.AddressInfo).port;
  res.close = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  return res;
}

t.test('a ClientHello split across two TLS records (inside the SNI) still routes by SNI', async (t) => {
  const hello = await captureClientHello('split.example.com');
  t.equal(hello[0], 22, 'the captured record is a handshake record');
  const [r1, r2] = splitRecord(hello, hello.subarray(5).indexOf(Buffer.from('split.example.com')) + 6);
  t.notOk(r1.includes(Buffer.from('split.example.com')) || r2.includes(Buffer.from('split.example.com')), 'neither record holds the whole name');

  const split = await tlsNameServer('split', pki.leaf(['split.example.com']));
  const other = await tlsNameServer('other', pki.leaf(['*.example.com']));
  const ctx = context(table([backend('Service default/split:443', [split.port]), backend('Service default/other:443', [other.port])]));
  const srv = new TlsPortServer(
    tlsPort(
      [listener('tls', 'TLS', null, 'Passthrough')],
      [tlsRoute('default/split', 'split.example.com', 0, [ref(0)]), tlsRoute('default/other', '*.example.com', 0, [ref(1)])],
    ),
    ctx,
    { helloTimeoutMs: 3000 },
  );
  await srv.listen();
  const oneWrite = await splittingRelay(srv.boundPort(), null);
  const twoWrites = await splittingRelay(srv.boundPort(), 100);
  t.teardown(async () => {
    await oneWrite.close();
    await twoWrites.close();
    await srv.close(0);
    await split.close();
    await other.close();
  });

  const a = await tlsAsk(oneWrite.port, 'split.example.com', 'one');
  t.same(a, { ok: true, answer: 'split:one', peerCN: 'split.example.com' }, 'two records in one segment: routed to the exact-SNI backend, handshake completes');
  const b = await tlsAsk(twoWrites.port, 'split.example.com', 'two');
  t.same(b, { ok: true, answer: 'split:two', peerCN: 'split.example.com' }, 'two records 100 ms apart: same');
  t.same([oneWrite.splits, twoWrites.splits], [1, 1], 'each relay really re-framed one hello');
  t.equal(other.connections, 0, 'the wildcard backend saw nothing');
  await waitFor(() => ctx.telemetry.l4.filter((r) => r.result === 'ok').length === 2, 2000, 'records');
  t.same(ctx.telemetry.l4.map((r) => [r.route, r.sni]), [['default/split', 'split.example.com'], ['default/split', 'split.example.com']], 'records name the route and the SNI');
});

t.test('a client dribbling its ClientHello one byte per 200 ms is closed by the 300 ms hello deadline', async (t) => {
  const hello = await captureClientHello('drip.example.com');
  const be = await tlsNameServer('drip', pki.leaf(['drip.example.com']));
  const ctx = context(table([backend('Service default/drip:443', [be.port])]));
  const srv = new TlsPortServer(
    tlsPort([listener('tls', 'TLS', null, 'Passthrough')], [tlsRoute('default/drip', 'drip.example.com', 0, [ref(0)])]),
    ctx,
    { helloTimeoutMs: 300 },
  );
  await srv.listen();
  t.teardown(async () => {
    await srv.close(0);
    await be.close();
  });
  const { closedMs, sent } = await new Promise<{ closedMs: number; sent: number }>((resolve) => {
    const start = Date.now();
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const s = net.connect({ port: srv.boundPort(), host: '127.0.0.1', noDelay: true }, () => {
      // one byte now and one every 200 ms; bounded by the hello's length and by 3 s
      const drip = (): void => {
        if (s.destroyed || sent >= hello.length || Date.now() - start > 3000) {
          s.destroy();
          return;
        }
        s.write(hello.subarray(sent, sent + 1));
        sent++;
        timer = setTimeout(drip, 200);
      };
      drip();
    });
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ closedMs: Date.now() - start, sent });
    });
  });
  t.ok(closedMs >= 250, `not closed before the deadline (${closedMs} ms)`);
  t.ok(closedMs < 1000, `closed within 1 s of connecting (${closedMs} ms, ${sent} bytes sent)`);
  t.ok(sent <= 5, `the gateway, not the 3 s client bound, ended it (${sent} of ${hello.length} bytes sent)`);
  t.equal(be.connections, 0, 'nothing reached the backend');
  await waitFor(() => ctx.telemetry.l4.length === 1, 2000, 'record');
  t.equal(ctx.telemetry.l4[0]!.result, 'hello_timeout');
});

/** A TLS connection through the proxy that stays open: ask() sends a line and waits for the answer. */
async function openTls(port: number, servername: string): Promise<{ ask(line: string): Promise<string>; closed: () => boolean; close(): void }> {
  const s = tls.connect({ port, host: '127.0.0.1', servername, ca: pki.ca });
  let closed = false;
  s.on('close', () => (closed = true));
  s.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('handshake timeout')), 3000);
    s.once('secureConnect', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return {
    ask: (line) =>
      new Promise<string>((resolve) => {
        if (closed) return resolve('closed');
        const timer = setTimeout(() => resolve('timeout'), 2000);
        s.once('data', (d: Buffer) => {
          clearTimeout(timer);
          resolve(d.toString());
        });
        s.write(line);
      }),
    closed: () => closed,
    close: () => s.destroy(),
  };
}

t.test('reload: a passthrough connection survives a reload that keeps its route; a removed route closes it', async (t) => {
  const cert = pki.leaf(['keep.example.com', 'drop.example.com']);
  const a = await tlsNameServer('a', cert);
  const b = await tlsNameServer('b', cert);
  const tbl = table([backend('Service default/a:443', [a.port]), backend('Service default/b:443', [b.port])]);
  const routes = (keepTo: number, withDrop: boolean) =>
    tlsPort(
      [listener('tls', 'TLS', null, 'Passthrough')],
      [tlsRoute('default/keep', 'keep.example.com', 0, [ref(keepTo)]), ...(withDrop ? [tlsRoute('default/drop', 'drop.example.com', 0, [ref(0)])] : [])],
    );
  const ctx = context(tbl);
  const srv = new TlsPortServer(routes(0, true), ctx, { sweepIntervalMs: 50 });
  await srv.listen();
  const keep = await openTls(srv.boundPort(), 'keep.example.com');
  const drop = await openTls(srv.boundPort(), 'drop.example.com');
  t.teardown(async () => {
    keep.close();
    drop.close();
    await srv.close(0);
    await a.close();
    await b.close();
  });
  t.equal(await keep.ask('1'), 'a:1', 'keep: answered by a before the reload');
  t.equal(await drop.ask('1'), 'a:1', 'drop: answered by a before the reload');

  // Reload 1: default/keep now points at b, default/drop is removed.
  srv.update(routes(1, false), context(tbl));
  await waitFor(() => drop.closed(), 2000, 'the connection of the removed route to be closed');
  t.pass('the connection whose TLSRoute was removed is closed by the sweep');
  await sleep(150); // several sweeps
  t.equal(keep.closed(), false, 'the connection whose route remains is still open');
  t.equal(await keep.ask('2'), 'a:2', 'and still served by the backend it started on, same TLS session');
  t.equal((await tlsAsk(srv.boundPort(), 'keep.example.com', 'new')).ok && 'b', 'b', 'a new connection follows the new config');
  const dropNew = await tlsAsk(srv.boundPort(), 'drop.example.com', 'x');
  t.equal(dropNew.ok, false, 'a new connection for the removed route is refused');
  t.same([a.connections, b.connections], [2, 1], 'only the new keep connection went to b');
  await waitFor(() => ctx.telemetry.l4.length >= 1, 2000, 'record of the closed connection');
  t.same([ctx.telemetry.l4[0]!.route, ctx.telemetry.l4[0]!.result], ['default/drop', 'route_removed'], 'its record says why it was closed');
});
