/**
 * Issue 6: weighted L4 backends measured, not sampled. TCPRoute weights over 200 connections (smooth
 * weighted round-robin is exact, so 3:1 is 150/50, not "about"), and UDPRoute weights per session: a
 * session is one client address:port, it picks once, and every datagram of that client reaches the
 * backend it picked. Real loopback sockets throughout.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import t from 'tap';
import { TcpPortServer } from '../../src/listeners/tcp.js';
import { UdpPortServer } from '../../src/listeners/udp.js';
import { backend, context, l4Port, l4Route, ref, table, tcpEchoServer, udpEchoServer, waitFor } from './helpers.js';

/** One connection through the proxy: send `msg`, resolve with the echo (or '' on close/error/timeout). */
function echoOnce(port: number, msg: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const s = net.connect({ port, host: '127.0.0.1' }, () => s.write(msg));
    const done = (): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(got);
    };
    const timer = setTimeout(done, timeoutMs);
    s.on('data', (d) => {
      got += d.toString();
      if (got.length >= msg.length) done();
    });
    s.on('error', () => {});
    s.on('close', done);
  });
}

t.test('TCPRoute weights 3:1 over 200 connections: exactly 150 / 50, every connection echoed', async (t) => {
  const a = await tcpEchoServer();
  const b = await tcpEchoServer();
  const ctx = context(table([backend('Service default/a:7', [a.port]), backend('Service default/b:7', [b.port])]));
  const srv = new TcpPortServer(l4Port('TCP', l4Route('default/w', 'TCPRoute', [ref(0, 3), ref(1, 1)])), ctx);
  await srv.listen();
  t.teardown(async () => {
    await srv.close(0);
    await a.close();
    await b.close();
  });
  const port = srv.boundPort();
  const TOTAL = 200;
  const PARALLEL = 8;
  let next = 0;
  let echoed = 0;
  const worker = async (): Promise<void> => {
    while (next < TOTAL) {
      const i = next++;
      if ((await echoOnce(port, `m${i}`)) === `m${i}`) echoed++;
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  t.equal(echoed, TOTAL, 'every connection got its own bytes back');
  t.same({ a: a.connections, b: b.connections }, { a: 150, b: 50 }, 'backend connection counts are exactly 3:1');
  await waitFor(() => ctx.telemetry.l4.length === TOTAL, 3000, 'one L4 record per connection');
  t.equal(ctx.telemetry.l4.filter((r) => r.result === 'ok').length, TOTAL, 'all records ok');
  t.same(
    { a: ctx.telemetry.l4.filter((r) => r.backend === 'Service default/a:7').length, b: ctx.telemetry.l4.filter((r) => r.backend === 'Service default/b:7').length },
    { a: 150, b: 50 },
    'the records name the same split',
  );
});

/** A UDP client on its own port; collects replies. */
async function udpClient(): Promise<{ port: number; send(port: number, msg: string): void; replies: string[]; close(): Promise<void> }> {
  const s = dgram.createSocket('udp4');
  const replies: string[] = [];
  s.on('message', (m) => replies.push(m.toString()));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return {
    port: s.address().port,
    send: (port, msg) => s.send(msg, port, '127.0.0.1'),
    replies,
    close: () => new Promise<void>((r) => s.close(() => r())),
  };
}

for (const [wa, wb, clients] of [
  [1, 1, 20],
  [3, 1, 40],
] as const) {
  t.test(`UDPRoute weights ${wa}:${wb} per session over ${clients} clients; each client's datagrams all reach one backend`, async (t) => {
    const a = await udpEchoServer('a');
    const b = await udpEchoServer('b');
    const ctx = context(table([backend('Service default/a:53', [a.port]), backend('Service default/b:53', [b.port])]));
    const srv = new UdpPortServer(l4Port('UDP', l4Route('default/u', 'UDPRoute', [ref(0, wa), ref(1, wb)])), ctx);
    await srv.listen();
    const cs: Awaited<ReturnType<typeof udpClient>>[] = [];
    for (let i = 0; i < clients; i++) cs.push(await udpClient());
    t.teardown(async () => {
      for (const c of cs) await c.close();
      await srv.close(0);
      await a.close();
      await b.close();
    });
    const p = srv.boundPort();
    const ROUNDS = 3;
    // Round by round, all clients interleaved: round r is sent once round r-1 has been answered, so the
    // sessions are open and the later datagrams must follow them rather than the weights.
    for (let r = 0; r < ROUNDS; r++) {
      for (const [i, c] of cs.entries()) c.send(p, `c${i}r${r}`);
      await waitFor(() => cs.every((c) => c.replies.length === r + 1), 3000, `round ${r} answered`);
    }
    const wrong: string[] = [];
    const perClient = cs.map((c, i) => {
      const got = c.replies.map((x) => x.split(':')[1]).sort();
      const want = Array.from({ length: ROUNDS }, (_, r) => `c${i}r${r}`);
      if (got.join() !== want.join()) wrong.push(`client ${i}: ${c.replies.join(' ')}`);
      return new Set(c.replies.map((x) => x.split(':')[0]));
    });
    t.same(wrong, [], 'every client got exactly its own replies');
    t.ok(
      perClient.every((n) => n.size === 1),
      'sticky: every client was answered by one backend only',
    );
    const onA = perClient.filter((n) => n.has('a')).length;
    const onB = perClient.filter((n) => n.has('b')).length;
    const expectA = (clients * wa) / (wa + wb);
    t.same({ a: onA, b: onB }, { a: expectA, b: clients - expectA }, `sessions split exactly ${wa}:${wb}`);
    t.same({ a: a.received, b: b.received }, { a: expectA * ROUNDS, b: (clients - expectA) * ROUNDS }, 'datagrams follow the sessions');
    t.same({ a: a.peers.size, b: b.peers.size }, { a: expectA, b: clients - expectA }, 'one upstream socket per session');
    t.equal(srv.sessionCount(), clients, 'one session per client socket');
  });
}
