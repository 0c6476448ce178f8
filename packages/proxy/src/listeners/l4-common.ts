/**
 * Shared pieces of the layer-4 port servers (TLS passthrough/termination, TCP, UDP): weighted choice
 * of a backendRef, SNI → listener/route selection, connecting to an endpoint, splicing two sockets, and
 * the connection registry whose periodic sweep enforces idle timeouts and reload semantics.
 *
 * Every function here is on the per-connection path: none of them throws, every socket gets an
 * `error` listener before anything can emit on it, and every exit path destroys both sides.
 */
import net from 'node:net';
import { HostTable, SmoothWeightedRoundRobin, buildPortMatcher } from '@gatehouse/core';
import type { BackendIR, BackendRefIR, L4RouteIR, ListenerIR, PortIR, PortMatcher, TlsRouteIR } from '@gatehouse/core';
import type { L4Record, PortServerContext, ResolvedEndpoint } from '../api.js';

// ---------------------------------------------------------------------------------------------- defaults

/** Options shared by the L4 servers. Every field has a default; tests shorten them. */
export interface L4Options {
  /**
   * Close a TCP/TLS connection after this long without a byte in either direction. Default 1 hour: the
   * same default Envoy's tcp_proxy uses; long enough for database and SSH sessions, short enough that a
   * peer that vanished without a FIN/RST (NAT timeout, power loss) does not hold a slot forever.
   */
  idleTimeoutMs?: number;
  /** Give up connecting to an endpoint after this long (default 10 s) and try the next one. */
  connectTimeoutMs?: number;
  /** How often the registry sweep runs (default: idle/10, clamped to 100 ms … 5 s). */
  sweepIntervalMs?: number;
}

export const DEFAULT_TCP_IDLE_MS = 60 * 60 * 1000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export function sweepInterval(idleMs: number, explicit?: number): number {
  if (explicit !== undefined && explicit > 0) return explicit;
  return Math.min(5000, Math.max(100, Math.floor(idleMs / 10)));
}

// ---------------------------------------------------------------------------------------------- weighted refs

/**
 * Smooth weighted round-robin over a route's backendRefs. An invalid ref (`backend: -1`) keeps its weight
 * so that its share of connections is refused, as the spec requires ("reject in proportion to weight").
 */
export class RefPicker {
  private readonly swrr: SmoothWeightedRoundRobin | null;
  constructor(readonly refs: readonly BackendRefIR[]) {
    const weights = refs.map((r) => (Number.isFinite(r.weight) && r.weight > 0 ? r.weight : 0));
    this.swrr = weights.some((w) => w > 0) ? new SmoothWeightedRoundRobin(weights) : null;
  }
  /** The next ref, or null when there is none with a positive weight. */
  pick(): BackendRefIR | null {
    if (!this.swrr) return null;
    const i = this.swrr.next();
    return i >= 0 && i < this.refs.length ? this.refs[i]! : null;
  }
}

// ---------------------------------------------------------------------------------------------- SNI routing

export type SniDecision =
  | { kind: 'https'; listener: ListenerIR }
  | { kind: 'tls'; listener: ListenerIR; route: TlsRouteIR; picker: RefPicker }
  | { kind: 'none'; listener: ListenerIR | null; reason: 'no_listener' | 'no_route' };

/**
 * SNI dispatch for one TLS port, built once per `update`. The TLSRoute choice is core's
 * `PortMatcher.matchSni` (the most specific listener hostname covering the SNI, then the most specific
 * route hostname among the routes of the TLS listeners with that hostname — listener isolation, never a
 * fallback to a less specific listener). When it has no route, the SNI still goes to an HTTPS listener
 * with that same most-specific hostname, which does its own Host routing; otherwise it is refused.
 *
 * Without SNI only a listener without hostname can be chosen; TLSRoute hostnames are required and never
 * `*`, so a client without SNI reaches HTTPS catch-all listeners only.
 */
export class SniRouter {
  /** Most specific TLS/HTTPS listener per hostname (for the HTTPS decision and refusal records). */
  private readonly listeners = new HostTable<ListenerIR>();
  /** Listener hostnames (`''` = none) that have an HTTPS listener. */
  private readonly httpsHosts = new Set<string>();
  private readonly matcher: PortMatcher;
  private readonly pickers = new Map<TlsRouteIR, RefPicker>();
  readonly hasHttps: boolean;

  constructor(readonly port: PortIR) {
    for (const l of port.listeners) {
      if (l.protocol !== 'HTTPS' && l.protocol !== 'TLS') continue;
      if (l.protocol === 'HTTPS') this.httpsHosts.add(l.hostname ?? '');
      this.listeners.add(l.hostname, l);
    }
    this.hasHttps = this.httpsHosts.size > 0;
    this.matcher = buildPortMatcher(port);
    for (const r of port.tlsRoutes) this.pickers.set(r, new RefPicker(r.backendRefs));
  }

  select(sni: string | null): SniDecision {
    // Without SNI only the catch-all listener (no hostname) can apply.
    const listener = (sni === null ? this.listeners.get(null) : this.listeners.best(sni)) ?? null;
    if (!listener) return { kind: 'none', listener: null, reason: 'no_listener' };
    const route = sni === null ? null : this.matcher.matchSni(sni);
    if (route) {
      const picker = this.pickers.get(route) ?? new RefPicker(route.backendRefs);
      return { kind: 'tls', listener: this.port.listeners[route.listener] ?? listener, route, picker };
    }
    if (this.httpsHosts.has(listener.hostname ?? '')) {
      const https = listener.protocol === 'HTTPS'
        ? listener
        : this.port.listeners.find((l) => l.protocol === 'HTTPS' && l.hostname === listener.hostname)!;
      return { kind: 'https', listener: https };
    }
    return { kind: 'none', listener, reason: 'no_route' };
  }

  /** Whether a route of this name still serves this port (reload: keep its connections). */
  hasRoute(route: string): boolean {
    for (const r of this.port.tlsRoutes) if (r.route === route) return true;
    return false;
  }
}

// ---------------------------------------------------------------------------------------------- sockets

/** Refuse a connection actively (RST where the platform allows), as the spec asks for invalid backends. */
export function rejectSocket(socket: net.Socket): void {
  if (socket.destroyed) return;
  try {
    if (typeof socket.resetAndDestroy === 'function' && !socket.connecting) socket.resetAndDestroy();
    else socket.destroy();
  } catch {
    socket.destroy();
  }
}

/** Stable backend-error reason for a socket error (metrics label: a small closed set). */
export function errorReason(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connect_refused';
    case 'ETIMEDOUT':
    case 'GATEHOUSE_CONNECT_TIMEOUT':
      return 'timeout';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'dns';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'unreachable';
    default:
      return 'connect_error';
  }
}

export function listenerIdOf(port: PortIR, route: L4RouteIR | null): ListenerIR | null {
  if (route && port.listeners[route.listener]) return port.listeners[route.listener]!;
  return port.listeners[0] ?? null;
}

/**
 * One proxied connection from accept (or SNI dispatch) to the close of both sockets. `finish` runs
 * exactly once and reports telemetry; the registry's sweep reads the byte counters for idleness.
 */
export class L4Conn {
  upstream: net.Socket | null = null;
  backend: BackendIR | null = null;
  endpoint: ResolvedEndpoint | null = null;
  result = 'ok';
  readonly startTime = Date.now();
  /** Activity snapshot for the idle sweep (bytes moved on the upstream socket). */
  lastBytes = -1;
  lastActive = Date.now();
  /** Set by a reload whose table no longer has this connection's route. */
  orphaned = false;
  private done = false;
  private counted = false;

  constructor(
    readonly registry: L4Registry,
    /** The client socket as the proxy reads it (the TLSSocket when terminating). */
    public client: net.Socket,
    /** The accepted TCP socket (same as `client` unless TLS is terminated). */
    readonly raw: net.Socket,
    readonly ctx: PortServerContext,
    readonly listener: ListenerIR | null,
    readonly route: L4RouteIR | null,
    readonly protocol: 'TLS' | 'TCP',
    readonly sni: string | null,
  ) {
    registry.add(this);
  }

  /** Count the connection as open on its listener (once it is routed). */
  open(): void {
    if (this.counted || !this.listener) return;
    this.counted = true;
    this.ctx.telemetry.onConnection(this.listener.id, 1);
  }

  /** Tear both sides down now (error, idle, reject, drain). */
  abort(result: string, reset = false): void {
    if (this.result === 'ok') this.result = result;
    if (reset) rejectSocket(this.raw);
    else this.raw.destroy();
    if (this.client !== this.raw) this.client.destroy();
    this.upstream?.destroy();
    // If nothing is attached yet, nothing else will call finish.
    if (!this.upstream) this.finish();
  }

  /** Called once both sides are closed (or the connection never got an upstream). */
  finish(): void {
    if (this.done) return;
    this.done = true;
    this.registry.delete(this);
    if (this.counted && this.listener) this.ctx.telemetry.onConnection(this.listener.id, -1);
    const up = this.upstream;
    const rec: L4Record = {
      gateway: this.listener?.gateway ?? '',
      listener: this.listener?.id ?? '',
      route: this.route?.route ?? null,
      backend: this.backend?.id ?? null,
      endpoint: this.endpoint?.key ?? null,
      protocol: this.protocol,
      sni: this.sni,
      // Bytes forwarded, measured on the upstream side (plaintext when TLS is terminated); a refused
      // connection reports what the client sent before it was refused.
      bytesIn: up ? up.bytesWritten : this.raw.bytesRead,
      bytesOut: up ? up.bytesRead : 0,
      durationMs: Date.now() - this.startTime,
      result: this.result,
      client: `${this.raw.remoteAddress ?? ''}:${this.raw.remotePort ?? ''}`,
      startTime: this.startTime,
    };
    try {
      this.ctx.telemetry.onL4(rec);
    } catch (err) {
      this.ctx.logger.error('telemetry onL4 failed', { error: String(err) });
    }
  }

  /** Bytes moved so far, for the idle sweep. */
  activity(): number {
    const up = this.upstream;
    if (!up) return this.raw.bytesRead;
    return up.bytesRead + up.bytesWritten;
  }
}

/**
 * The live connections of one port server. One interval per server (unref'd) checks idleness by
 * comparing byte counters with the previous sweep, so the data path pays nothing per chunk and there
 * is no timer per socket.
 */
export class L4Registry {
  private readonly conns = new Set<L4Conn>();
  private timer: NodeJS.Timeout | null = null;
  private drainWaiters: (() => void)[] = [];

  constructor(
    private idleMs: number,
    private sweepMs: number,
  ) {}

  configure(idleMs: number, sweepMs: number): void {
    this.idleMs = idleMs;
    if (sweepMs !== this.sweepMs) {
      this.sweepMs = sweepMs;
      if (this.timer) {
        this.stop();
        this.start();
      }
    }
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.sweep(), this.sweepMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  add(c: L4Conn): void {
    this.conns.add(c);
  }

  delete(c: L4Conn): void {
    this.conns.delete(c);
    if (this.conns.size === 0 && this.drainWaiters.length > 0) {
      const w = this.drainWaiters;
      this.drainWaiters = [];
      for (const f of w) f();
    }
  }

  get size(): number {
    return this.conns.size;
  }

  forEach(f: (c: L4Conn) => void): void {
    for (const c of [...this.conns]) f(c);
  }

  sweep(now = Date.now()): void {
    for (const c of [...this.conns]) {
      if (c.orphaned) {
        c.abort('route_removed');
        continue;
      }
      const a = c.activity();
      if (a !== c.lastBytes) {
        c.lastBytes = a;
        c.lastActive = now;
      } else if (now - c.lastActive >= this.idleMs) {
        c.abort('idle_timeout');
      }
    }
  }

  /** Resolve when every connection is gone, or after `ms` (then destroy the rest). */
  async drain(ms: number): Promise<void> {
    await this.whenEmpty(ms);
    for (const c of [...this.conns]) c.abort('shutdown');
    this.stop();
    // Destroyed sockets report 'close' on a later tick; wait (briefly) so telemetry is complete when
    // close() resolves.
    await this.whenEmpty(1000);
  }

  private whenEmpty(ms: number): Promise<void> {
    if (this.conns.size === 0 || ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      t.unref();
      this.drainWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

// ---------------------------------------------------------------------------------------------- forwarding

/**
 * Pick a backend for the connection, connect (trying up to three endpoints when connects fail), write
 * `head` (the buffered ClientHello for passthrough) and splice both ways. Refuses the client when the
 * chosen ref is invalid, the backend has no endpoint, or every attempt fails.
 */
export function forward(conn: L4Conn, picker: RefPicker, connectTimeoutMs: number, head: Buffer | null): void {
  const ref = picker.pick();
  if (!ref || ref.backend < 0) {
    conn.abort('backend_invalid', true);
    return;
  }
  const backend = conn.ctx.table.backends[ref.backend];
  if (!backend) {
    conn.abort('backend_invalid', true);
    return;
  }
  conn.backend = backend;
  const attempts = Math.max(1, Math.min(3, backend.endpoints.length));
  attempt(conn, backend, attempts, connectTimeoutMs, head);
}

function attempt(conn: L4Conn, backend: BackendIR, left: number, timeoutMs: number, head: Buffer | null): void {
  if (conn.client.destroyed) {
    // The client went away while we were connecting.
    conn.abort('client_closed');
    return;
  }
  let ep: ResolvedEndpoint | null = null;
  try {
    ep = conn.ctx.resolver.pick(backend);
  } catch (err) {
    conn.ctx.logger.error('backend resolver failed', { backend: backend.id, error: String(err) });
  }
  if (!ep) {
    conn.ctx.telemetry.onBackendError(backend.id, 'no_endpoint');
    conn.abort('no_endpoint', true);
    return;
  }
  conn.endpoint = ep;
  const endpoint = ep;
  const reader = new UpstreamReader(conn.client);
  const up = ep.unix
    ? net.connect({ path: ep.address, allowHalfOpen: true, onread: reader.onread })
    : net.connect({ host: ep.address, port: ep.port, allowHalfOpen: true, noDelay: true, onread: reader.onread });
  reader.up = up;
  let connected = false;
  const timer = setTimeout(() => {
    const e = Object.assign(new Error('connect timeout'), { code: 'GATEHOUSE_CONNECT_TIMEOUT' });
    up.destroy(e);
  }, timeoutMs);
  const onConnectError = (err: Error): void => {
    if (connected) return;
    clearTimeout(timer);
    const reason = errorReason(err);
    conn.ctx.telemetry.onBackendError(backend.id, reason);
    try {
      conn.ctx.resolver.reportFailure(backend, endpoint);
    } catch {
      /* a resolver bug must not take the connection path down */
    }
    if (left > 1 && !conn.client.destroyed) attempt(conn, backend, left - 1, timeoutMs, head);
    else conn.abort(reason === 'timeout' ? 'connect_timeout' : 'connect_error', true);
  };
  up.once('error', onConnectError);
  up.once('connect', () => {
    connected = true;
    clearTimeout(timer);
    up.removeListener('error', onConnectError);
    try {
      conn.ctx.resolver.reportSuccess(backend, endpoint);
    } catch {
      /* see above */
    }
    if (conn.client.destroyed) {
      up.destroy();
      conn.abort('client_closed');
      return;
    }
    conn.upstream = up;
    if (head && head.length > 0) up.write(head);
    splice(conn, conn.client, up);
  });
}

/**
 * Pipe both ways with back-pressure (pipe pauses the source while the destination's buffer is full) and
 * half-close (a FIN from one side ends the other's write side; sockets are `allowHalfOpen`). A side that
 * closes abnormally (error, RST, or destroyed before both directions finished) takes the other down.
 */
function splice(conn: L4Conn, client: net.Socket, up: net.Socket): void {
  let closed = 0;
  const onClose = (self: net.Socket, other: net.Socket, isUpstream: boolean) => () => {
    const graceful = self.readableEnded && self.writableFinished;
    if (!graceful && !other.destroyed) {
      if (conn.result === 'ok') conn.result = isUpstream ? 'upstream_reset' : 'client_reset';
      other.destroy();
    }
    if (++closed === 2) conn.finish();
  };
  up.on('error', (err) => {
    if (conn.result === 'ok') conn.result = 'upstream_error';
    conn.ctx.telemetry.onBackendError(conn.backend?.id ?? '', errorReason(err));
  });
  up.on('close', onClose(up, client, true));
  client.on('close', onClose(client, up, false));
  client.pipe(up);
  // upstream → client: the UpstreamReader given to net.connect writes each read; a FIN is passed on
  up.on('end', () => {
    if (!client.destroyed) client.end();
  });
}

/** Reads of every upstream socket land in this one buffer (net's `onread`) and are copied out at once. */
const UPSTREAM_READ_BYTES = 64 * 1024;
const upstreamReadBuffer = Buffer.allocUnsafe(UPSTREAM_READ_BYTES);
/** 64 KiB buffers whose client write has completed, reused by the next copy (bounded). */
const spareCopies: Buffer[] = [];
const MAX_SPARE_COPIES = 64;

/**
 * The upstream → client direction of a spliced connection, without a Readable stream: each read is
 * copied into a recycled 64 KiB buffer and written to the client, so a bulk transfer streams through a
 * few reused buffers instead of one fresh 64 KiB allocation per read (V8's GC was the largest cost of a
 * 1 MiB passthrough). Write callbacks come in write order, so the copies in flight are a FIFO recycled
 * by one prepared callback. A write the client cannot take pauses the upstream until 'drain'.
 */
class UpstreamReader {
  up: net.Socket | null = null;
  readonly #inFlight: Buffer[] = [];
  readonly onread: { buffer: Buffer; callback: (n: number, buf: Buffer) => boolean };

  constructor(readonly client: net.Socket) {
    this.onread = { buffer: upstreamReadBuffer, callback: (n, buf) => this.#onRead(n, buf) };
  }

  #onRead(n: number, buf: Buffer): boolean {
    const client = this.client;
    if (client.destroyed || client.writableEnded) return false;
    const copy = spareCopies.pop() ?? Buffer.allocUnsafeSlow(UPSTREAM_READ_BYTES);
    buf.copy(copy, 0, 0, n);
    this.#inFlight.push(copy);
    if (client.write(copy.subarray(0, n), this.#written)) return true;
    client.once('drain', this.#resume);
    return false; // pauses the upstream socket
  }

  readonly #written = (): void => {
    const copy = this.#inFlight.shift();
    if (copy !== undefined && spareCopies.length < MAX_SPARE_COPIES) spareCopies.push(copy);
  };

  readonly #resume = (): void => {
    const up = this.up;
    if (up !== null && !up.destroyed) up.resume();
  };
}

/** Binds a port server's socket; rejects with the bind error (EADDRINUSE, EACCES) instead of emitting it. */
export function listenOn(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
}

/**
 * A listener's connection cap (limits.maxConnections, the same on every port kind): beyond it Node
 * closes new connections at once; logged at most once a second under a connection flood.
 */
export function capConnections(server: net.Server, max: number, logger: { warn(msg: string, fields?: Record<string, unknown>): void }, key: string): void {
  server.maxConnections = max;
  let lastLog = 0;
  server.on('drop', () => {
    const now = Date.now();
    if (now - lastLog < 1000) return;
    lastLog = now;
    logger.warn('connection refused: max connections reached', { key, max });
  });
}
