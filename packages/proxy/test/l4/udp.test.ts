import dgram from 'node:dgram';
import t from 'tap';
import { UdpPortServer } from '../../src/listeners/udp.js';
import { backend, context, l4Port, l4Route, ref, sleep, table, udpEchoServer, waitFor } from './helpers.js';

/** A UDP client bound to its own port; collects replies. */
async function udpClient(): Promise<{ send(port: number, msg: string): void; replies: string[]; close(): Promise<void> }> {
  const s = dgram.createSocket('udp4');
  const replies: string[] = [];
  s.on('message', (m) => replies.push(m.toString()));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return {
    send: (port, msg) => s.send(msg, port, '127.0.0.1'),
    replies,
    close: () => new Promise<void>((r) => s.close(() => r())),
  };
}

t.test('UDP echo round trip; two clients get their own replies and sessions', async (t) => {
  const be = await udpEchoServer('be');
  const ctx = context(table([backend('Service default/dns:53', [be.port])]));
  const srv = new UdpPortServer(l4Port('UDP', l4Route('default/dns', 'UDPRoute', [ref(0)])), ctx);
  await srv.listen();
  const c1 = await udpClient();
  const c2 = await udpClient();
  t.teardown(async () => {
    await c1.close();
    await c2.close();
    await srv.close(0);
    await be.close();
  });
  const p = srv.boundPort();
  c1.send(p, 'one');
  c2.send(p, 'two');
  await waitFor(() => c1.replies.length === 1 && c2.replies.length === 1, 2000, 'replies');
  c1.send(p, 'three');
  await waitFor(() => c1.replies.length === 2, 2000, 'second reply');
  t.same(c1.replies, ['be:one', 'be:three'], 'client 1 got its own replies');
  t.same(c2.replies, ['be:two'], 'client 2 got its own reply');
  t.equal(srv.sessionCount(), 2, 'one session per client');
  t.equal(be.peers.size, 2, 'each session has its own upstream socket');
  t.equal(ctx.telemetry.udp.filter((u) => u.direction === 'in' && u.result === 'forwarded').length, 3);
  await waitFor(() => ctx.telemetry.udp.filter((u) => u.direction === 'out' && u.result === 'forwarded').length === 3, 1000, 'out counts');
  t.equal(ctx.telemetry.connections.get('default/gw/udp'), 2);
});

t.test('sessions expire when idle; the next datagram opens a new one', async (t) => {
  const be = await udpEchoServer('be');
  const ctx = context(table([backend('Service default/dns:53', [be.port])]));
  const srv = new UdpPortServer(l4Port('UDP', l4Route('default/dns', 'UDPRoute', [ref(0)])), ctx, {
    idleTimeoutMs: 300,
    sweepIntervalMs: 50,
  });
  await srv.listen();
  const c = await udpClient();
  t.teardown(async () => {
    await c.close();
    await srv.close(0);
    await be.close();
  });
  c.send(srv.boundPort(), 'a');
  await waitFor(() => c.replies.length === 1, 2000, 'reply');
  t.equal(srv.sessionCount(), 1);
  await waitFor(() => srv.sessionCount() === 0, 2000, 'expiry');
  t.equal(ctx.telemetry.l4.length, 1, 'one record for the expired session');
  const rec = ctx.telemetry.l4[0]!;
  t.equal(rec.protocol, 'UDP');
  t.equal(rec.result, 'ok');
  t.equal(rec.bytesIn, 1);
  t.equal(rec.bytesOut, 4);
  t.equal(ctx.telemetry.connections.get('default/gw/udp'), 0);
  c.send(srv.boundPort(), 'b');
  await waitFor(() => c.replies.length === 2, 2000, 'reply after expiry');
  t.equal(be.peers.size, 2, 'a new upstream socket for the new session');
});

t.test('invalid backend share is dropped; session limit drops new clients and logs once', async (t) => {
  const be = await udpEchoServer('be');
  const ctx = context(table([backend('Service default/dns:53', [be.port])]));
  const srv = new UdpPortServer(l4Port('UDP', l4Route('default/dns', 'UDPRoute', [ref(0, 1), ref(-1, 1)])), ctx, {
    maxSessions: 2,
  });
  await srv.listen();
  const clients = await Promise.all([udpClient(), udpClient(), udpClient(), udpClient()]);
  t.teardown(async () => {
    for (const c of clients) await c.close();
    await srv.close(0);
    await be.close();
  });
  const p = srv.boundPort();
  // Weighted 1:1 with an invalid ref: the first pick is valid, the second dropped, and so on.
  clients[0]!.send(p, 'x');
  clients[1]!.send(p, 'x');
  clients[1]!.send(p, 'x');
  await waitFor(() => clients[0]!.replies.length === 1 && clients[1]!.replies.length === 1, 2000, 'replies');
  t.equal(ctx.telemetry.udp.filter((u) => u.direction === 'in' && u.result === 'dropped').length, 1, 'one datagram dropped');
  t.equal(srv.sessionCount(), 2);
  // Limit reached: new clients are dropped, logged once.
  clients[2]!.send(p, 'x');
  clients[3]!.send(p, 'x');
  clients[2]!.send(p, 'x');
  await sleep(100);
  t.equal(clients[2]!.replies.length + clients[3]!.replies.length, 0, 'no replies beyond the limit');
  t.equal(ctx.logger.lines.filter((l) => l.msg.startsWith('UDP session limit')).length, 1, 'logged once');
  t.equal(be.received, 2);
});

t.test('reload: a session whose route remains keeps its backend; a removed route ends it', async (t) => {
  const a = await udpEchoServer('a');
  const b = await udpEchoServer('b');
  const tbl = table([backend('Service default/a:53', [a.port]), backend('Service default/b:53', [b.port])]);
  const srv = new UdpPortServer(l4Port('UDP', l4Route('default/r', 'UDPRoute', [ref(0)])), context(tbl), {
    sweepIntervalMs: 50,
  });
  await srv.listen();
  const c = await udpClient();
  const c2 = await udpClient();
  t.teardown(async () => {
    await c.close();
    await c2.close();
    await srv.close(0);
    await a.close();
    await b.close();
  });
  const p = srv.boundPort();
  c.send(p, '1');
  await waitFor(() => c.replies.length === 1, 2000, 'reply');
  srv.update(l4Port('UDP', l4Route('default/r', 'UDPRoute', [ref(1)])), context(tbl));
  await sleep(120);
  c.send(p, '2');
  c2.send(p, '3');
  await waitFor(() => c.replies.length === 2 && c2.replies.length === 1, 2000, 'replies');
  t.same(c.replies, ['a:1', 'a:2'], 'the established session stays on its backend');
  t.same(c2.replies, ['b:3'], 'a new session uses the new config');
  srv.update(l4Port('UDP', l4Route('default/gone', 'UDPRoute', [ref(1)])), context(tbl));
  await waitFor(() => srv.sessionCount() === 0, 2000, 'sessions of the removed route closed');
  t.pass('closed on the sweep');
});
