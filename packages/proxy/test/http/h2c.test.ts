import http2 from 'node:http2';
import type net from 'node:net';
import t from 'tap';
import { startEchoServer } from '../../src/echo-server.js';
import { gateway } from '../helpers/gateway.js';
import { backend, freePort, table } from '../helpers/ir.js';
import { grpcBackend } from '../helpers/upstream.js';

interface H2Res {
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders | null;
  body: Buffer;
  endAfterHeaders: boolean;
}

function h2request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer): Promise<H2Res> {
  return new Promise((resolve, reject) => {
    const s = session.request(headers, { endStream: body === undefined });
    let resHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | null = null;
    const chunks: Buffer[] = [];
    s.on('response', (h) => (resHeaders = h));
    s.on('trailers', (h) => (trailers = h));
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => resolve({ headers: resHeaders, trailers, body: Buffer.concat(chunks), endAfterHeaders: s.endAfterHeaders }));
    s.on('error', reject);
    if (body !== undefined) s.end(body);
  });
}


t.test('h2c prior knowledge downstream, h2c upstream, gRPC trailers', async (t) => {
  const g = await grpcBackend();
  const echo = await startEchoServer({ name: 'echo' });
  const port = await freePort();
  const tbl = table(
    [
      {
        port,
        groups: [
          {
            rules: [
              { path: '/svc.Echo/Flaky', pathType: 'Exact', grpc: true, retry: { codes: [503], attempts: 2, backoffMs: 0 }, refs: [{ backend: 0 }] },
              { path: '/svc.Echo/', grpc: true, refs: [{ backend: 0 }] },
              { path: '/plain', refs: [{ backend: 1 }] },
              { path: '/h2c-echo', refs: [{ backend: 2 }] },
            ],
          },
        ],
      },
    ],
    [
      backend('grpc', [{ address: '127.0.0.1', port: g.port }], 'h2c'),
      backend('echo', [{ address: '127.0.0.1', port: echo.port }]),
      backend('echo-h2c', [{ address: '127.0.0.1', port: echo.port }], 'h2c'),
    ],
  );
  const { rt, port: gw } = await gateway(tbl);
  const session = http2.connect(`http://127.0.0.1:${gw}`);
  t.teardown(async () => {
    session.close();
    await rt.close(100);
    await g.close();
    await echo.close();
  });
  const msg = Buffer.from([0, 0, 0, 0, 3, 1, 2, 3]);
  let r = await h2request(session, { ':method': 'POST', ':path': '/svc.Echo/Echo', ':authority': 'grpc.example.com', 'content-type': 'application/grpc', te: 'trailers' }, msg);
  t.equal(r.headers[':status'], 200);
  t.same(r.body, msg, 'message passed through');
  t.equal(r.trailers?.['grpc-status'], '0', 'grpc-status trailer passed through');
  t.equal(g.seen[0][':authority'], 'grpc.example.com', 'authority forwarded');
  t.equal(g.seen[0].te, 'trailers', 'te: trailers kept for gRPC');

  r = await h2request(session, { ':method': 'POST', ':path': '/svc.Echo/Flaky', ':authority': 'grpc.example.com', 'content-type': 'application/grpc', te: 'trailers' });
  t.equal(r.headers[':status'], 200, 'h2c upstream: 503 retried (3 tries)');
  t.equal(r.trailers?.['grpc-status'], '0');

  r = await h2request(session, { ':method': 'POST', ':path': '/svc.Echo/Fail', ':authority': 'grpc.example.com', 'content-type': 'application/grpc', te: 'trailers' }, msg);
  t.equal(r.headers['grpc-status'], '5', 'trailers-only upstream answer stays trailers-only');
  t.equal(r.trailers, null);
  t.equal(r.body.length, 0);

  r = await h2request(session, { ':method': 'POST', ':path': '/other.Svc/Method', ':authority': 'grpc.example.com', 'content-type': 'application/grpc' }, msg);
  t.equal(r.headers[':status'], 200);
  t.equal(r.headers['grpc-status'], '12', 'no route → UNIMPLEMENTED');
  t.equal(r.trailers, null, 'as a trailers-only response');
  t.equal(r.body.length, 0);

  r = await h2request(session, { ':method': 'GET', ':path': '/plain/x?q=1', ':authority': 'web.example.com' });
  t.equal(r.headers[':status'], 200);
  const j = JSON.parse(r.body.toString());
  t.equal(j.path, '/plain/x?q=1', 'h2c client → HTTP/1.1 upstream');
  t.equal(j.host, 'web.example.com', ':authority becomes Host');

  r = await h2request(session, { ':method': 'GET', ':path': '/h2c-echo', ':authority': 'web.example.com' });
  t.equal(JSON.parse(r.body.toString()).proto, 'HTTP/2.0', 'h2c upstream for appProtocol h2c');
});
