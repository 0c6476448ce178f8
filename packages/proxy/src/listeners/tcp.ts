/**
 * A TCP port served by one TCPRoute: every accepted connection gets a backendRef by smooth weighted
 * round-robin, an endpoint from the resolver, and is spliced to it byte for byte. The spec asks that an
 * invalid backendRef's share of connections be rejected (features.md §8, §10): those, and connections to
 * a port without a route, are reset without reading anything.
 *
 * Sockets are accepted paused (`pauseOnConnect`) so nothing is read from the client until the upstream
 * is connected: the kernel's receive window is the buffer, not our heap.
 */
import net from 'node:net';
import type { L4RouteIR, PortIR } from '@gatehouse/core';
import type { PortServer, PortServerContext } from '../api.js';
import { preparedPort } from '../engine/prepared.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_TCP_IDLE_MS,
  L4Conn,
  L4Registry,
  RefPicker,
  forward,
  capConnections,
  listenOn,
  listenerIdOf,
  sweepInterval,
} from './l4-common.js';
import type { L4Options } from './l4-common.js';

export class TcpPortServer implements PortServer {
  readonly key: string;
  private port: PortIR;
  private ctx: PortServerContext;
  private picker: RefPicker | null;
  private server: net.Server | null = null;
  private readonly registry: L4Registry;
  private readonly connectTimeoutMs: number;
  private closing = false;

  constructor(port: PortIR, ctx: PortServerContext, options: L4Options = {}) {
    this.key = port.key;
    this.port = port;
    this.ctx = ctx;
    this.picker = port.l4Route ? new RefPicker(port.l4Route.backendRefs) : null;
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const idle = options.idleTimeoutMs ?? DEFAULT_TCP_IDLE_MS;
    this.registry = new L4Registry(idle, sweepInterval(idle, options.sweepIntervalMs));
  }

  async listen(): Promise<void> {
    const server = net.createServer(
      { allowHalfOpen: true, pauseOnConnect: true, noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 },
      (s) => this.onConnection(s),
    );
    capConnections(server, preparedPort(this.port, this.ctx).engine.limits.maxConnections, this.ctx.logger, this.key);
    const host = this.port.address ?? this.ctx.bindAddress;
    await listenOn(server, host, this.port.port);
    server.on('error', (err) => this.ctx.logger.error('TCP port server error', { port: this.key, error: String(err) }));
    this.server = server;
    this.registry.start();
  }

  update(port: PortIR, ctx: PortServerContext): void {
    this.port = port;
    this.ctx = ctx;
    // A fresh balancer: weights may have changed. Connections in flight keep their backend.
    this.picker = port.l4Route ? new RefPicker(port.l4Route.backendRefs) : null;
    const current = port.l4Route?.route ?? null;
    // Connections of a route that no longer serves this port are closed by the next sweep.
    this.registry.forEach((c) => {
      if (c.route && c.route.route !== current) c.orphaned = true;
    });
  }

  async close(drainMs: number): Promise<void> {
    this.closing = true;
    const server = this.server;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    await this.registry.drain(drainMs);
    await Promise.race([closed, new Promise<void>((r) => setTimeout(r, 1000).unref())]);
  }

  boundPort(): number {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : 0;
  }

  /** Open connections (for tests and the admin view). */
  connectionCount(): number {
    return this.registry.size;
  }

  private onConnection(socket: net.Socket): void {
    socket.on('error', (err) => this.ctx.logger.debug('TCP client socket error', { error: String(err) }));
    if (this.closing) {
      socket.destroy();
      return;
    }
    const route: L4RouteIR | null = this.port.l4Route;
    const conn = new L4Conn(this.registry, socket, socket, this.ctx, listenerIdOf(this.port, route), route, 'TCP', null);
    if (!route || !this.picker) {
      conn.abort('no_route', true);
      return;
    }
    conn.open();
    forward(conn, this.picker, this.connectTimeoutMs, null);
  }
}
