/**
 * The socket of a TLS port: every listener on it starts with a TLS ClientHello (HTTPS termination, TLS
 * termination, TLS passthrough), so the server reads the ClientHello first — bounded in bytes and time —
 * and dispatches by SNI:
 *
 * - a `TLS` listener in Passthrough mode with a matching TLSRoute: connect to a backend, replay the
 *   ClientHello bytes, then splice both ways untouched (the backend's certificate is what the client sees);
 * - a `TLS` listener in Terminate mode: terminate with the listener certificate, splice the plaintext;
 * - an `HTTPS` listener: hand the raw socket, with the ClientHello pushed back, to the HTTPS terminator
 *   (listeners/https.ts), which does certificate selection, ALPN and HTTP routing;
 * - anything else (no SNI, unknown SNI, no route, invalid backend): close, nothing forwarded.
 *
 * One socket can carry mixed listeners (HTTPS and TLS passthrough on 443) because the choice is made per
 * connection from the SNI, before any TLS state exists.
 */
import net from 'node:net';
import tls from 'node:tls';
import { HostTable, parseClientHello } from '@gatehouse/core';
import type { ListenerIR, PortIR, TlsRouteIR } from '@gatehouse/core';
import type { PortServer, PortServerContext } from '../api.js';
import { preparedPort } from '../engine/prepared.js';
import { HttpsTerminator } from './https.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_TCP_IDLE_MS,
  L4Conn,
  L4Registry,
  SniRouter,
  forward,
  capConnections,
  listenOn,
  rejectSocket,
  sweepInterval,
} from './l4-common.js';
import type { L4Options, RefPicker } from './l4-common.js';

/** What the TLS port needs from the HTTPS terminator (listeners/https.ts, `HttpsTerminator`). */
export interface HttpsTerminatorLike {
  /** Take over a raw TCP socket whose ClientHello is still unread (pushed back with `unshift`). */
  accept(socket: net.Socket): void;
  update(port: PortIR, ctx: PortServerContext): void;
  close(drainMs: number): Promise<void>;
}

export type HttpsTerminatorFactory = (port: PortIR, ctx: PortServerContext) => HttpsTerminatorLike;

export interface TlsPortOptions extends L4Options {
  /** A client that has not sent a complete ClientHello after this long is closed (default 5 s). */
  helloTimeoutMs?: number;
  /** A ClientHello larger than this is refused (default 16 KiB; real ones are 0.5–2 KiB). */
  maxHelloBytes?: number;
  /** Overrides how HTTPS listeners are served (default: `HttpsTerminator` from ./https.js). */
  httpsFactory?: HttpsTerminatorFactory;
}

export const DEFAULT_HELLO_TIMEOUT_MS = 5000;
export const DEFAULT_MAX_HELLO_BYTES = 16 * 1024;

export class TlsPortServer implements PortServer {
  readonly key: string;
  private port: PortIR;
  private ctx: PortServerContext;
  private router: SniRouter;
  private server: net.Server | null = null;
  private readonly registry: L4Registry;
  /** Sockets still sending their ClientHello (closed at once on shutdown: nothing started yet). */
  private readonly pending = new Set<net.Socket>();
  private https: HttpsTerminatorLike | null = null;
  private readonly httpsFactory: HttpsTerminatorFactory;
  private warnedNoHttps = false;
  private closing = false;
  private readonly helloTimeoutMs: number;
  private readonly maxHelloBytes: number;
  private readonly connectTimeoutMs: number;
  /** Secure contexts for Terminate listeners, by certificate index of the current table (lazy). */
  private contexts = new Map<number, tls.SecureContext | null>();
  /** Same contexts by PEM content, so a reload that keeps a certificate does not rebuild it. */
  private contextsByPem = new Map<string, tls.SecureContext>();

  constructor(port: PortIR, ctx: PortServerContext, options: TlsPortOptions = {}) {
    this.key = port.key;
    this.port = port;
    this.ctx = ctx;
    this.router = new SniRouter(port);
    this.helloTimeoutMs = options.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS;
    this.maxHelloBytes = options.maxHelloBytes ?? DEFAULT_MAX_HELLO_BYTES;
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const idle = options.idleTimeoutMs ?? DEFAULT_TCP_IDLE_MS;
    this.registry = new L4Registry(idle, sweepInterval(idle, options.sweepIntervalMs));
    this.httpsFactory = options.httpsFactory ?? ((p, c) => new HttpsTerminator(p, c));
  }

  async listen(): Promise<void> {
    this.ensureHttps();
    const server = net.createServer(
      { allowHalfOpen: true, noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 },
      (s) => this.onConnection(s),
    );
    capConnections(server, preparedPort(this.port, this.ctx).engine.limits.maxConnections, this.ctx.logger, this.key);
    const host = this.port.address ?? this.ctx.bindAddress;
    await listenOn(server, host, this.port.port);
    server.on('error', (err) => this.ctx.logger.error('TLS port server error', { port: this.key, error: String(err) }));
    this.server = server;
    this.registry.start();
  }

  update(port: PortIR, ctx: PortServerContext): void {
    this.port = port;
    this.ctx = ctx;
    this.router = new SniRouter(port);
    // Keep secure contexts whose certificate is unchanged; index → context is rebuilt lazily.
    const keep = new Map<string, tls.SecureContext>();
    for (const c of ctx.table.certificates) {
      const old = this.contextsByPem.get(pemKey(c.cert, c.key));
      if (old) keep.set(pemKey(c.cert, c.key), old);
    }
    this.contextsByPem = keep;
    this.contexts = new Map();
    // Connections whose TLSRoute is gone are closed by the next sweep; the rest keep their config.
    const router = this.router;
    this.registry.forEach((c) => {
      if (c.route && !router.hasRoute(c.route.route)) c.orphaned = true;
    });
    if (this.https) {
      try {
        this.https.update(port, ctx);
      } catch (err) {
        ctx.logger.error('HTTPS terminator update failed', { port: this.key, error: String(err) });
      }
    } else {
      this.ensureHttps();
    }
  }

  async close(drainMs: number): Promise<void> {
    this.closing = true;
    const server = this.server;
    const closed = server
      ? new Promise<void>((resolve) => {
          server.close(() => resolve());
        })
      : Promise.resolve();
    for (const s of this.pending) s.destroy();
    this.pending.clear();
    await Promise.all([
      this.registry.drain(drainMs),
      this.https
        ? this.https.close(drainMs).catch((err) => {
            this.ctx.logger.error('HTTPS terminator close failed', { port: this.key, error: String(err) });
          })
        : Promise.resolve(),
    ]);
    // server.close's callback waits for every accepted socket; they are all gone by now, but bound the
    // wait anyway so a socket owned by someone else cannot hang shutdown.
    await Promise.race([closed, new Promise<void>((r) => setTimeout(r, 1000).unref())]);
  }

  boundPort(): number {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : 0;
  }

  /** Open connections (passthrough/terminate; HTTPS connections are counted by the terminator). */
  connectionCount(): number {
    return this.registry.size;
  }

  // ------------------------------------------------------------------------------------------ internals

  private ensureHttps(): void {
    if (this.https || !this.router.hasHttps) return;
    try {
      this.https = this.httpsFactory(this.port, this.ctx);
    } catch (err) {
      this.ctx.logger.error('cannot start the HTTPS terminator', { port: this.key, error: String(err) });
    }
  }

  private onConnection(socket: net.Socket): void {
    // Before anything else: an unhandled socket error would crash the process.
    socket.on('error', (err) => this.ctx.logger.debug('TLS client socket error', { error: String(err) }));
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.pending.add(socket);
    const start = Date.now();
    // One growing buffer (capacity doubles) so a client that sends its hello a byte at a time costs
    // linear, not quadratic, copying. parseClientHello only walks record headers until the message is
    // complete, so re-parsing after every segment is cheap too.
    let buf = Buffer.allocUnsafe(1024);
    let len = 0;
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      this.pending.delete(socket);
    };
    const refuse = (result: string): void => {
      cleanup();
      this.record(socket, start, null, null, result);
      rejectSocket(socket);
    };
    const onTimeout = (): void => refuse('hello_timeout');
    const onEnd = (): void => refuse('hello_incomplete');
    const onData = (chunk: Buffer): void => {
      if (len + chunk.length > this.maxHelloBytes) {
        refuse('hello_too_large');
        return;
      }
      if (len + chunk.length > buf.length) {
        const next = Buffer.allocUnsafe(Math.min(this.maxHelloBytes, Math.max(buf.length * 2, len + chunk.length)));
        buf.copy(next, 0, 0, len);
        buf = next;
      }
      chunk.copy(buf, len);
      len += chunk.length;
      const res = parseClientHello(buf.subarray(0, len));
      if (res.status === 'need-more') return;
      if (res.status === 'invalid') {
        this.ctx.logger.debug('not a TLS ClientHello', { port: this.key, reason: res.reason });
        refuse('not_tls');
        return;
      }
      cleanup();
      // Stop reading until the destination is ready; pipe()/the terminator resumes it.
      socket.pause();
      this.dispatch(socket, start, Buffer.from(buf.subarray(0, len)), res.sni);
    };
    // A fixed deadline from accept, not an idle timeout: a client dribbling one byte just inside an idle
    // timeout would otherwise hold its pending slot for hours (16 KiB × the timeout).
    const timer = setTimeout(onTimeout, this.helloTimeoutMs);
    socket.on('data', onData);
    socket.on('end', onEnd);
  }

  private dispatch(socket: net.Socket, start: number, head: Buffer, sni: string | null): void {
    // Snapshot the config: this connection keeps it even if a reload lands while it is being set up.
    const ctx = this.ctx;
    const decision = this.router.select(sni);
    switch (decision.kind) {
      case 'https': {
        if (!this.https) {
          if (!this.warnedNoHttps) {
            this.warnedNoHttps = true;
            ctx.logger.warn('HTTPS listener on a TLS port but no HTTPS terminator is available', { port: this.key });
          }
          this.record(socket, start, decision.listener, null, 'https_unavailable', sni);
          rejectSocket(socket);
          return;
        }
        socket.unshift(head);
        // The port accepts with allowHalfOpen (passthrough must relay half-closes); an HTTPS connection
        // gets the default of a plain tls.Server instead, so a client FIN ends the connection.
        socket.allowHalfOpen = false;
        // connections_open of the HTTPS listener the SNI chose (as L4 connections count theirs)
        const telemetry = ctx.telemetry;
        const lid = decision.listener.id;
        telemetry.onConnection(lid, 1);
        socket.once('close', () => telemetry.onConnection(lid, -1));
        try {
          this.https.accept(socket);
        } catch (err) {
          ctx.logger.error('HTTPS terminator accept failed', { port: this.key, error: String(err) });
          socket.destroy();
        }
        return;
      }
      case 'none': {
        this.record(socket, start, decision.listener, null, sni === null ? 'no_sni' : 'no_route', sni);
        rejectSocket(socket);
        return;
      }
      case 'tls': {
        if (decision.route.mode === 'Passthrough') {
          const conn = new L4Conn(this.registry, socket, socket, ctx, decision.listener, decision.route, 'TLS', sni);
          conn.open();
          forward(conn, decision.picker, this.connectTimeoutMs, head);
        } else {
          this.terminate(socket, start, head, sni, decision.listener, decision.route, decision.picker, ctx);
        }
        return;
      }
    }
  }

  /** TLS listener in Terminate mode: decrypt with the listener certificate, forward plaintext. */
  private terminate(
    socket: net.Socket,
    start: number,
    head: Buffer,
    sni: string | null,
    listener: ListenerIR,
    route: TlsRouteIR,
    picker: RefPicker,
    ctx: PortServerContext,
  ): void {
    const secureContext = this.secureContextFor(listener, sni, ctx);
    if (!secureContext) {
      this.record(socket, start, listener, route.route, 'no_certificate', sni);
      rejectSocket(socket);
      return;
    }
    // Push the ClientHello back: TLSSocket reads what is buffered on the socket before the handle.
    socket.unshift(head);
    let tlsSocket: tls.TLSSocket;
    try {
      tlsSocket = new tls.TLSSocket(socket, { isServer: true, secureContext });
    } catch (err) {
      ctx.logger.error('cannot start TLS termination', { port: this.key, error: String(err) });
      socket.destroy();
      return;
    }
    const conn = new L4Conn(this.registry, tlsSocket, socket, ctx, listener, route, 'TLS', sni);
    conn.open();
    let secure = false;
    tlsSocket.on('error', (err) => {
      if (!secure) {
        ctx.logger.debug('TLS handshake failed', { port: this.key, sni, error: String(err) });
        conn.abort('tls_handshake_error');
      } else if (conn.result === 'ok') {
        conn.result = 'client_error';
      }
    });
    // The handshake gets the same fixed budget as the ClientHello, counted from the end of the hello.
    const timer = setTimeout(() => {
      if (!secure) conn.abort('tls_handshake_timeout');
    }, this.helloTimeoutMs);
    tlsSocket.once('close', () => clearTimeout(timer));
    tlsSocket.once('secure', () => {
      secure = true;
      clearTimeout(timer);
      // TLSSocket starts flowing on its own; hold plaintext until the upstream is connected.
      tlsSocket.pause();
      forward(conn, picker, this.connectTimeoutMs, null);
    });
  }

  /** The listener certificate for this SNI: the one whose names match it most specifically, else the first. */
  private secureContextFor(listener: ListenerIR, sni: string | null, ctx: PortServerContext): tls.SecureContext | null {
    const indices = listener.tls?.certificates ?? [];
    if (indices.length === 0) return null;
    let index = indices[0]!;
    if (indices.length > 1 && sni !== null) {
      const table = new HostTable<number>();
      for (const i of indices) for (const h of ctx.table.certificates[i]?.hostnames ?? []) table.add(h, i);
      index = table.best(sni) ?? index;
    }
    if (this.contexts.has(index)) return this.contexts.get(index)!;
    const cert = ctx.table.certificates[index];
    let sc: tls.SecureContext | null = null;
    if (cert) {
      const k = pemKey(cert.cert, cert.key);
      sc = this.contextsByPem.get(k) ?? null;
      if (!sc) {
        try {
          sc = tls.createSecureContext({ cert: cert.cert, key: cert.key });
          this.contextsByPem.set(k, sc);
        } catch (err) {
          ctx.logger.error('invalid certificate for TLS termination', { secret: cert.secret, error: String(err) });
        }
      }
    }
    // Only cache for the table it was computed against (a reload replaces the map).
    if (ctx === this.ctx) this.contexts.set(index, sc);
    return sc;
  }

  /** Telemetry for a connection that never reached a backend. */
  private record(
    socket: net.Socket,
    start: number,
    listener: ListenerIR | null,
    route: string | null,
    result: string,
    sni: string | null = null,
  ): void {
    // Refusals before a listener is known are reported against the port's first listener.
    const l = listener ?? this.port.listeners[0] ?? null;
    try {
      this.ctx.telemetry.onL4({
        gateway: l?.gateway ?? '',
        listener: l?.id ?? '',
        route,
        backend: null,
        endpoint: null,
        protocol: 'TLS',
        sni,
        bytesIn: socket.bytesRead,
        bytesOut: 0,
        durationMs: Date.now() - start,
        result,
        client: `${socket.remoteAddress ?? ''}:${socket.remotePort ?? ''}`,
        startTime: start,
      });
    } catch (err) {
      this.ctx.logger.error('telemetry onL4 failed', { error: String(err) });
    }
  }
}

function pemKey(cert: string, key: string): string {
  return `${cert}\u0000${key}`;
}
