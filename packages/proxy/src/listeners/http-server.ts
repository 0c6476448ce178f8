import http from 'node:http';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { handleHttpRequest, kParseError, type DownRequest, type DownResponse } from '../engine/exchange.js';
import { replyForParserError, type Limits } from '../limits.js';
import type { PreparedPort } from '../engine/prepared.js';
import { handleUpgrade } from '../upstream/websocket.js';
import { kRemoteAddress, looksLikeH2Preface, replayingDuplex } from './sniff.js';

/** Where a connection's requests find the current prepared port (swapped on reload). */
export interface PortRef {
  current: PreparedPort;
  /** Listener ids for connection telemetry (first listener of the port). */
}

const kSni = Symbol('gatehouse.sni');

/**
 * The HTTP engines of one port: a node:http server (HTTP/1.1, Node's strict parser) and an http2 server
 * for h2c prior knowledge, fed sockets by the owner (a plain listener or the TLS terminator). Requests
 * read `ref.current` when they start, so a swap never disturbs one in flight.
 */
export class HttpEngines {
  readonly h1: http.Server;
  readonly h2: http2.Http2Server;
  readonly sockets = new Set<Socket>();
  readonly sessions = new Set<http2.ServerHttp2Session>();
  draining = false;

  constructor(
    readonly ref: PortRef,
    readonly secure: boolean,
  ) {
    const onRequest = (req: DownRequest, res: DownResponse): void => {
      if (this.draining && req.httpVersionMajor === 1) (res as http.ServerResponse).shouldKeepAlive = false;
      handleHttpRequest(this.ref.current, req, res, this.secure, this.secure ? sniOf(req) : null);
    };
    const limits = ref.current.engine.limits;
    this.h1 = http.createServer(
      {
        // keep Node's strict parser (no insecureHTTPParser); limits from limits.ts
        keepAliveTimeout: limits.idleTimeoutMs,
        headersTimeout: limits.requestTimeoutMs > 0 ? Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) : limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        // Node enforces both timeouts by sweeping its connection list at this period (no timer per request)
        connectionsCheckingInterval: 1_000,
        maxHeaderSize: limits.maxHeaderBytes,
        requireHostHeader: true,
        noDelay: true,
      },
      onRequest,
    );
    // one more than allowed, so the engine sees the overflow and answers 431 (Node would drop the rest)
    this.h1.maxHeadersCount = limits.maxHeaderCount + 1;
    this.h1.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      const up = req.headers.upgrade;
      if (typeof up === 'string' && up.toLowerCase() !== 'websocket' && !this.secure) {
        // Not a WebSocket (e.g. `Upgrade: h2c` from curl --http2): decline the upgrade, as RFC 9110
        // allows, and serve the request as plain HTTP/1.1 on a fresh parser.
        (socket as Socket).unshift(Buffer.concat([Buffer.from(declinedUpgradeHead(req.method ?? 'GET', req.url ?? '/', req.httpVersionMinor, req.rawHeaders), 'latin1'), head]));
        this.h1.emit('connection', socket);
        return;
      }
      handleUpgrade(this.ref.current, req, socket, head, this.secure, this.secure ? sniOf(req) : null);
    });
    // node:http tracks connections (closeIdleConnections, headersTimeout/requestTimeout checks) only
    // once the server is 'listening'; this one never listens itself (sockets are handed to it)
    this.h1.emit('listening');
    this.h1.on('clientError', onClientError);
    this.h2 = http2.createServer(h2Options(limits), onRequest);
    // an h2 connection without a frame either way for idleTimeoutMs: GOAWAY (streams in flight finish)
    this.h2.setTimeout(limits.idleTimeoutMs, closeIdleSession);
    this.h2.on('session', (s: http2.ServerHttp2Session) => {
      (s as unknown as Record<symbol, unknown>)[kRemoteAddress] = this.#remote;
      this.sessions.add(s);
      s.once('close', () => this.sessions.delete(s));
    });
  }

  /** Hand a plain-TCP connection over: h2c prior knowledge goes to http2, the rest to node:http. */
  acceptPlain(socket: Socket): void {
    this.track(socket);
    // until the first byte node:http does not see the socket: its headers timeout is ours to apply
    const ms = this.ref.current.engine.limits.headersTimeoutMs;
    if (ms > 0) {
      socket.setTimeout(ms);
      socket.once('timeout', destroySilent);
    }
    socket.once('data', (chunk: Buffer) => {
      if (ms > 0) {
        socket.setTimeout(0);
        socket.removeListener('timeout', destroySilent);
      }
      this.#sniff(socket, chunk);
    });
  }

  #sniff(socket: Socket, chunk: Buffer): void {
    if (looksLikeH2Preface(chunk)) {
      this.#remote = socket.remoteAddress;
      this.h2.emit('connection', replayingDuplex(socket, chunk));
      this.#remote = undefined;
      return;
    }
    socket.pause();
    socket.unshift(chunk);
    this.h1.emit('connection', socket);
    socket.resume();
  }

  #remote: string | undefined;

  track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  /** Stop keep-alive reuse, close idle connections, GOAWAY h2 sessions. */
  drain(): void {
    this.draining = true;
    this.h1.closeIdleConnections();
    for (const s of this.sessions) if (!s.closed) s.close();
  }

  destroyAll(): void {
    this.h1.close(() => undefined); // stops the connection-checking interval
    for (const s of this.sockets) s.destroy();
    for (const s of this.sessions) s.destroy();
    this.sockets.clear();
  }
}

/** HTTP/2 server options from the limits (h2c here, h2 over TLS in https.ts). */
export function h2Options(limits: Limits): http2.ServerOptions {
  return {
    settings: { maxConcurrentStreams: limits.maxConcurrentStreams, maxHeaderListSize: limits.maxHeaderBytes },
    maxHeaderListPairs: limits.maxHeaderCount + 5,
  };
}

/**
 * Http2 server 'timeout' (Node passes the inactive session; the typings say no argument): GOAWAY, streams
 * in flight finish. Anything else (an HTTP/1.1 socket of an allowHTTP1 server) is left alone.
 */
export const closeIdleSession = ((session: unknown): void => {
  const s = session as http2.ServerHttp2Session | undefined;
  if (s === undefined || s === null || typeof (s as { goaway?: unknown }).goaway !== 'function') return;
  if (!s.closed && !s.destroyed) s.close();
}) as () => void;

type ParsedSocket = Duplex & { [kParseError]?: boolean; _httpMessage?: (http.ServerResponse & { _headerSent?: boolean }) | null };

/**
 * node:http's `clientError` (the parser refused the bytes, or a request/headers timeout): answer with
 * the status from the one table in limits.ts and `Connection: close`, then close. A request already
 * handed to the engine from the same bytes sees the socket marked and is never forwarded.
 */
export function onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const s = socket as ParsedSocket;
  s[kParseError] = true;
  const reply = replyForParserError(err.code);
  if (reply === null || !s.writable || s.destroyed) {
    s.destroy();
    return;
  }
  const inFlight = s._httpMessage;
  if (inFlight != null && inFlight._headerSent === true) {
    // a response is (being) written on this connection: appending bytes would corrupt it. One that is
    // complete (the engine's own 4xx/501, say) is let out first; one still streaming is cut.
    if (inFlight.writableFinished) s.end();
    else if (inFlight.writableEnded) inFlight.once('finish', () => void (s.destroyed || s.end()));
    else s.destroy();
    return;
  }
  s.end(reply.bytes);
  // do not wait for the peer: the socket is closed once the answer is flushed
  s.once('finish', destroySocket);
}

function destroySocket(this: Duplex): void {
  this.destroy();
}

/** A connection that sent nothing within the headers timeout: closed, nothing to answer. */
function destroySilent(this: Socket): void {
  this.destroy();
}


/**
 * A declined upgrade's request head again, without Upgrade / HTTP2-Settings and the Connection tokens
 * naming them: both engines parse it anew and serve the request as plain HTTP/1.1.
 */
export function declinedUpgradeHead(method: string, url: string, versionMinor: number, raw: readonly string[]): string {
  let text = `${method} ${url} HTTP/1.${versionMinor}\r\n`;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i].toLowerCase();
    if (lower === 'upgrade' || lower === 'http2-settings') continue;
    if (lower === 'connection') {
      const rest = raw[i + 1]
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t !== '' && !/^(upgrade|http2-settings)$/i.test(t));
      if (rest.length > 0) text += `${raw[i]}: ${rest.join(', ')}\r\n`;
      continue;
    }
    text += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  return text + '\r\n';
}

function sniOf(req: DownRequest): string | null {
  const s = req.socket as Socket & { servername?: string | false; [kSni]?: string };
  const name = s.servername;
  return typeof name === 'string' ? name.toLowerCase() : null;
}
