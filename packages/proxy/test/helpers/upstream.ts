import http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';

/** A loopback HTTP/1.1 backend with a custom handler; resolves with its port and a close(). */
export async function upstream(
  handler: http.RequestListener,
): Promise<{ port: number; server: http.Server; close: () => Promise<void> }> {
  const server = http.createServer({ keepAliveTimeout: 65_000 }, handler);
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    server,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A gRPC-shaped h2c backend: echoes the message frame, then `grpc-status` in trailers (or trailers-only). */
export async function grpcBackend(): Promise<{ port: number; close: () => Promise<void>; seen: http2.IncomingHttpHeaders[] }> {
  const seen: http2.IncomingHttpHeaders[] = [];
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    seen.push(headers);
    if (headers[':path'] === '/svc.Echo/Flaky' && seen.filter((h) => h[':path'] === '/svc.Echo/Flaky').length < 3) {
      stream.respond({ ':status': 503 }, { endStream: true });
      return;
    }
    if (headers[':path'] === '/svc.Echo/Fail') {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5', 'grpc-message': 'not found' }, { endStream: true });
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'OK' }));
      stream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as net.AddressInfo).port, seen, close: () => new Promise((r) => server.close(() => r())) };
}
