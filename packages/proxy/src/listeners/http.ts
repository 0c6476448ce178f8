import net from 'node:net';
import type { PortIR } from '@gatehouse/core';
import type { PortServer, PortServerContext } from '../api.js';
import { ErrorCode, GatehouseError } from '../errors.js';
import { preparedPort } from '../engine/prepared.js';
import { HttpEngines, type PortRef } from './http-server.js';
import { drainFast, fastFor } from '../fast/engine.js';
import { capConnections } from './l4-common.js';

/**
 * A plain-HTTP port (PortIR.protocol `HTTP`): HTTP/1.1 via node:http and h2c with prior knowledge via
 * node:http2 (so GRPCRoute works on plain HTTP), one net.Server, sockets sniffed for the h2 preface.
 */
export class HttpPortServer implements PortServer {
  readonly key: string;
  #port: PortIR;
  #ctx: PortServerContext;
  readonly #ref: PortRef;
  readonly #engines: HttpEngines;
  readonly #server: net.Server;
  #listenerId: string;

  constructor(port: PortIR, ctx: PortServerContext) {
    this.key = port.key;
    this.#port = port;
    this.#ctx = ctx;
    this.#ref = { current: preparedPort(port, ctx) };
    this.#listenerId = port.listeners[0]?.id ?? port.key;
    this.#engines = new HttpEngines(this.#ref, false);
    this.#server = net.createServer({ noDelay: true }, (socket) => {
      const telemetry = this.#ctx.telemetry;
      const id = this.#listenerId;
      telemetry.onConnection(id, 1);
      socket.once('close', () => telemetry.onConnection(id, -1));
      // fast engine hook (fast/engine.ts): raw-socket HTTP/1.1 when selected, else node:http
      const fast = fastFor(this.#ref.current);
      if (fast !== null) fast.accept(socket, this.#ref, this.#engines);
      else this.#engines.acceptPlain(socket);
    });
    // beyond this many open connections, Node closes new ones at once (limits.maxConnections)
    capConnections(this.#server, this.#ref.current.engine.limits.maxConnections, ctx.logger, this.key);
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        reject(new GatehouseError(ErrorCode.LISTEN, `cannot listen on ${this.key}: ${err.code ?? err.message}`, { cause: err }));
      };
      this.#server.once('error', onError);
      // backlog: Node's default (511) overflows under connection bursts (SYN retransmits = seconds of latency);
      // the kernel caps it at net.core.somaxconn
      this.#server.listen({ host: this.#port.address ?? this.#ctx.bindAddress, port: this.#port.port, backlog: 4096 }, () => {
        this.#server.removeListener('error', onError);
        this.#server.on('error', (err) => this.#ctx.logger.error('listener error', { key: this.key, error: err.message }));
        resolve();
      });
    });
  }

  update(port: PortIR, ctx: PortServerContext): void {
    this.#port = port;
    this.#ctx = ctx;
    this.#listenerId = port.listeners[0]?.id ?? port.key;
    this.#ref.current = preparedPort(port, ctx);
  }

  async close(drainMs: number): Promise<void> {
    const closed = new Promise<void>((r) => this.#server.close(() => r()));
    this.#engines.drain();
    drainFast(this.#ref.current, this.#engines); // fast engine hook
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((r) => {
      timer = setTimeout(r, drainMs);
      timer.unref();
    });
    const idle = (async () => {
      while (this.#engines.sockets.size > 0) {
        await new Promise((r) => setTimeout(r, 20));
        // keep-alive connections whose last request just finished
        this.#engines.h1.closeIdleConnections();
      }
    })();
    await Promise.race([idle, deadline]);
    clearTimeout(timer);
    this.#engines.destroyAll();
    await closed;
  }

  boundPort(): number {
    const a = this.#server.address();
    return a !== null && typeof a === 'object' ? a.port : 0;
  }
}
