import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import t from 'tap';
import { TlsPortServer } from '../../src/listeners/tls-port.js';
import type { HttpsTerminatorLike } from '../../src/listeners/tls-port.js';
import {
  backend,
  context,
  listener,
  recordingRelay,
  ref,
  sleep,
  table,
  tcpEchoServer,
  testPki,
  tlsAsk,
  tlsNameServer,
  tlsPort,
  tlsRoute,
  waitFor,
} from './helpers.js';

const pki = testPki();

t.test('passthrough routes by SNI: exact beats wildcard, wildcard covers several labels', async (t) => {
  const a = await tlsNameServer('db', pki.leaf(['db.example.com']));
  const b = await tlsNameServer('wild', pki.leaf(['*.example.com', 'a.b.example.com']));
  const tbl = table([backend('Service default/db:443', [a.port]), backend('Service default/wild:443', [b.port])]);
  const port = tlsPort(
    [listener('tls', 'TLS', null, 'Passthrough')],
    [tlsRoute('default/db', 'db.example.com', 0, [ref(0)]), tlsRoute('default/wild', '*.example.com', 0, [ref(1)])],
  );
  const ctx = context(tbl);
  const srv = new TlsPortServer(port, ctx);
  await srv.listen();
  t.teardown(async () => {
    await srv.close(0);
    await a.close();
    await b.close();
  });
  const p = srv.boundPort();

  const r1 = await tlsAsk(p, 'db.example.com', 'hi');
  t.same(r1, { ok: true, answer: 'db:hi', peerCN: 'db.example.com' }, 'exact SNI goes to the exact route');
  const r2 = await tlsAsk(p, 'www.example.com', 'hi');
  t.same(r2, { ok: true, answer: 'wild:hi', peerCN: '*.example.com' }, 'wildcard route');
  const r3 = await tlsAsk(p, 'a.b.example.com', 'hi');
  t.same(r3, { ok: true, answer: 'wild:hi', peerCN: '*.example.com' }, 'wildcard covers two labels');
  const r4 = await tlsAsk(p, 'DB.Example.COM', 'hi');
  t.equal(r4.ok && r4.answer, 'db:hi', 'SNI is matched case-insensitively');

  const before = a.connections + b.connections;
  const r5 = await tlsAsk(p, 'example.com', 'hi');
  t.equal(r5.ok, false, 'the wildcard does not cover its own suffix');
  const r6 = await tlsAsk(p, 'other.net', 'hi');
  t.equal(r6.ok, false, 'unknown SNI is closed');
  await sleep(50);
  t.equal(a.connections + b.connections, before, 'nothing was forwarded for unknown names');
  await waitFor(() => ctx.telemetry.l4.filter((r) => r.result === 'no_route').length === 2, 2000, 'no_route records');
  t.equal(ctx.telemetry.connections.get('default/gw/tls'), 0, 'connections gauge back to 0');
  await waitFor(() => ctx.telemetry.l4.filter((r) => r.result === 'ok').length === 4, 2000, 'ok records');
  const ok = ctx.telemetry.l4.find((r) => r.result === 'ok')!;
  t.equal(ok.route, 'default/db');
  t.equal(ok.sni, 'db.example.com');
  t.equal(ok.protocol, 'TLS');
  t.ok(ok.bytesIn > 100 && ok.bytesOut > 100, 'bytes counted both ways');
});

t.test('passthrough is byte-identical in both directions', async (t) => {
  const be = await tlsNameServer('be', pki.leaf(['bytes.example.com']));
  const behind = await recordingRelay(be.port);
  const srv = new TlsPortServer(
    tlsPort([listener('tls', 'TLS', null, 'Passthrough')], [tlsRoute('default/r', 'bytes.example.com', 0, [ref(0)])]),
    context(table([backend('Service default/be:443', [behind.port])])),
  );
  await srv.listen();
  const front = await recordingRelay(srv.boundPort());
  t.teardown(async () => {
    await front.close();
    await srv.close(0);
    await behind.close();
    await be.close();
  });
  const r = await tlsAsk(front.port, 'bytes.example.com', 'x'.repeat(5000));
  t.equal(r.ok, true);
  await waitFor(
    () => Buffer.concat(behind.up).length === Buffer.concat(front.up).length && Buffer.concat(front.down).length === Buffer.concat(behind.down).length,
    2000,
    'relays to settle',
  );
  t.ok(Buffer.concat(front.up).equals(Buffer.concat(behind.up)), 'client → backend bytes identical');
  t.ok(Buffer.concat(front.down).equals(Buffer.concat(behind.down)), 'backend → client bytes identical');
  t.ok(Buffer.concat(front.up).length > 5000, 'the encrypted payload went through');
});

t.test('a ClientHello written one byte at a time is reassembled', async (t) => {
  const be = await tlsNameServer('slow', pki.leaf(['slow.example.com']));
  const srv = new TlsPortServer(
    tlsPort([listener('tls', 'TLS', null, 'Passthrough')], [tlsRoute('default/r', 'slow.example.com', 0, [ref(0)])]),
    context(table([backend('Service default/slow:443', [be.port])])),
  );
  await srv.listen();
  // A relay that writes the first 600 client bytes to the proxy one byte per TCP segment.
  const dribble = net.createServer((c) => {
    const u = net.connect({ port: srv.boundPort(), host: '127.0.0.1', noDelay: true });
    c.on('error', () => u.destroy());
    u.on('error', () => c.destroy());
    u.pipe(c);
    let budget = 600;
    let chain = Promise.resolve();
    c.on('data', (d) => {
      chain = chain.then(async () => {
        for (const byte of d) {
          if (u.destroyed) return;
          if (budget-- > 0) {
            u.write(Buffer.of(byte));
            await sleep(1);
          } else u.write(Buffer.of(byte));
        }
      });
    });
    c.on('close', () => u.destroy());
  });
  await new Promise<void>((r) => dribble.listen(0, '127.0.0.1', r));
  t.teardown(async () => {
    dribble.close();
    await srv.close(0);
    await be.close();
  });
  const r = await tlsAsk((dribble.address() as net.AddressInfo).port, 'slow.example.com', 'bit', { timeoutMs: 8000 });
  t.same(r, { ok: true, answer: 'slow:bit', peerCN: 'slow.example.com' });
});

t.test('refusals: silent client, not TLS, no SNI, oversized hello', async (t) => {
  const be = await tlsNameServer('x', pki.leaf(['x.example.com']));
  const ctx = context(table([backend('Service default/x:443', [be.port])]));
  const srv = new TlsPortServer(
    tlsPort([listener('tls', 'TLS', null, 'Passthrough')], [tlsRoute('default/r', 'x.example.com', 0, [ref(0)])]),
    ctx,
    { helloTimeoutMs: 300, maxHelloBytes: 4096 },
  );
  await srv.listen();
  t.teardown(async () => {
    await srv.close(0);
    await be.close();
  });
  const p = srv.boundPort();
  const closedAfter = (write: Buffer | null): Promise<number> =>
    new Promise((resolve) => {
      const start = Date.now();
      const s = net.connect({ port: p, host: '127.0.0.1' }, () => {
        if (write) s.write(write);
      });
      s.on('error', () => {});
      s.on('close', () => resolve(Date.now() - start));
      s.resume();
      setTimeout(() => s.destroy(), 3000);
    });

  const silent = await closedAfter(null);
  t.ok(silent >= 250 && silent < 2000, `silent client closed after the timeout (${silent} ms)`);
  const http = await closedAfter(Buffer.from('GET / HTTP/1.1\r\nHost: x.example.com\r\n\r\n'));
  t.ok(http < 250, 'plain HTTP is refused at once');
  const noSni = await tlsAsk(p, '', 'hi');
  t.equal(noSni.ok, false, 'a client without SNI is refused (TLSRoutes need a name)');
  // A record header announcing a 16 KiB record: more than maxHelloBytes will ever be buffered.
  const big = Buffer.alloc(5000, 1);
  big.set([22, 3, 1, 0x40, 0x00, 1, 0x00, 0x3f, 0xfc], 0);
  const tooBig = await closedAfter(big);
  t.ok(tooBig < 250, 'an oversized hello is refused');
  t.equal(be.connections, 0, 'nothing reached the backend');
  await waitFor(() => ctx.telemetry.l4.length >= 4, 2000, 'records');
  t.same(
    ctx.telemetry.l4.map((r) => r.result),
    ['hello_timeout', 'not_tls', 'no_sni', 'hello_too_large'],
  );
});

t.test('weighted passthrough backends: 3:1 over 40 connections, invalid share refused', async (t) => {
  const cert = pki.leaf(['w.example.com']);
  const a = await tlsNameServer('a', cert);
  const b = await tlsNameServer('b', cert);
  const srv = new TlsPortServer(
    tlsPort(
      [listener('tls', 'TLS', 'w.example.com', 'Passthrough')],
      [tlsRoute('default/w', 'w.example.com', 0, [ref(0, 3), ref(1, 1)])],
    ),
    context(table([backend('Service default/a:443', [a.port]), backend('Service default/b:443', [b.port])])),
  );
  await srv.listen();
  t.teardown(async () => {
    await srv.close(0);
    await a.close();
    await b.close();
  });
  const answers: Record<string, number> = {};
  for (let i = 0; i < 40; i++) {
    const r = await tlsAsk(srv.boundPort(), 'w.example.com', 'q');
    const k = r.ok ? r.answer : 'fail';
    answers[k] = (answers[k] ?? 0) + 1;
  }
  t.same(answers, { 'a:q': 30, 'b:q': 10 });

  // Reload with half the weight on an invalid ref: that half is refused, nothing forwarded for it.
  const ctx2 = context(table([backend('Service default/a:443', [a.port])]));
  srv.update(
    tlsPort(
      [listener('tls', 'TLS', 'w.example.com', 'Passthrough')],
      [tlsRoute('default/w', 'w.example.com', 0, [ref(0, 1), ref(-1, 1)])],
    ),
    ctx2,
  );
  const before = a.connections;
  let ok = 0;
  for (let i = 0; i < 10; i++) if ((await tlsAsk(srv.boundPort(), 'w.example.com', 'q')).ok) ok++;
  t.equal(ok, 5, 'half the connections succeed');
  t.equal(a.connections - before, 5, 'the refused half never reached a backend');
  await waitFor(() => ctx2.telemetry.l4.filter((r) => r.result === 'backend_invalid').length === 5, 2000, 'records');
});

t.test('TLS terminate: decrypt with the listener certificate, forward plaintext to TCP', async (t) => {
  const echo = await tcpEchoServer();
  const cert = pki.leaf(['term.example.com']);
  const tbl = table(
    [backend('Service default/echo:7', [echo.port])],
    [{ secret: 'default/term-cert', cert: cert.cert, key: cert.key, hostnames: ['term.example.com'] }],
  );
  const srv = new TlsPortServer(
    tlsPort(
      [listener('tls', 'TLS', 'term.example.com', 'Terminate', [0])],
      [tlsRoute('default/term', 'term.example.com', 0, [ref(0)], 'Terminate')],
    ),
    context(tbl),
  );
  await srv.listen();
  t.teardown(async () => {
    await srv.close(0);
    await echo.close();
  });
  const r = await tlsAsk(srv.boundPort(), 'term.example.com', 'plain please');
  t.same(r, { ok: true, answer: 'plain please', peerCN: 'term.example.com' }, 'echoed through the terminated TLS');
});

t.test('mixed HTTPS + TLS passthrough on one port', async (t) => {
  const db = await tlsNameServer('db', pki.leaf(['db.example.com']));
  const httpsCert = pki.leaf(['*.example.com']);
  // Stand-in for listeners/https.ts: a TLS server fed the raw socket, as the real terminator is.
  const accepted: string[] = [];
  let updates = 0;
  let closed = false;
  const fake: HttpsTerminatorLike = (() => {
    const server = tls.createServer({ cert: httpsCert.cert, key: httpsCert.key }, (s) => {
      s.on('error', () => {});
      s.on('data', (d) => s.write(`https:${d.toString()}`));
    });
    server.on('tlsClientError', () => {});
    return {
      accept(socket: net.Socket) {
        accepted.push(String(socket.remotePort));
        server.emit('connection', socket);
      },
      update() {
        updates++;
      },
      async close() {
        closed = true;
      },
    };
  })();
  const port = tlsPort(
    [listener('db', 'TLS', 'db.example.com', 'Passthrough'), listener('web', 'HTTPS', '*.example.com', 'Terminate', [0])],
    [tlsRoute('default/db', 'db.example.com', 0, [ref(0)])],
  );
  const srv = new TlsPortServer(port, context(table([backend('Service default/db:5432', [db.port])])), {
    httpsFactory: () => fake,
  });
  await srv.listen();
  t.teardown(async () => {
    await srv.close(0);
    await db.close();
  });
  const p = srv.boundPort();
  t.same(await tlsAsk(p, 'db.example.com', 'q'), { ok: true, answer: 'db:q', peerCN: 'db.example.com' });
  t.same(await tlsAsk(p, 'www.example.com', 'q'), { ok: true, answer: 'https:q', peerCN: '*.example.com' });
  t.equal(accepted.length, 1, 'only the HTTPS name went to the terminator');
  t.equal((await tlsAsk(p, 'www.example.org', 'q')).ok, false, 'a name no listener covers is refused');
  srv.update(port, context(table([backend('Service default/db:5432', [db.port])])));
  t.equal(updates, 1, 'the terminator sees reloads');
  await srv.close(0);
  t.ok(closed, 'and shutdown');
});

t.test('mixed port with the real HttpsTerminator: HTTPS by Host, TLS passthrough by SNI', async (t) => {
  const db = await tlsNameServer('db', pki.leaf(['db.example.com']));
  const web = http.createServer((req, res) => res.end(`web saw ${req.headers.host}${req.url}`));
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  const webPort = (web.address() as net.AddressInfo).port;
  const httpsCert = pki.leaf(['*.example.com']);
  const webListener = { ...listener('web', 'HTTPS', '*.example.com', 'Terminate', [0]), group: 0 };
  const port = tlsPort([listener('db', 'TLS', 'db.example.com', 'Passthrough'), webListener], [
    tlsRoute('default/db', 'db.example.com', 0, [ref(0)]),
  ]);
  port.httpGroups = [
    {
      hostname: '*.example.com',
      listeners: [1],
      secure: true,
      listenerPort: 443,
      entries: [
        {
          hostname: '*.example.com',
          path: { type: 'PathPrefix', value: '/' },
          method: null,
          headers: [],
          queryParams: [],
          grpc: false,
          grpcMethod: null,
          rule: 0,
          matchIndex: 0,
          listener: 1,
        },
      ],
      rules: [
        {
          route: 'default/web',
          routeKind: 'HTTPRoute',
          ruleIndex: 0,
          ruleName: null,
          filters: [],
          backendRefs: [ref(1)],
          timeouts: { requestMs: null, backendRequestMs: null },
          retry: null,
        },
      ],
    },
  ];
  const tbl = table(
    [backend('Service default/db:5432', [db.port]), backend('Service default/web:80', [webPort])],
    [{ secret: 'default/web-cert', cert: httpsCert.cert, key: httpsCert.key, hostnames: ['*.example.com'] }],
  );
  const srv = new TlsPortServer(port, context(tbl));
  await srv.listen();
  t.teardown(async () => {
    await srv.close(0);
    await db.close();
    web.closeAllConnections();
    await new Promise<void>((r) => web.close(() => r()));
  });
  const p = srv.boundPort();
  const get = (host: string): Promise<{ status: number; body: string } | { error: string }> =>
    new Promise((resolve) => {
      const req = https.get(
        { host: '127.0.0.1', port: p, path: '/x', servername: host, headers: { host }, ca: pki.ca, agent: false },
        (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
      req.setTimeout(3000, () => req.destroy(new Error('timeout')));
    });
  t.same(await get('www.example.com'), { status: 200, body: 'web saw www.example.com/x' }, 'HTTPS terminated and routed');
  t.same(await tlsAsk(p, 'db.example.com', 'q'), { ok: true, answer: 'db:q', peerCN: 'db.example.com' }, 'passthrough');
  t.equal(db.connections, 1, 'the passthrough backend saw only its own connection');
});
