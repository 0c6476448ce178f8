import http from 'node:http';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { handleHttpRequest, type DownRequest, type DownResponse } from '../engine/exchange.js';
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
    this.h1 = http.createServer(
      {
        // keep Node's strict parser (no insecureHTTPParser); generous keep-alive for proxies in front
        keepAliveTimeout: 65_000,
        headersTimeout: 60_000,
        requestTimeout: 0,
        noDelay: true,
      },
      onRequest,
    );
    this.h1.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      const up = req.headers.upgrade;
      if (typeof up === 'string' && up.toLowerCase() !== 'websocket' && !this.secure) {
        // Not a WebSocket (e.g. `Upgrade: h2c` from curl --http2): decline the upgrade, as RFC 9110
        // allows, and serve the request as plain HTTP/1.1 on a fresh parser.
        (socket as Socket).unshift(Buffer.concat([declinedUpgradeHead(req), head]));
        this.h1.emit('connection', socket);
        return;
      }
      handleUpgrade(this.ref.current, req, socket, head, this.secure, this.secure ? sniOf(req) : null);
    });
    // node:http tracks connections (closeIdleConnections, headersTimeout/requestTimeout checks) only
    // once the server is 'listening'; this one never listens itself (sockets are handed to it)
    this.h1.emit('listening');
    this.h1.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      if (socket.writable && !(socket as Socket).destroyed) {
        const body = 'bad request\n';
        const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
        socket.end(`HTTP/1.1 ${status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
      } else socket.destroy();
    });
    this.h2 = http2.createServer({}, onRequest);
    this.h2.on('session', (s: http2.ServerHttp2Session) => {
      (s as unknown as Record<symbol, unknown>)[kRemoteAddress] = this.#remote;
      this.sessions.add(s);
      s.once('close', () => this.sessions.delete(s));
    });
  }

  /** Hand a plain-TCP connection over: h2c prior knowledge goes to http2, the rest to node:http. */
  acceptPlain(socket: Socket): void {
    this.track(socket);
    socket.once('data', (chunk: Buffer) => this.#sniff(socket, chunk));
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

/** The request head again, without Upgrade / HTTP2-Settings and the Connection tokens naming them. */
function declinedUpgradeHead(req: http.IncomingMessage): Buffer {
  let text = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
  const raw = req.rawHeaders;
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
  return Buffer.from(text + '\r\n', 'latin1');
}

function sniOf(req: DownRequest): string | null {
  const s = req.socket as Socket & { servername?: string | false; [kSni]?: string };
  const name = s.servername;
  return typeof name === 'string' ? name.toLowerCase() : null;
}
