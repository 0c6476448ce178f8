/**
 * Local stand-ins for the conformance echo server (echo-basic): same JSON reply, same special paths,
 * same log line for mirror checks (conformance.md §3). One EchoPod is one "pod" of a backend Deployment;
 * it opens one socket per container port that a Service targets, always on 127.0.0.1 and a free port.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createH2Server, createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { createSocket } from 'node:dgram';
import { createHash, randomBytes } from 'node:crypto';
import type { KeyPair } from './certs.js';
import { grpcEchoHandler } from './grpc.js';

export const LOOPBACK = '127.0.0.1';

/** What a container port speaks. */
export type EchoPortKind = 'http' | 'h2c' | 'https' | 'tcp' | 'tls-tcp' | 'grpc' | 'udp' | 'dns';

export interface EchoPodInfo {
  namespace: string;
  /** `infra-backend-v1-7d9c6b5f4-x8k2p`: the Deployment name plus two segments, as in Kubernetes. */
  pod: string;
  /** Deployment (app) name. */
  app: string;
}

/** Go's textproto.CanonicalMIMEHeaderKey: `x-header-set` → `X-Header-Set`. Names with odd bytes stay as they are. */
export function canonicalHeaderName(name: string): string {
  if (!/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/.test(name)) return name;
  let upper = true;
  let out = '';
  for (const ch of name) {
    out += upper ? ch.toUpperCase() : ch.toLowerCase();
    upper = ch === '-';
  }
  return out;
}

/** Go duration subset used by `?delay=` (`1s`, `500ms`, `1m30s`); null when malformed. */
export function parseGoDuration(s: string): number | null {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const n = Number(m[1]);
    const unit = m[2]!;
    total += n * ({ ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as Record<string, number>)[unit]!;
    consumed = re.lastIndex;
  }
  return consumed === s.length && s.length > 0 ? total : null;
}

type AnyReq = IncomingMessage | Http2ServerRequest;
type AnyRes = ServerResponse | Http2ServerResponse;

export interface EchoPod extends EchoPodInfo {
  /** Log lines (`Echoing back request made to … to client (…)`), newest last, capped. */
  logs: string[];
  /** container port → bound local port. */
  ports: Map<number, number>;
  /** Start (or reuse) the socket for a container port. */
  listen(containerPort: number, kind: EchoPortKind, tls?: KeyPair): Promise<number>;
  close(): Promise<void>;
}

const MAX_LOG_LINES = 20_000;
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** A DNS query for `name` (type A, recursion desired). */
export function dnsQuery(id: number, name: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(0x0100, 2);
  head.writeUInt16BE(1, 4);
  return Buffer.concat([head, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

/** The answer to a one-question DNS query: the question back plus an A record 127.0.0.1; null if malformed. */
export function dnsAnswer(q: Buffer): Buffer | null {
  if (q.length < 17 || q.readUInt16BE(4) !== 1) return null;
  let i = 12;
  while (i < q.length && q[i] !== 0) i += q[i]! + 1;
  const qEnd = i + 5;
  if (qEnd > q.length) return null;
  const head = Buffer.from(q.subarray(0, 12));
  head.writeUInt16BE(0x8180, 2); // response, RD, RA, NOERROR
  head.writeUInt16BE(1, 6); // one answer
  head.writeUInt16BE(0, 8);
  head.writeUInt16BE(0, 10);
  const answer = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 127, 0, 0, 1]);
  return Buffer.concat([head, q.subarray(12, qEnd), answer]);
}

/** One WebSocket frame: FIN + opcode, length, optional 4-byte mask. */
export function wsFrame(opcode: number, payload: Buffer, mask: boolean): Buffer {
  const head: number[] = [0x80 | opcode];
  const len = payload.length;
  if (len < 126) head.push((mask ? 0x80 : 0) | len);
  else head.push((mask ? 0x80 : 0) | 126, len >> 8, len & 0xff);
  if (!mask) return Buffer.concat([Buffer.from(head), payload]);
  const key = randomBytes(4);
  const body = Buffer.from(payload.map((b, i) => b ^ key[i % 4]!));
  return Buffer.concat([Buffer.from(head), key, body]);
}

/** Parses one complete frame from `buf`, or null when more bytes are needed. */
export function wsParse(buf: Buffer): { opcode: number; payload: Buffer; size: number } | null {
  if (buf.length < 2) return null;
  const masked = (buf[1]! & 0x80) !== 0;
  let len = buf[1]! & 0x7f;
  let off = 2;
  if (len === 126) {
    if (buf.length < 4) return null;
    len = buf.readUInt16BE(2);
    off = 4;
  } else if (len === 127) return null;
  const key = masked ? buf.subarray(off, off + 4) : null;
  if (masked) off += 4;
  if (buf.length < off + len) return null;
  const payload = Buffer.from(buf.subarray(off, off + len));
  if (key) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ key[i % 4]!;
  return { opcode: buf[0]! & 0x0f, payload, size: off + len };
}

/** `/ws`: accept the upgrade and echo text/binary frames back (echo-basic's WebSocket echo). */
function webSocketEcho(req: IncomingMessage, socket: Socket, log: (l: string) => void): void {
  const key = req.headers['sec-websocket-key'];
  if (!String(req.url ?? '').startsWith('/ws') || typeof key !== 'string') {
    socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  log(`Echoing back request made to ${req.url} to client (websocket)`);
  let buf = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    for (let f = wsParse(buf); f; f = wsParse(buf)) {
      buf = buf.subarray(f.size);
      if (f.opcode === 0x8) {
        socket.end(wsFrame(0x8, Buffer.alloc(0), false));
        return;
      }
      if (f.opcode === 0x1 || f.opcode === 0x2) socket.write(wsFrame(f.opcode, f.payload, false));
    }
  });
  socket.on('error', () => {});
}

export function createEchoPod(info: EchoPodInfo): EchoPod {
  const servers: { close(): Promise<void> }[] = [];
  const sockets = new Set<Socket>();
  const logs: string[] = [];
  const ports = new Map<number, number>();
  const retryCounts = new Map<string, number>();

  const log = (line: string): void => {
    logs.push(line);
    if (logs.length > MAX_LOG_LINES) logs.splice(0, logs.length - MAX_LOG_LINES);
  };

  const handle = (containerPort: number) => (req: AnyReq, res: AnyRes): void => {
    const rawUrl = req.url ?? '/';
    const url = new URL(rawUrl, 'http://x');
    if (url.pathname === '/health') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('OK');
      return;
    }
    const status = /^\/status\/(\d+)$/.exec(url.pathname);
    if (status) {
      const code = Number(status[1]);
      res.writeHead(code >= 100 && code <= 599 ? code : 400);
      res.end();
      return;
    }
    if (url.pathname.startsWith('/retry')) {
      const uuid = url.searchParams.get('uuid') ?? '';
      const succeedAfter = Number(url.searchParams.get('succeedAfter') ?? '0');
      const n = (retryCounts.get(uuid) ?? 0) + 1;
      retryCounts.set(uuid, n);
      if (n <= succeedAfter) {
        const code = url.searchParams.get('responseCode');
        const delay = parseGoDuration(url.searchParams.get('delayRetry') ?? '') ?? 0;
        setTimeout(() => {
          if (code) {
            res.writeHead(Number(code));
            res.end();
          } else {
            const sock = (req as IncomingMessage).socket as Socket | undefined;
            if (sock && typeof sock.resetAndDestroy === 'function') sock.resetAndDestroy();
            else res.destroy();
          }
        }, delay);
        return;
      }
    }
    const delayParam = url.searchParams.get('delay');
    const delay = delayParam === null ? 0 : parseGoDuration(delayParam);
    if (delay === null) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `invalid delay ${delayParam}` }));
      return;
    }
    const reply = (): void => {
      if (res.destroyed) return;
      const headers: Record<string, string[]> = {};
      const raw = req.rawHeaders;
      for (let i = 0; i + 1 < raw.length; i += 2) {
        const name = raw[i]!;
        if (name.startsWith(':') || name.toLowerCase() === 'host') continue;
        (headers[canonicalHeaderName(name)] ??= []).push(raw[i + 1]!);
      }
      const h2 = req.httpVersionMajor === 2;
      const host = h2 ? ((req as Http2ServerRequest).authority ?? req.headers.host ?? '') : (req.headers.host ?? '');
      const body: Record<string, unknown> = {
        path: rawUrl,
        host,
        method: req.method,
        proto: h2 ? 'HTTP/2.0' : `HTTP/${req.httpVersion}`,
        headers,
        httpPort: String(containerPort),
        namespace: info.namespace,
        ingress: '',
        service: '',
        pod: info.pod,
      };
      const sock = req.socket as Socket & Partial<TLSSocket>;
      if (typeof sock.getProtocol === 'function' && sock.encrypted) {
        body.tls = {
          version: sock.getProtocol(),
          serverName: (sock as unknown as { servername?: string }).servername || '',
          negotiatedProtocol: sock.alpnProtocol || undefined,
          cipherSuite: sock.getCipher?.()?.standardName ?? '',
        };
      }
      // Headers the client asked the backend to send back (X-Echo-Set-Header: Name1:val1,Name2:val2).
      const setHeaders = new Map<string, { name: string; values: string[] }>();
      const echoSet = req.headers['x-echo-set-header'];
      for (const item of (Array.isArray(echoSet) ? echoSet.join(',') : (echoSet ?? '')).split(',')) {
        const c = item.indexOf(':');
        if (c <= 0) continue;
        const name = item.slice(0, c).trim();
        const e = setHeaders.get(name.toLowerCase()) ?? { name, values: [] };
        e.values.push(item.slice(c + 1).trim());
        setHeaders.set(name.toLowerCase(), e);
      }
      for (const { name, values } of setHeaders.values()) res.setHeader(name, values.join(','));
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('X-Content-Type-Options', 'nosniff');
      log(`Echoing back request made to ${rawUrl} to client (${sock.remoteAddress}:${sock.remotePort})`);
      res.writeHead(200);
      res.end(JSON.stringify(body, null, ' '));
    };
    // Drain the request body before answering (the echo server ignores it).
    req.on('data', () => {});
    req.on('end', () => (delay > 0 ? setTimeout(reply, delay) : reply()));
  };

  const track = (srv: Server | NetServer | ReturnType<typeof createH2Server>): void => {
    srv.on('connection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    servers.push({
      close: () =>
        new Promise<void>((resolve) => {
          srv.close(() => resolve());
          for (const s of sockets) s.destroy();
        }),
    });
  };

  const bind = (srv: { listen(port: number, host: string, cb: () => void): unknown; address(): unknown; once(ev: string, cb: (e: Error) => void): unknown }): Promise<number> =>
    new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(0, LOOPBACK, () => resolve((srv.address() as { port: number }).port));
    });

  const tcpEcho = (socket: Socket, isTls: boolean, containerPort: number): void => {
    socket.setEncoding('utf8');
    socket.write('Gateway API Test TCP Server\n');
    let buf = '';
    socket.on('data', (chunk: string) => {
      buf += chunk;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line === 'PING') socket.write('PONG\n');
        else if (line === 'IS_TLS') socket.write(`${isTls}\n`);
        else if (line === 'TEST') {
          const t = socket as TLSSocket;
          const payload: Record<string, unknown> = {
            namespace: info.namespace,
            ingress: '',
            service: '',
            pod: info.pod,
            tcpport: String(containerPort),
            isTLS: isTls,
          };
          if (isTls) {
            payload.tlsport = String(containerPort);
            payload.tls = {
              version: t.getProtocol?.(),
              serverName: (t as unknown as { servername?: string }).servername || '',
              cipherSuite: t.getCipher?.()?.standardName ?? '',
            };
          }
          socket.write(`${JSON.stringify(payload)}\n`);
        } else if (line) socket.write(`${line}\n`);
      }
    });
    socket.on('error', () => {});
  };

  const pod: EchoPod = {
    ...info,
    logs,
    ports,
    async listen(containerPort, kind, tls) {
      const existing = ports.get(containerPort);
      if (existing !== undefined) return existing;
      let port: number;
      switch (kind) {
        case 'http': {
          const srv = createHttpServer(handle(containerPort));
          srv.keepAliveTimeout = 5000;
          srv.on('upgrade', (req: IncomingMessage, socket: Socket) => webSocketEcho(req, socket, log));
          track(srv);
          port = await bind(srv);
          break;
        }
        case 'h2c': {
          const srv = createH2Server(handle(containerPort));
          track(srv);
          port = await bind(srv);
          break;
        }
        case 'grpc': {
          const srv = createH2Server(grpcEchoHandler(info, log));
          track(srv);
          port = await bind(srv);
          break;
        }
        case 'https': {
          if (!tls) throw new Error(`echo ${info.pod}: https port ${containerPort} needs a certificate`);
          const srv = createSecureServer({ cert: tls.cert, key: tls.key, allowHTTP1: true }, handle(containerPort));
          track(srv as unknown as Server);
          port = await bind(srv);
          break;
        }
        case 'tcp': {
          const srv = createNetServer((s) => tcpEcho(s, false, containerPort));
          track(srv);
          port = await bind(srv);
          break;
        }
        case 'udp': {
          // Every datagram gets {"request": <payload>, namespace, ingress, service, pod} back.
          const sock = createSocket('udp4');
          sock.on('message', (msg, rinfo) => {
            const reply = JSON.stringify({ request: msg.toString('utf8'), namespace: info.namespace, ingress: '', service: '', pod: info.pod });
            sock.send(reply, rinfo.port, rinfo.address);
          });
          sock.on('error', () => {});
          port = await new Promise<number>((resolve, reject) => {
            sock.once('error', reject);
            sock.bind(0, LOOPBACK, () => resolve(sock.address().port));
          });
          servers.push({ close: () => new Promise<void>((resolve) => sock.close(() => resolve())) });
          break;
        }
        case 'dns': {
          // Answers every A question with 127.0.0.1 (a stand-in for coredns' `whoami`).
          const sock = createSocket('udp4');
          sock.on('message', (msg, rinfo) => {
            const reply = dnsAnswer(msg);
            if (reply) sock.send(reply, rinfo.port, rinfo.address);
          });
          sock.on('error', () => {});
          port = await new Promise<number>((resolve, reject) => {
            sock.once('error', reject);
            sock.bind(0, LOOPBACK, () => resolve(sock.address().port));
          });
          servers.push({ close: () => new Promise<void>((resolve) => sock.close(() => resolve())) });
          break;
        }
        case 'tls-tcp': {
          if (!tls) throw new Error(`echo ${info.pod}: TLS port ${containerPort} needs a certificate`);
          const srv = createTlsServer({ cert: tls.cert, key: tls.key }, (s) => tcpEcho(s, true, containerPort));
          track(srv as unknown as NetServer);
          port = await bind(srv);
          break;
        }
      }
      ports.set(containerPort, port);
      return port;
    },
    async close() {
      await Promise.all(servers.map((s) => s.close()));
    },
  };
  return pod;
}
