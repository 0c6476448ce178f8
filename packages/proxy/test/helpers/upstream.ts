import http from 'node:http';
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
