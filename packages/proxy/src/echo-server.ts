/**
 * A small JSON echo backend (the conformance echo-basic's response shape, conformance.md §3): HTTP/1.1 and
 * h2c prior knowledge on one port, WebSocket echo on any path with `Upgrade: websocket`. Used by the
 * quickstart, the tests and the benchmarks (`gatehouse echo`).
 *
 * Special requests: `?delay=250ms|1s` sleeps first; `/status/NNN` answers NNN; header
 * `X-Echo-Set-Header: Name1:v1,Name2:v2` sets response headers. Each echoed request logs
 * `Echoing back request made to <path> to client (<addr>)` when `log` is on (conformance mirror checks).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { looksLikeH2Preface, replayingDuplex } from './listeners/sniff.js';

export interface EchoOptions {
  port?: number;
  host?: string;
  /** Reported as `pod` (default `echo`). */
  name?: string;
  namespace?: string;
  service?: string;
  /** Log a line per request to this function (default: none). */
  log?: (line: string) => void;
}

export interface EchoServer {
  readonly port: number;
  /** Requests answered (tests). */
  readonly count: () => number;
  close(): Promise<void>;
}

function canonical(name: string): string {
  let out = '';
  let upper = true;
  for (const ch of name) {
    out += upper ? ch.toUpperCase() : ch.toLowerCase();
    upper = ch === '-';
  }
  return out;
}

function parseDelay(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v);
  if (m === null) return 0;
  const n = Number(m[1]);
  return m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60000 : n;
}

export async function startEchoServer(opts: EchoOptions = {}): Promise<EchoServer> {
  const pod = opts.name ?? 'echo';
  const namespace = opts.namespace ?? '';
  const service = opts.service ?? pod;
  let count = 0;
  const sockets = new Set<net.Socket>();

  const onRequest = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void => {
    count++;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathOnly = q === -1 ? url : url.slice(0, q);
    const params = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
    opts.log?.(`Echoing back request made to ${url} to client (${req.socket?.remoteAddress ?? ''})`);
    const headers: Record<string, string[]> = {};
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const n = raw[i];
      if (n.startsWith(':') || n.toLowerCase() === 'host') continue;
      (headers[canonical(n)] ??= []).push(raw[i + 1]);
    }
    const host = (req.headers[':authority'] as string | undefined) ?? req.headers.host ?? '';
    let status = 200;
    const sm = /^\/status\/(\d{3})$/.exec(pathOnly);
    if (sm !== null) status = Number(sm[1]);
    const respond = (body: Buffer): void => {
      const set = req.headers['x-echo-set-header'];
      const extra: Record<string, string> = {};
      if (typeof set === 'string' && set !== '') {
        for (const pair of set.split(',')) {
          const i = pair.indexOf(':');
          if (i <= 0) continue;
          const k = pair.slice(0, i).trim();
          const v = pair.slice(i + 1).trim();
          extra[k] = extra[k] === undefined ? v : extra[k] + ',' + v;
        }
      }
      for (const k in extra) res.setHeader(req.httpVersionMajor === 2 ? k.toLowerCase() : k, extra[k]);
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('content-length', body.length);
      res.statusCode = status;
      res.end(body);
    };
    // read (and count) the body, then answer
    let bodyBytes = 0;
    req.on('data', (c: Buffer) => {
      bodyBytes += c.length;
    });
    req.on('end', () => {
      const json = {
        path: url,
        host,
        method: req.method,
        proto: req.httpVersionMajor === 2 ? 'HTTP/2.0' : `HTTP/${req.httpVersion}`,
        headers,
        namespace,
        ingress: '',
        service,
        pod,
        httpPort: String(port),
        bodyBytes,
      };
      const body = Buffer.from(JSON.stringify(json, null, 1));
      const delay = parseDelay(params.get('delay') ?? '');
      if (delay > 0) setTimeout(() => respond(body), delay);
      else respond(body);
    });
  };

  const h1 = http.createServer({ keepAliveTimeout: 65_000 }, onRequest);
  h1.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => websocketEcho(req, socket, head));
  const h2 = http2.createServer({}, onRequest);
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.once('data', (chunk: Buffer) => {
      if (looksLikeH2Preface(chunk)) {
        h2.emit('connection', replayingDuplex(socket, chunk));
        return;
      }
      socket.pause();
      socket.unshift(chunk);
      h1.emit('connection', socket);
      socket.resume();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: opts.port ?? 0, host: opts.host ?? '127.0.0.1' }, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    count: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

/** Minimal RFC 6455 echo: handshake, then every data frame is sent back (unmasked), close answered. */
function websocketEcho(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string') {
    socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    return;
  }
  const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  let buf: Buffer = head.length > 0 ? Buffer.from(head) : Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    for (;;) {
      const f = decodeFrame(buf);
      if (f === null) return;
      buf = buf.subarray(f.size);
      if (f.opcode === 0x8) {
        socket.end(encodeFrame(0x8, f.payload));
        return;
      }
      if (f.opcode === 0x9) socket.write(encodeFrame(0xa, f.payload));
      else if (f.opcode === 0x1 || f.opcode === 0x2) socket.write(encodeFrame(f.opcode, f.payload));
    }
  };
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
}

export function decodeFrame(buf: Buffer): { opcode: number; payload: Buffer; size: number } | null {
  if (buf.length < 2) return null;
  const opcode = buf[0] & 0x0f;
  const masked = (buf[1] & 0x80) !== 0;
  let len = buf[1] & 0x7f;
  let off = 2;
  if (len === 126) {
    if (buf.length < 4) return null;
    len = buf.readUInt16BE(2);
    off = 4;
  } else if (len === 127) {
    if (buf.length < 10) return null;
    len = Number(buf.readBigUInt64BE(2));
    off = 10;
  }
  const maskOff = off;
  if (masked) off += 4;
  if (buf.length < off + len) return null;
  const payload = Buffer.from(buf.subarray(off, off + len));
  if (masked) for (let i = 0; i < len; i++) payload[i] ^= buf[maskOff + (i & 3)];
  return { opcode, payload, size: off + len };
}

export function encodeFrame(opcode: number, payload: Buffer, mask = false): Buffer {
  const len = payload.length;
  const headLen = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const out = Buffer.alloc(headLen + (mask ? 4 : 0) + len);
  out[0] = 0x80 | opcode;
  if (len < 126) out[1] = len;
  else if (len < 65536) {
    out[1] = 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 127;
    out.writeBigUInt64BE(BigInt(len), 2);
  }
  if (mask) {
    out[1] |= 0x80;
    const key = [0x12, 0x34, 0x56, 0x78];
    for (let i = 0; i < 4; i++) out[headLen + i] = key[i];
    for (let i = 0; i < len; i++) out[headLen + 4 + i] = payload[i] ^ key[i & 3];
  } else payload.copy(out, headLen);
  return out;
}
