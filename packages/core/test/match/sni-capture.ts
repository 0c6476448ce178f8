/**
 * Test helper: capture real ClientHello bytes from Node's TLS client by pointing `tls.connect` at a
 * plain `net.Server` that records what arrives and never answers.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface CaptureOptions {
  servername?: string;
  ALPNProtocols?: string[];
  minVersion?: tls.SecureVersion;
  maxVersion?: tls.SecureVersion;
}

export async function captureClientHello(opts: CaptureOptions): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const server = net.createServer((s) => {
    s.on('error', () => {});
    s.on('data', (d) => {
      chunks.push(d);
      const all = Buffer.concat(chunks);
      // The ClientHello is one handshake message; its length is in the first record(s). Node's client
      // sends it in one record, so the record length tells us when we have it all.
      if (all.length >= 5 && all.length >= 5 + all.readUInt16BE(3)) {
        s.destroy();
        done();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const client = tls.connect({
    host: '127.0.0.1',
    port,
    servername: opts.servername,
    ALPNProtocols: opts.ALPNProtocols,
    minVersion: opts.minVersion,
    maxVersion: opts.maxVersion,
    rejectUnauthorized: false,
  });
  client.on('error', () => {});
  const timer = setTimeout(done, 3000);
  await finished;
  clearTimeout(timer);
  client.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  const all = Buffer.concat(chunks);
  return all.subarray(0, 5 + all.readUInt16BE(3));
}

/** Re-frame one handshake message (from a single-record hello) into records of at most `size` bytes. */
export function fragment(hello: Buffer, size: number): Buffer {
  const version = hello.subarray(1, 3);
  const body = hello.subarray(5);
  const parts: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) {
    const piece = body.subarray(i, Math.min(body.length, i + size));
    const h = Buffer.alloc(5);
    h[0] = 22;
    version.copy(h, 1);
    h.writeUInt16BE(piece.length, 3);
    parts.push(h, piece);
  }
  return Buffer.concat(parts);
}
