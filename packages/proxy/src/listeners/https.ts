import http2 from 'node:http2';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { CertificateIR, PortIR, RoutingTable } from '@gatehouse/core';
import type { PortServerContext } from '../api.js';
import { handleHttpRequest, type DownRequest, type DownResponse } from '../engine/exchange.js';
import { preparedPort } from '../engine/prepared.js';
import { drainFast, fastFor } from '../fast/engine.js';
import { handleUpgrade } from '../upstream/websocket.js';
import { closeIdleSession, h2Options, HttpEngines, onClientError, type PortRef } from './http-server.js';

/** SNI → SecureContext for the HTTPS listeners of one port (built at update time, never per handshake). */
class CertSelector {
  readonly exact = new Map<string, tls.SecureContext>();
  /** `.suffix` → context, longest suffix first. */
  readonly wild: [string, tls.SecureContext][] = [];
  fallback: tls.SecureContext | null = null;

  constructor(port: PortIR, table: RoutingTable, cache: Map<string, tls.SecureContext>) {
    for (const l of port.listeners) {
      if (l.protocol !== 'HTTPS' || l.tls === null || l.tls.mode !== 'Terminate') continue;
      const idx = l.tls.certificates[0];
      const cert = idx === undefined ? undefined : table.certificates[idx];
      if (cert === undefined) continue;
      const ctx = contextFor(cert, cache);
      const h = l.hostname;
      if (h === null || h === '*') this.fallback ??= ctx;
      else if (h.startsWith('*.')) this.wild.push([h.slice(1), ctx]);
      else if (!this.exact.has(h)) this.exact.set(h, ctx);
    }
    this.wild.sort((a, b) => b[0].length - a[0].length);
    if (this.fallback === null) {
      const first = this.exact.values().next();
      this.fallback = first.done ? (this.wild[0]?.[1] ?? null) : first.value;
    }
  }

  select(servername: string): tls.SecureContext | null {
    const name = servername.toLowerCase();
    const e = this.exact.get(name);
    if (e !== undefined) return e;
    for (const [suffix, ctx] of this.wild) if (name.length > suffix.length && name.endsWith(suffix)) return ctx;
    return this.fallback;
  }
}

/**
 * node:http over TLS (`allowHTTP1`) has no connection checker, so the node engine's HTTP/1.1-over-TLS
 * connections get the headers and request timeouts from a 1 s sweep here, as the fast engine's do:
 * `kHeadAt` is when the bytes of a head began to arrive (0: not inside a head), `kReq` the request being
 * received and `kReqAt` when it began.
 */
const kHeadAt = Symbol('gatehouse.headAt');
const kReq = Symbol('gatehouse.req');
const kReqAt = Symbol('gatehouse.reqAt');
type H1Socket = tls.TLSSocket & { [kHeadAt]?: number; [kReq]?: DownRequest | null; [kReqAt]?: number; _httpMessage?: unknown };

function onH1Data(this: H1Socket): void {
  // runs after node:http's own data listener: a head completed by this read has already cleared it
  if (this[kHeadAt] === 0 && this[kReq] == null) this[kHeadAt] = performance.now();
}

function onH1ResponseDone(this: DownResponse & { [kReq]?: H1Socket }): void {
  const s = this[kReq];
  if (s !== undefined && s[kReq] === (this as unknown as { req?: unknown }).req) s[kReq] = null;
}

const REQUEST_TIMEOUT = Object.assign(new Error('request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' });

function contextFor(cert: CertificateIR, cache: Map<string, tls.SecureContext>): tls.SecureContext {
  const k = cert.cert + '\0' + cert.key;
  let ctx = cache.get(k);
  if (ctx === undefined) {
    ctx = tls.createSecureContext({ cert: cert.cert, key: cert.key });
    cache.set(k, ctx);
  }
  return ctx;
}

/**
 * HTTPS termination for a TLS port. The TLS port server (listeners/tls-port.ts) peeks the ClientHello,
 * and hands sockets whose SNI belongs to an HTTPS listener to `accept(socket)` with the ClientHello bytes
 * unshifted back. The certificate is chosen by SNI (longest matching listener hostname), ALPN offers h2
 * and http/1.1, and requests are routed on Host: 421 when the Host belongs to another listener of the
 * port than the SNI-selected one, 404 when none matches (features.md §9.3).
 *
 * Which engine serves (docs/architecture.md §"Which engine serves a port"): when the fast HTTP/1.1
 * engine serves the port (`fastFor`), the handshake is done by a plain `tls.Server` and, after it, ALPN
 * `h2` goes to the node:http2 secure server (`emit('secureConnection')`), HTTP/1.1 (or no ALPN) to the
 * fast engine. Otherwise the http2 secure server does the handshake itself and serves HTTP/1.1 with
 * `allowHTTP1` (node:http), as before.
 */
export class HttpsTerminator {
  readonly #ref: PortRef;
  /** h2 (both engines) and, on the node engine, HTTP/1.1 via allowHTTP1. */
  readonly #server: http2.Http2SecureServer;
  /** The handshake when the fast engine serves HTTP/1.1: same certificates, SNI selection and ALPN. */
  readonly #tls: tls.Server;
  /** Drain state and socket tracking of the fast engine's HTTP/1.1-over-TLS connections. */
  readonly #engines: HttpEngines;
  readonly #sockets = new Set<Socket>();
  readonly #sessions = new Set<http2.ServerHttp2Session>();
  /** HTTP/1.1-over-TLS connections of the node engine, so a drain can close the idle keep-alive ones. */
  readonly #h1Sockets = new Set<tls.TLSSocket>();
  #certs: CertSelector;
  #cache = new Map<string, tls.SecureContext>();
  #draining = false;
  /** The headers/request timeout sweep of #h1Sockets (running while there are any). */
  #sweep: NodeJS.Timeout | null = null;

  constructor(port: PortIR, ctx: PortServerContext) {
    this.#ref = { current: preparedPort(port, ctx) };
    this.#certs = new CertSelector(port, ctx.table, this.#cache);
    this.#engines = new HttpEngines(this.#ref, true);
    const onRequest = (req: DownRequest, res: DownResponse): void => {
      if (req.httpVersionMajor === 1) {
        const s = req.socket as H1Socket;
        s[kHeadAt] = 0;
        s[kReq] = req;
        s[kReqAt] = performance.now();
        (res as DownResponse & { [kReq]?: H1Socket })[kReq] = s;
        // 'close' follows 'finish', and also ends an aborted response
        res.once('close', onH1ResponseDone);
      }
      if (this.#draining && req.httpVersionMajor === 1) res.setHeader('connection', 'close');
      handleHttpRequest(this.#ref.current, req, res, true, sniOf(req.socket));
    };
    const limits = this.#ref.current.engine.limits;
    const sniCallback = (servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void): void =>
      cb(null, this.#certs.select(servername) ?? undefined);
    this.#server = http2.createSecureServer(
      {
        ...h2Options(limits),
        allowHTTP1: true,
        ALPNProtocols: ['h2', 'http/1.1'],
        SNICallback: sniCallback,
      },
      onRequest,
    );
    this.#tls = tls.createServer({ ALPNProtocols: ['h2', 'http/1.1'], SNICallback: sniCallback });
    const fallback = this.#certs.fallback;
    if (fallback !== null) this.#setDefault(port, ctx.table);
    this.#server.on('upgrade', (req: DownRequest, socket: Duplex, head: Buffer) => {
      handleUpgrade(this.#ref.current, req as import('node:http').IncomingMessage, socket, head, true, sniOf(socket));
    });
    this.#server.on('session', (s: http2.ServerHttp2Session) => {
      this.#sessions.add(s);
      s.once('close', () => this.#sessions.delete(s));
    });
    // h2 sessions idle for idleTimeoutMs: GOAWAY. node:http's HTTP/1.1 sockets of allowHTTP1 get the
    // same socket timeout (no byte either way for idleTimeoutMs): closed when no response is in progress
    this.#server.setTimeout(limits.idleTimeoutMs, ((s?: unknown) => {
      const h1 = s as tls.TLSSocket & { _httpMessage?: unknown };
      if (this.#h1Sockets.has(h1)) {
        if (h1._httpMessage == null) h1.destroy();
        return;
      }
      (closeIdleSession as (session: unknown) => void)(s);
    }) as () => void);
    // TLS handshake failures (scanners, wrong SNI, plain HTTP on the TLS port) stay quiet
    this.#server.on('tlsClientError', () => undefined);
    this.#tls.on('tlsClientError', () => undefined);
    // HTTP/1.1 over TLS: parser errors answered from the same table as plain HTTP
    this.#server.on('clientError', onClientError);
    this.#server.on('secureConnection', (s: tls.TLSSocket) => {
      if (s.alpnProtocol === 'h2') return;
      this.#h1Sockets.add(s);
      s.once('close', () => this.#h1Sockets.delete(s));
      const h = s as H1Socket;
      h[kHeadAt] = 0;
      h[kReq] = null;
      s.on('data', onH1Data);
      this.#sweep ??= setInterval(() => this.#sweepH1(), 1000).unref();
    });
    this.#tls.on('secureConnection', (s: tls.TLSSocket) => {
      // Node's http2 secure server takes an already-negotiated TLSSocket through this event (its
      // connection listener: h2 → a session; http/1.1 → node:http when allowHTTP1)
      if (s.alpnProtocol === 'h2') {
        this.#server.emit('secureConnection', s);
        return;
      }
      const fast = fastFor(this.#ref.current);
      if (fast !== null) {
        fast.accept(s, this.#ref, this.#engines, true, sniOf(s));
        return;
      }
      // a reload between accept() and the end of the handshake moved the port to the node engine: its
      // allowHTTP1 path reads the http2 server from `socket.server`
      (s as tls.TLSSocket & { server?: unknown }).server = this.#server;
      this.#server.emit('secureConnection', s);
    });
  }

  /** Headers and request timeouts of the node engine's HTTP/1.1-over-TLS connections (see kHeadAt). */
  #sweepH1(): void {
    if (this.#h1Sockets.size === 0) {
      clearInterval(this.#sweep!);
      this.#sweep = null;
      return;
    }
    const limits = this.#ref.current.engine.limits;
    const now = performance.now();
    const headersMs = limits.requestTimeoutMs > 0 ? Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) : limits.headersTimeoutMs;
    for (const sock of this.#h1Sockets) {
      const s = sock as H1Socket;
      if (s.destroyed) continue;
      const headAt = s[kHeadAt] ?? 0;
      const req = s[kReq];
      const late =
        (headersMs > 0 && headAt > 0 && now - headAt > headersMs) ||
        (limits.requestTimeoutMs > 0 && req != null && !(req as { complete?: boolean }).complete && now - (s[kReqAt] ?? now) > limits.requestTimeoutMs);
      // the same answer as node:http's own timeout on plain HTTP: 408 when nothing is being answered
      if (late) onClientError(REQUEST_TIMEOUT, s);
    }
  }

  /** Take over a raw TCP connection (ClientHello bytes already unshifted into it). */
  accept(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    // fast engine hook (fast/engine.ts): our own handshake, then h2 → http2, HTTP/1.1 → fast engine
    if (fastFor(this.#ref.current) !== null) this.#tls.emit('connection', socket);
    else this.#server.emit('connection', socket);
  }

  update(port: PortIR, ctx: PortServerContext): void {
    this.#ref.current = preparedPort(port, ctx);
    this.#certs = new CertSelector(port, ctx.table, this.#cache);
    this.#setDefault(port, ctx.table);
  }

  async close(drainMs: number): Promise<void> {
    this.#draining = true;
    this.#engines.draining = true;
    // fast engine: idle keep-alive connections close now, busy ones after their answer
    drainFast(this.#ref.current, this.#engines);
    for (const s of this.#sessions) if (!s.closed) s.close();
    // node:http over TLS: a response still to start says Connection: close, as the fast engine's do
    for (const s of this.#h1Sockets) {
      const res = (s as tls.TLSSocket & { _httpMessage?: { headersSent: boolean; shouldKeepAlive: boolean } | null })._httpMessage;
      if (res != null && !res.headersSent) res.shouldKeepAlive = false;
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((r) => {
      timer = setTimeout(r, drainMs);
      timer.unref();
    });
    const idle = (async () => {
      while (this.#sockets.size > 0) {
        await new Promise((r) => setTimeout(r, 20));
        // HTTP/1.1 keep-alive connections with no response in progress are idle: close them
        for (const s of this.#h1Sockets) if ((s as tls.TLSSocket & { _httpMessage?: unknown })._httpMessage == null) s.destroy();
      }
    })();
    await Promise.race([idle, deadline]);
    clearTimeout(timer);
    if (this.#sweep !== null) {
      clearInterval(this.#sweep);
      this.#sweep = null;
    }
    for (const s of this.#sockets) s.destroy();
    for (const s of this.#sessions) s.destroy();
    this.#engines.destroyAll();
  }

  /** Default certificate for clients that send no SNI. */
  #setDefault(port: PortIR, table: RoutingTable): void {
    for (const l of port.listeners) {
      if (l.protocol !== 'HTTPS' || l.tls === null) continue;
      const cert = table.certificates[l.tls.certificates[0] ?? -1];
      if (cert === undefined) continue;
      if (l.hostname === null || l.hostname === '*' || l === port.listeners[port.listeners.length - 1]) {
        const opts = { cert: cert.cert, key: cert.key, ALPNProtocols: ['h2', 'http/1.1'] } as tls.SecureContextOptions;
        this.#server.setSecureContext(opts);
        this.#tls.setSecureContext(opts);
        return;
      }
    }
  }
}

/** The SNI of a TLS connection (lower case), or null when the client sent none. */
function sniOf(socket: unknown): string | null {
  const name = (socket as { servername?: string | false } | null)?.servername;
  return typeof name === 'string' ? name.toLowerCase() : null;
}
