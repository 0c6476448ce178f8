/**
 * The client side: one request to the gateway on 127.0.0.1, with an explicit Host header (and SNI for
 * HTTPS listeners), bounded by a timeout. Reads the echo JSON the way the upstream round-tripper does:
 * only when Content-Type is exactly `application/json`.
 */
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { connect as h2connect, constants as h2c } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { createSocket as createUdpSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { dnsQuery, wsFrame, wsParse } from './echo.js';

export interface EchoBody {
  path: string;
  host: string;
  method: string;
  proto: string;
  headers: Record<string, string[]>;
  namespace: string;
  pod: string;
  httpPort?: string;
  tls?: { version?: string; serverName?: string; negotiatedProtocol?: string };
}

export interface Target {
  port: number;
  tls: boolean;
  /** TLS server name; undefined = none. */
  sni?: string;
  http2?: boolean;
}

export interface OutgoingRequest {
  method: string;
  /** Host header / :authority. */
  host: string;
  /** Path with query. */
  path: string;
  headers: [string, string][];
  body?: string;
}

export interface RoundTrip {
  status: number;
  /** Response headers, lowercased name → values. */
  headers: Map<string, string[]>;
  echo: EchoBody | null;
  /** Raw body (truncated) when it was not an echo. */
  bodySnippet: string;
  protocol: string;
  /** SHA-256 fingerprint of the certificate the gateway served (TLS only). */
  peerCertFingerprint?: string;
}

export class RequestError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

const MAX_BODY = 1 << 20;

function collectHeaders(h: IncomingHttpHeaders): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || k.startsWith(':')) continue;
    out.set(k.toLowerCase(), Array.isArray(v) ? v : [String(v)]);
  }
  return out;
}

function finish(status: number, headers: Map<string, string[]>, body: Buffer, protocol: string): RoundTrip {
  let echo: EchoBody | null = null;
  const ct = headers.get('content-type');
  const text = body.toString('utf8');
  if (ct && ct.length === 1 && ct[0] === 'application/json') {
    try {
      echo = JSON.parse(text) as EchoBody;
    } catch {
      echo = null;
    }
  }
  return { status, headers, echo, bodySnippet: echo ? '' : text.slice(0, 200), protocol };
}

function peerFingerprint(socket: unknown): string | undefined {
  const s = socket as { getPeerCertificate?: () => { fingerprint256?: string } } | null;
  return s && typeof s.getPeerCertificate === 'function' ? s.getPeerCertificate().fingerprint256 || undefined : undefined;
}

function outgoingHeaders(req: OutgoingRequest): OutgoingHttpHeaders {
  const h: Record<string, string | string[]> = {};
  for (const [k, v] of req.headers) {
    const existing = Object.keys(h).find((x) => x.toLowerCase() === k.toLowerCase());
    if (existing !== undefined) {
      const cur = h[existing]!;
      h[existing] = Array.isArray(cur) ? [...cur, v] : [cur, v];
    } else h[k] = v;
  }
  return h;
}

function h1(target: Target, req: OutgoingRequest, timeoutMs: number): Promise<RoundTrip> {
  return new Promise((resolve, reject) => {
    const headers: OutgoingHttpHeaders = { ...outgoingHeaders(req), Host: req.host };
    if (req.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(req.body));
    const common = {
      host: '127.0.0.1',
      port: target.port,
      method: req.method,
      path: req.path,
      headers,
      setHost: false,
      agent: false as const,
      timeout: timeoutMs,
    };
    const r = target.tls
      ? httpsRequest({ ...common, servername: target.sni ?? '', rejectUnauthorized: false })
      : httpRequest(common);
    const timer = setTimeout(() => r.destroy(new RequestError(`no response within ${timeoutMs}ms`, 'TIMEOUT')), timeoutMs);
    r.on('timeout', () => r.destroy(new RequestError(`no response within ${timeoutMs}ms`, 'TIMEOUT')));
    r.on('error', (e: Error & { code?: string }) => {
      clearTimeout(timer);
      reject(e instanceof RequestError ? e : new RequestError(e.message, e.code ?? 'ERROR'));
    });
    r.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY) chunks.push(c);
      });
      res.on('error', (e: Error & { code?: string }) => {
        clearTimeout(timer);
        reject(new RequestError(e.message, e.code ?? 'ERROR'));
      });
      res.on('end', () => {
        clearTimeout(timer);
        const rt = finish(res.statusCode ?? 0, collectHeaders(res.headers), Buffer.concat(chunks), `HTTP/${res.httpVersion}`);
        const fp = peerFingerprint(res.socket);
        if (fp) rt.peerCertFingerprint = fp;
        resolve(rt);
      });
    });
    if (req.body !== undefined) r.write(req.body);
    r.end();
  });
}

function h2(target: Target, req: OutgoingRequest, timeoutMs: number): Promise<RoundTrip> {
  return new Promise((resolve, reject) => {
    const authority = `${target.tls ? 'https' : 'http'}://127.0.0.1:${target.port}`;
    const session = h2connect(
      authority,
      target.tls ? { servername: target.sni ?? '', rejectUnauthorized: false, ALPNProtocols: ['h2'] } : {},
    );
    let done = false;
    const fail = (e: Error & { code?: string }): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      session.destroy();
      reject(e instanceof RequestError ? e : new RequestError(e.message, e.code ?? 'ERROR'));
    };
    const timer = setTimeout(() => fail(new RequestError(`no response within ${timeoutMs}ms`, 'TIMEOUT')), timeoutMs);
    session.on('error', fail);
    const headers: OutgoingHttpHeaders = {
      [h2c.HTTP2_HEADER_METHOD]: req.method,
      [h2c.HTTP2_HEADER_PATH]: req.path,
      [h2c.HTTP2_HEADER_SCHEME]: target.tls ? 'https' : 'http',
      [h2c.HTTP2_HEADER_AUTHORITY]: req.host,
    };
    for (const [k, v] of Object.entries(outgoingHeaders(req))) headers[k.toLowerCase()] = v;
    const stream = session.request(headers, { endStream: req.body === undefined });
    let status = 0;
    let resHeaders = new Map<string, string[]>();
    const chunks: Buffer[] = [];
    stream.on('response', (h) => {
      status = Number(h[h2c.HTTP2_HEADER_STATUS] ?? 0);
      resHeaders = collectHeaders(h as IncomingHttpHeaders);
    });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', fail);
    stream.on('end', () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      session.close();
      const rt = finish(status, resHeaders, Buffer.concat(chunks), 'HTTP/2.0');
      const fp = peerFingerprint(session.socket);
      if (fp) rt.peerCertFingerprint = fp;
      resolve(rt);
    });
    if (req.body !== undefined) stream.end(req.body);
  });
}

export interface TcpEchoResult {
  welcome: string;
  pong: string;
  isTls: string;
  test: { namespace?: string; pod?: string; isTLS?: boolean; tls?: { serverName?: string } } | null;
}

/**
 * The TCP echo line protocol through the gateway: read the welcome line, then PING → PONG, IS_TLS →
 * true/false, TEST → one JSON line. Over TLS when `target.tls` (SNI = target.sni). Rejects with a
 * RequestError when the connection is refused, reset or closed before all four answers arrive.
 */
export function tcpEchoExchange(target: Target, timeoutMs: number): Promise<TcpEchoResult> {
  return new Promise((resolve, reject) => {
    const socket = target.tls
      ? tlsConnect({ host: '127.0.0.1', port: target.port, servername: target.sni ?? '', rejectUnauthorized: false })
      : netConnect({ host: '127.0.0.1', port: target.port });
    let buf = '';
    let done = false;
    const finish = (err: RequestError | null, res?: TcpEchoResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(res!);
    };
    const timer = setTimeout(() => finish(new RequestError(`no complete answer within ${timeoutMs}ms`, 'TIMEOUT')), timeoutMs);
    socket.setEncoding('utf8');
    socket.on(target.tls ? 'secureConnect' : 'connect', () => socket.write('PING\nIS_TLS\nTEST\n'));
    socket.on('data', (d: string) => {
      buf += d;
      const lines = buf.split('\n');
      if (lines.length < 5) return;
      let test: TcpEchoResult['test'] = null;
      try {
        test = JSON.parse(lines[3]!) as TcpEchoResult['test'];
      } catch {
        test = null;
      }
      finish(null, { welcome: lines[0]!, pong: lines[1]!, isTls: lines[2]!, test });
    });
    socket.on('error', (e: Error & { code?: string }) => finish(new RequestError(e.message, e.code ?? 'ERROR')));
    socket.on('close', () => finish(new RequestError(`connection closed after ${JSON.stringify(buf.slice(0, 80))}`, 'CLOSED')));
  });
}

export interface UdpEchoResult {
  request?: string;
  namespace?: string;
  pod?: string;
}

/** One datagram to the gateway and the echo's JSON reply; rejects (code TIMEOUT) when nothing comes back. */
export function udpEchoExchange(port: number, payload: string, timeoutMs: number): Promise<UdpEchoResult> {
  return new Promise((resolve, reject) => {
    const sock = createUdpSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      reject(new RequestError(`no datagram back within ${timeoutMs}ms`, 'TIMEOUT'));
    }, timeoutMs);
    sock.on('message', (msg) => {
      clearTimeout(timer);
      sock.close();
      try {
        resolve(JSON.parse(msg.toString('utf8')) as UdpEchoResult);
      } catch {
        reject(new RequestError(`not a UDP echo reply: ${msg.toString('utf8').slice(0, 80)}`, 'MALFORMED'));
      }
    });
    sock.on('error', (e: Error & { code?: string }) => {
      clearTimeout(timer);
      sock.close();
      reject(new RequestError(e.message, e.code ?? 'ERROR'));
    });
    sock.send(payload, port, '127.0.0.1');
  });
}

/**
 * A WebSocket round trip through the gateway: upgrade on `path`, send one text message, read the echo.
 * Resolves with the upgrade status and the echoed text (null when the upgrade was refused).
 */
export function webSocketEcho(target: Target, host: string, path: string, message: string, timeoutMs: number): Promise<{ status: number; echoed: string | null }> {
  return new Promise((resolve, reject) => {
    const key = randomBytes(16).toString('base64');
    const r = (target.tls ? httpsRequest : httpRequest)({
      host: '127.0.0.1',
      port: target.port,
      path,
      method: 'GET',
      setHost: false,
      agent: false,
      headers: { Host: host, Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': key, 'Sec-WebSocket-Version': '13' },
      ...(target.tls ? { servername: target.sni ?? '', rejectUnauthorized: false } : {}),
    });
    const timer = setTimeout(() => r.destroy(new RequestError(`no WebSocket echo within ${timeoutMs}ms`, 'TIMEOUT')), timeoutMs);
    r.on('error', (e: Error & { code?: string }) => {
      clearTimeout(timer);
      reject(e instanceof RequestError ? e : new RequestError(e.message, e.code ?? 'ERROR'));
    });
    r.on('response', (res) => {
      clearTimeout(timer);
      res.resume();
      resolve({ status: res.statusCode ?? 0, echoed: null });
    });
    r.on('upgrade', (res, socket, head) => {
      let buf = Buffer.from(head);
      socket.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        const f = wsParse(buf);
        if (f) {
          clearTimeout(timer);
          socket.destroy();
          resolve({ status: res.statusCode ?? 101, echoed: f.payload.toString('utf8') });
        }
      });
      socket.on('error', () => {});
      socket.write(wsFrame(0x1, Buffer.from(message, 'utf8'), true));
    });
    r.end();
  });
}

/** A DNS A query over UDP; resolves with the response code and answer count of a matching reply. */
export function dnsExchange(port: number, name: string, timeoutMs: number): Promise<{ rcode: number; answers: number }> {
  return new Promise((resolve, reject) => {
    const id = Math.floor(Math.random() * 0xffff);
    const sock = createUdpSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      reject(new RequestError(`no DNS answer within ${timeoutMs}ms`, 'TIMEOUT'));
    }, timeoutMs);
    sock.on('message', (msg) => {
      if (msg.length < 12 || msg.readUInt16BE(0) !== id || (msg[2]! & 0x80) === 0) return;
      clearTimeout(timer);
      sock.close();
      resolve({ rcode: msg[3]! & 0x0f, answers: msg.readUInt16BE(6) });
    });
    sock.on('error', (e: Error & { code?: string }) => {
      clearTimeout(timer);
      sock.close();
      reject(new RequestError(e.message, e.code ?? 'ERROR'));
    });
    sock.send(dnsQuery(id, name), port, '127.0.0.1');
  });
}

/** One request; rejects with RequestError on connection errors and timeouts. */
export function roundTrip(target: Target, req: OutgoingRequest, timeoutMs: number): Promise<RoundTrip> {
  return target.http2 ? h2(target, req, timeoutMs) : h1(target, req, timeoutMs);
}
