import { withBindFailures, type PortIR, type RoutingTable, type StatusReport } from '@gatehouse/core';
import type {
  ApplyResult,
  BackendResolver,
  L4Record,
  Logger,
  PortServer,
  PortServerContext,
  RequestRecord,
  Runtime,
  Telemetry,
} from './api.js';
import { HttpEngine, type EngineOptions } from './engine/engine.js';
import { closeFastEngine, fastPoolStats, retainFast, useHttpEngine, type HttpEngineName } from './fast/engine.js';
import { PreparedTable, registerPrepared } from './engine/prepared.js';
import { HttpPortServer } from './listeners/http.js';
import { TcpPortServer } from './listeners/tcp.js';
import { TlsPortServer } from './listeners/tls-port.js';
import { UdpPortServer } from './listeners/udp.js';
import { DefaultBackendResolver } from './upstream/resolver.js';

/** Telemetry that does nothing (the default until the cli wires metrics and access logs). */
export class NoopTelemetry implements Telemetry {
  prepare(_table: RoutingTable): void {}
  onRequest(_rec: RequestRecord): void {}
  onL4(_rec: L4Record): void {}
  onConnection(_listenerId: string, _delta: 1 | -1): void {}
  onBackendError(_backendId: string, _reason: string): void {}
  onUdpDatagram(_listenerId: string, _direction: 'in' | 'out', _result: 'forwarded' | 'dropped'): void {}
}

/** A plain console logger (the default until the cli wires the real one). */
export class ConsoleLogger implements Logger {
  constructor(readonly level: 'debug' | 'info' | 'warn' | 'error' = 'info') {}
  #on(l: string): boolean {
    const order = ['debug', 'info', 'warn', 'error'];
    return order.indexOf(l) >= order.indexOf(this.level);
  }
  debug(msg: string, fields?: Record<string, unknown>): void {
    if (this.#on('debug')) console.debug(msg, fields ?? '');
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    if (this.#on('info')) console.info(msg, fields ?? '');
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    if (this.#on('warn')) console.warn(msg, fields ?? '');
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    if (this.#on('error')) console.error(msg, fields ?? '');
  }
}

export type PortServerFactory = (port: PortIR, ctx: PortServerContext) => PortServer;

/** GatehouseRuntime.upstreamStats(): the same shape for both HTTP/1.1 engines. */
export interface UpstreamStats {
  engine: HttpEngineName;
  pools: number;
  connected: number;
  free: number;
  pending: number;
  running: number;
}

export interface RuntimeOptions extends EngineOptions {
  /** Listener address when a Gateway has no `spec.addresses` (default `0.0.0.0`). */
  bindAddress?: string;
  logger?: Logger;
  telemetry?: Telemetry;
  /** Default: DefaultBackendResolver (static, DNS with refresh, unix sockets). */
  resolver?: BackendResolver;
  /** HTTP/1.1 engine for plain-HTTP ports: `fast` (raw sockets + llhttp) or `node` (node:http + undici); default: `GATEHOUSE_HTTP_ENGINE`, then fast/engine.ts DEFAULT_HTTP_ENGINE. */
  httpEngine?: 'fast' | 'node';
  /**
   * How long the in-flight requests and connections of a listener removed by a reload (or whose port
   * changed protocol) may take to finish before they are closed (`--drain-timeout`; default 15 s).
   */
  drainTimeoutMs?: number;
  /** Override the PortServer per protocol (tests). */
  servers?: Partial<Record<PortIR['protocol'], PortServerFactory>>;
}

const DEFAULT_SERVERS: Record<PortIR['protocol'], PortServerFactory> = {
  HTTP: (p, c) => new HttpPortServer(p, c),
  TLS: (p, c) => new TlsPortServer(p, c),
  TCP: (p, c) => new TcpPortServer(p, c),
  UDP: (p, c) => new UdpPortServer(p, c),
};

/**
 * The data plane's single owner of "the current table". `apply()` prepares everything for the new table
 * first (matchers, balancers, filter plans, telemetry, DNS), then swaps: servers keyed by PortIR.key are
 * opened, updated in place, or closed by diff. Requests in flight keep the prepared table they started
 * with; upstream pools are keyed by endpoint and closed only when no table uses them.
 */
export class GatehouseRuntime implements Runtime {
  readonly engine: HttpEngine;
  /** The HTTP/1.1 engine in use (after the binding contract check). */
  readonly httpEngine: HttpEngineName;
  readonly logger: Logger;
  readonly telemetry: Telemetry;
  readonly resolver: BackendResolver;
  readonly bindAddress: string;
  readonly #servers = new Map<string, { server: PortServer; protocol: PortIR['protocol'] }>();
  readonly #factories: Record<PortIR['protocol'], PortServerFactory>;
  #current: { table: RoutingTable; status: StatusReport } | null = null;
  #applying: Promise<unknown> = Promise.resolve();
  #closed = false;
  readonly #drainMs: number;
  /** Servers removed by a reload that are still draining in the background (awaited by close()). */
  readonly #retiring = new Map<Promise<void>, { key: string; server: PortServer; protocol: PortIR['protocol'] }>();

  constructor(options: RuntimeOptions = {}) {
    this.logger = options.logger ?? new ConsoleLogger();
    this.telemetry = options.telemetry ?? new NoopTelemetry();
    this.resolver = options.resolver ?? new DefaultBackendResolver({ logger: this.logger });
    this.bindAddress = options.bindAddress ?? '0.0.0.0';
    this.engine = new HttpEngine(this.logger, this.telemetry, this.resolver, options);
    this.httpEngine = useHttpEngine(this.engine, options.httpEngine); // fast engine hook
    this.#factories = { ...DEFAULT_SERVERS, ...options.servers };
    const d = options.drainTimeoutMs;
    this.#drainMs = d !== undefined && Number.isFinite(d) && d >= 0 ? d : 15_000;
  }

  apply(table: RoutingTable, status: StatusReport): Promise<ApplyResult> {
    // Swaps are serialised: a reload waits for the previous one to finish binding.
    const run = this.#applying.then(() => this.#apply(table, status));
    this.#applying = run.catch(() => undefined);
    return run;
  }

  async #apply(table: RoutingTable, status: StatusReport): Promise<ApplyResult> {
    if (this.#closed) throw new Error('runtime is closed');
    // 1. build everything for the new table (may throw: then nothing changed)
    const prepared = new PreparedTable(table, this.engine);
    prepared.prepareAll();
    const resolver = this.resolver as BackendResolver & { prepare?: (t: RoutingTable) => Promise<void> };
    if (typeof resolver.prepare === 'function') await resolver.prepare(table);
    this.telemetry.prepare(table);
    registerPrepared(prepared);
    const ctx: PortServerContext = {
      logger: this.logger,
      telemetry: this.telemetry,
      resolver: this.resolver,
      table,
      bindAddress: this.bindAddress,
    };
    // 2. swap: diff servers by key
    const result: ApplyResult = { opened: [], kept: [], closed: [], failed: [] };
    const wanted = new Map(table.ports.map((p) => [p.key, p]));
    const toClose: [string, PortServer, PortIR['protocol']][] = [];
    for (const [key, s] of this.#servers) {
      const p = wanted.get(key);
      if (p === undefined || p.protocol !== s.protocol) toClose.push([key, s.server, s.protocol]);
    }
    // Removed ports (and a protocol change on the same key) stop accepting now, which frees the socket
    // for a new server on the same port; their in-flight requests and connections finish in the
    // background, bounded by the drain timeout, and the swap does not wait for them. Every port server
    // closes its listening socket synchronously at the start of close().
    for (const [key, server, protocol] of toClose) {
      this.#servers.delete(key);
      result.closed.push(key);
      this.#retire(key, server, protocol);
    }
    this.#current = { table, status };
    for (const port of table.ports) {
      const have = this.#servers.get(port.key);
      if (have !== undefined) {
        have.server.update(port, ctx);
        result.kept.push(port.key);
        continue;
      }
      // A UDP port keeps its socket while its sessions drain (replies leave through it): when a reload
      // brings the same address:port back before that drain ended, the old sessions end now.
      await this.#endUdpDrain(port.key);
      const server = this.#factories[port.protocol](port, ctx);
      try {
        await server.listen();
        this.#servers.set(port.key, { server, protocol: port.protocol });
        result.opened.push(port.key);
      } catch (err) {
        const code = ((err as Error).cause as NodeJS.ErrnoException | undefined)?.code ?? (err as NodeJS.ErrnoException).code;
        result.failed.push({ key: port.key, error: (err as Error).message, code });
        this.logger.error('cannot bind port', { key: port.key, error: (err as Error).message });
        try {
          await server.close(0);
        } catch {
          /* nothing bound */
        }
      }
    }
    // a port that could not be bound shows in /status (Listener PortUnavailable, Gateway AddressNotUsable)
    if (result.failed.length > 0) this.#current = { table, status: withBindFailures(status, table, result.failed) };
    // 3. upstream pools: keep the static endpoints this table uses (DNS ones age out by the idle sweep)
    const keep = new Set<string>();
    for (const b of table.backends) {
      for (const e of b.endpoints) {
        if (e.dns) continue;
        const key = e.unix ? e.address : e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
        keep.add(key);
        keep.add('tls|' + key);
      }
    }
    const dnsPorts = new Set(table.backends.flatMap((b) => b.endpoints.filter((e) => e.dns).map((e) => ':' + e.port)));
    this.engine.pools.retain(keep, (key) => [...dnsPorts].some((p) => key.endsWith(p)));
    this.engine.h2c.retain(keep);
    retainFast(this.engine, keep, (key) => [...dnsPorts].some((p) => key.endsWith(p))); // fast engine hook
    return result;
  }

  /** A UDP port server of `key` still draining (retired by an earlier reload) is closed now. */
  async #endUdpDrain(key: string): Promise<void> {
    for (const r of this.#retiring.values()) {
      if (r.key !== key || r.protocol !== 'UDP') continue;
      try {
        await r.server.close(0);
      } catch {
        /* closed */
      }
    }
  }

  /** Close a removed port server in the background: stop accepting at once, drain, then close. */
  #retire(key: string, server: PortServer, protocol: PortIR['protocol']): void {
    let done: Promise<void>;
    try {
      done = server.close(this.#drainMs);
    } catch (err) {
      done = Promise.reject(err as Error);
    }
    const tracked: Promise<void> = done.then(
      () => {
        this.#retiring.delete(tracked);
      },
      (err: unknown) => {
        this.#retiring.delete(tracked);
        this.logger.warn('closing a port failed', { key, error: (err as Error).message });
      },
    );
    this.#retiring.set(tracked, { key, server, protocol });
  }

  /** Shutdown: ports removed by a reload get at most `drainMs` more, then what is left of them is closed. */
  async #hurryRetiring(drainMs: number): Promise<void> {
    if (this.#retiring.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.#retiring.keys()),
      new Promise<void>((r) => {
        timer = setTimeout(r, drainMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    // a second close(0) stops waiting and closes every remaining connection
    await Promise.all([...this.#retiring.values()].map((r) => r.server.close(0).catch(() => undefined)));
    this.#retiring.clear();
  }

  /** Ports removed by a reload whose connections are still draining. */
  retiring(): number {
    return this.#retiring.size;
  }

  current(): { table: RoutingTable; status: StatusReport } | null {
    return this.#current;
  }

  async close(drainMs: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#applying;
    const servers = [...this.#servers.values()];
    this.#servers.clear();
    await Promise.all([...servers.map((s) => s.server.close(drainMs).catch(() => undefined)), this.#hurryRetiring(drainMs)]);
    closeFastEngine(this.engine); // fast engine hook
    // upstream pools finish what is in flight, bounded by the drain time; then they are destroyed
    let timer: NodeJS.Timeout | undefined;
    const expired = await Promise.race([
      this.engine.close().then(() => false),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), Math.max(drainMs, 50));
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    if (expired) {
      await this.engine.pools.destroy();
      this.engine.h2c.destroy();
    }
    const r = this.resolver as BackendResolver & { close?: () => void };
    if (typeof r.close === 'function') r.close();
  }

  /**
   * Upstream pool state, whichever engine serves: the undici pools (node engine; on a fast-engine
   * runtime, mirrors and h2c/TLS backends) plus the fast engine's socket pools. `running`: requests (node)
   * or sockets (fast) in use; `pending`: requests waiting for a connection; `free`: idle sockets.
   */
  upstreamStats(): UpstreamStats {
    const u = this.engine.pools.stats();
    const f = fastPoolStats(this.engine);
    if (f === null) return { engine: this.httpEngine, ...u };
    return {
      engine: this.httpEngine,
      pools: u.pools + f.pools,
      connected: u.connected + f.connected,
      free: u.free + f.free,
      pending: u.pending + f.pending,
      running: u.running + f.running,
    };
  }

  boundPorts(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [key, s] of this.#servers) out.set(key, s.server.boundPort());
    return out;
  }
}
