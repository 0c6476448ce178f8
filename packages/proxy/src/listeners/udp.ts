/**
 * A UDP port served by one UDPRoute. UDP has no connections, so the proxy keeps sessions keyed by the
 * client's `address:port`: the first datagram of a client picks a backendRef (smooth weighted
 * round-robin) and an endpoint, and opens a connected UDP socket to it; later datagrams of that client
 * use the same socket, and replies arriving on it are sent back to the client from the listening socket
 * (so the client sees answers from the address it sent to). A connected socket lets the kernel drop
 * datagrams from anyone but the endpoint.
 *
 * Sessions end after `idleTimeoutMs` without a datagram in either direction (default 60 s, a common
 * NAT/conntrack UDP timeout; DNS and QUIC clients retry sooner), found by a periodic sweep that compares
 * datagram counters, so the per-datagram path does no timer work. At most `maxSessions` live at once
 * (default 10,000): beyond that, new clients' datagrams are dropped and that is logged once per episode.
 *
 * An invalid backendRef's share is dropped, as the spec asks (features.md §8): the datagram that picked it
 * is dropped without creating a session, so the client's next datagram picks again and the dropped
 * share stays proportional to the weight.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { BackendIR, L4RouteIR, ListenerIR, PortIR } from '@gatehouse/core';
import type { PortServer, PortServerContext, ResolvedEndpoint } from '../api.js';
import { RefPicker, errorReason, listenerIdOf, sweepInterval } from './l4-common.js';

export interface UdpOptions {
  /** Session idle expiry (default 60 s). */
  idleTimeoutMs?: number;
  /** Maximum concurrent sessions (default 10,000). */
  maxSessions?: number;
  /** Sweep period (default idle/10, clamped to 100 ms … 5 s). */
  sweepIntervalMs?: number;
  /** Datagrams held per session while its upstream socket connects (default 64; more are dropped). */
  maxPending?: number;
}

export const DEFAULT_UDP_IDLE_MS = 60_000;
export const DEFAULT_UDP_MAX_SESSIONS = 10_000;

class UdpSession {
  upstream: dgram.Socket | null = null;
  connected = false;
  closed = false;
  pending: Buffer[] = [];
  datagrams = 0;
  lastDatagrams = -1;
  lastActive = Date.now();
  bytesIn = 0;
  bytesOut = 0;
  result = 'ok';
  readonly startTime = Date.now();
  constructor(
    readonly key: string,
    readonly address: string,
    readonly port: number,
    readonly ctx: PortServerContext,
    readonly listener: ListenerIR | null,
    readonly route: L4RouteIR,
    readonly backend: BackendIR,
    readonly endpoint: ResolvedEndpoint,
  ) {}
}

export class UdpPortServer implements PortServer {
  readonly key: string;
  private port: PortIR;
  private ctx: PortServerContext;
  private picker: RefPicker | null;
  private socket: dgram.Socket | null = null;
  private readonly sessions = new Map<string, UdpSession>();
  private readonly idleMs: number;
  private readonly sweepMs: number;
  private readonly maxSessions: number;
  private readonly maxPending: number;
  private timer: NodeJS.Timeout | null = null;
  private closing = false;
  private warnedFull = false;
  private drainWaiter: (() => void) | null = null;

  constructor(port: PortIR, ctx: PortServerContext, options: UdpOptions = {}) {
    this.key = port.key;
    this.port = port;
    this.ctx = ctx;
    this.picker = port.l4Route ? new RefPicker(port.l4Route.backendRefs) : null;
    this.idleMs = options.idleTimeoutMs ?? DEFAULT_UDP_IDLE_MS;
    this.sweepMs = sweepInterval(this.idleMs, options.sweepIntervalMs);
    this.maxSessions = options.maxSessions ?? DEFAULT_UDP_MAX_SESSIONS;
    this.maxPending = options.maxPending ?? 64;
  }

  async listen(): Promise<void> {
    const host = this.port.address ?? this.ctx.bindAddress;
    const sock = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ address: host, port: this.port.port }, () => {
        sock.removeListener('error', reject);
        resolve();
      });
    });
    sock.on('error', (err) => this.ctx.logger.error('UDP port socket error', { port: this.key, error: String(err) }));
    sock.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    this.socket = sock;
    this.timer = setInterval(() => this.sweep(), this.sweepMs);
    this.timer.unref();
  }

  update(port: PortIR, ctx: PortServerContext): void {
    this.port = port;
    this.ctx = ctx;
    this.picker = port.l4Route ? new RefPicker(port.l4Route.backendRefs) : null;
    // Sessions keep their backend; those whose route is gone are closed by the next sweep.
  }

  async close(drainMs: number): Promise<void> {
    // Stop creating sessions; existing ones keep forwarding (replies need the listening socket) until
    // they expire or the drain time is up.
    this.closing = true;
    // a second, shorter close (shutdown, or the port bound again by a reload) ends the first one's wait
    if (drainMs <= 0 && this.drainWaiter !== null) this.drainWaiter();
    if (this.sessions.size > 0 && drainMs > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, drainMs);
        t.unref();
        this.drainWaiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    this.drainWaiter = null;
    for (const s of [...this.sessions.values()]) this.endSession(s, 'shutdown');
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const sock = this.socket;
    this.socket = null;
    if (sock) await new Promise<void>((r) => sock.close(() => r()));
  }

  boundPort(): number {
    try {
      return this.socket?.address().port ?? 0;
    } catch {
      return 0;
    }
  }

  /** Live sessions (for tests and the admin view). */
  sessionCount(): number {
    return this.sessions.size;
  }

  // ------------------------------------------------------------------------------------------ internals

  private drop(listenerId: string): void {
    this.ctx.telemetry.onUdpDatagram(listenerId, 'in', 'dropped');
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const key = `${rinfo.address}:${rinfo.port}`;
    const existing = this.sessions.get(key);
    if (existing) {
      this.sendUp(existing, msg);
      return;
    }
    const route = this.port.l4Route;
    const listener = listenerIdOf(this.port, route);
    const listenerId = listener?.id ?? '';
    if (!route || !this.picker || this.closing) {
      this.drop(listenerId);
      return;
    }
    if (this.sessions.size >= this.maxSessions) {
      if (!this.warnedFull) {
        this.warnedFull = true;
        this.ctx.logger.warn('UDP session limit reached: dropping datagrams from new clients', {
          port: this.key,
          maxSessions: this.maxSessions,
        });
      }
      this.drop(listenerId);
      return;
    }
    const ref = this.picker.pick();
    const backend = ref && ref.backend >= 0 ? this.ctx.table.backends[ref.backend] : undefined;
    if (!backend) {
      this.drop(listenerId);
      return;
    }
    let ep: ResolvedEndpoint | null = null;
    try {
      ep = this.ctx.resolver.pick(backend);
    } catch (err) {
      this.ctx.logger.error('backend resolver failed', { backend: backend.id, error: String(err) });
    }
    if (!ep || ep.unix) {
      this.ctx.telemetry.onBackendError(backend.id, ep ? 'unsupported_endpoint' : 'no_endpoint');
      this.drop(listenerId);
      return;
    }
    const s = new UdpSession(key, rinfo.address, rinfo.port, this.ctx, listener, route, backend, ep);
    this.sessions.set(key, s);
    this.ctx.telemetry.onConnection(listenerId, 1);
    this.openUpstream(s);
    this.sendUp(s, msg);
  }

  private openUpstream(s: UdpSession): void {
    const up = dgram.createSocket({ type: net.isIPv6(s.endpoint.address) ? 'udp6' : 'udp4' });
    s.upstream = up;
    up.on('error', (err) => {
      // On a connected socket an ICMP port-unreachable surfaces here (ECONNREFUSED). End the session so
      // the client's next datagram picks again (possibly another endpoint).
      const reason = errorReason(err);
      s.ctx.telemetry.onBackendError(s.backend.id, reason);
      try {
        s.ctx.resolver.reportFailure(s.backend, s.endpoint);
      } catch {
        /* a resolver bug must not take the datagram path down */
      }
      this.endSession(s, 'upstream_error');
    });
    up.on('message', (reply) => {
      if (s.closed || !this.socket) return;
      s.datagrams++;
      s.bytesOut += reply.length;
      this.socket.send(reply, s.port, s.address, (err) => {
        s.ctx.telemetry.onUdpDatagram(s.listener?.id ?? '', 'out', err ? 'dropped' : 'forwarded');
      });
    });
    up.connect(s.endpoint.port, s.endpoint.address, () => {
      if (s.closed) return;
      s.connected = true;
      const queued = s.pending;
      s.pending = [];
      for (const m of queued) this.sendUp(s, m);
    });
  }

  private sendUp(s: UdpSession, msg: Buffer): void {
    const listenerId = s.listener?.id ?? '';
    if (s.closed || !s.upstream) {
      this.drop(listenerId);
      return;
    }
    s.datagrams++;
    if (!s.connected) {
      if (s.pending.length >= this.maxPending) {
        this.drop(listenerId);
        return;
      }
      s.pending.push(msg);
      return;
    }
    s.bytesIn += msg.length;
    try {
      s.upstream.send(msg);
      s.ctx.telemetry.onUdpDatagram(listenerId, 'in', 'forwarded');
    } catch (err) {
      // A socket closed between the check and the send: count it, never throw on the datagram path.
      s.ctx.logger.debug('UDP upstream send failed', { error: String(err) });
      this.drop(listenerId);
    }
  }

  private endSession(s: UdpSession, result: string): void {
    if (s.closed) return;
    s.closed = true;
    if (s.result === 'ok') s.result = result;
    this.sessions.delete(s.key);
    if (this.sessions.size < this.maxSessions) this.warnedFull = false;
    for (let i = 0; i < s.pending.length; i++) this.drop(s.listener?.id ?? '');
    s.pending = [];
    try {
      s.upstream?.close();
    } catch {
      /* already closed */
    }
    const listenerId = s.listener?.id ?? '';
    s.ctx.telemetry.onConnection(listenerId, -1);
    try {
      s.ctx.telemetry.onL4({
        gateway: s.listener?.gateway ?? '',
        listener: listenerId,
        route: s.route.route,
        backend: s.backend.id,
        endpoint: s.endpoint.key,
        protocol: 'UDP',
        sni: null,
        bytesIn: s.bytesIn,
        bytesOut: s.bytesOut,
        durationMs: Date.now() - s.startTime,
        // Idle expiry is how a UDP session normally ends.
        result: s.result === 'idle_timeout' ? 'ok' : s.result,
        client: s.key,
        startTime: s.startTime,
      });
    } catch (err) {
      s.ctx.logger.error('telemetry onL4 failed', { error: String(err) });
    }
    if (this.sessions.size === 0 && this.drainWaiter) this.drainWaiter();
  }

  private sweep(now = Date.now()): void {
    const current = this.port.l4Route?.route ?? null;
    for (const s of [...this.sessions.values()]) {
      if (s.route.route !== current) {
        this.endSession(s, 'route_removed');
      } else if (s.datagrams !== s.lastDatagrams) {
        s.lastDatagrams = s.datagrams;
        s.lastActive = now;
      } else if (now - s.lastActive >= this.idleMs) {
        this.endSession(s, 'idle_timeout');
      }
    }
  }
}
