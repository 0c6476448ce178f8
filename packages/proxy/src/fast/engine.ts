/**
 * The fast HTTP/1.1 engine: raw net sockets parsed by Node's own llhttp binding (see binding.ts), with
 * upstream keep-alive pools of raw sockets. One FastEngine per HttpEngine (per Runtime); it shares the
 * HttpEngine's telemetry, resolver, deadlines sweep and undici pools (mirrors), and adds its own socket
 * pools and a once-per-second sweep for idle and header timeouts (no timer per request or connection).
 *
 * Which engine serves a port: `selectHttpEngine()` (the `--http-engine` flag / `GATEHOUSE_HTTP_ENGINE`,
 * then the default), the binding contract (fallback to node:http, logged once), and per port
 * `fastFor(pp)`: ports whose rules use h2c/TLS/wss backends stay on the node engine.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../api.js';
import type { HttpEngine } from '../engine/engine.js';
import type { PreparedPort } from '../engine/prepared.js';
import type { HttpEngines, PortRef } from '../listeners/http-server.js';
import { looksLikeH2Preface } from '../listeners/sniff.js';
import { bindingContract, type LlBinding } from './binding.js';
import { DownConn, detachParser, makeOnHeadersComplete, onBody, onExecute, onHeaders, onMessageComplete, type ConnParser } from './connection.js';
import { FastPools, type FastPoolOptions } from './upstream.js';

export type HttpEngineName = 'fast' | 'node';

/**
 * The default when neither the flag nor the environment chooses: fast (docs/architecture.md); node is
 * the fallback when the binding contract fails, and the choice with `--http-engine node`.
 */
export const DEFAULT_HTTP_ENGINE: HttpEngineName = 'fast';

export interface FastEngineOptions extends FastPoolOptions {
  /** Idle keep-alive client connections are closed after this (default: limits.idleTimeoutMs). */
  keepAliveMs?: number;
  /** A request head must arrive within this (default: limits.headersTimeoutMs, as the node engine). */
  headersMs?: number;
}

export class FastEngine {
  readonly binding: LlBinding;
  readonly pools: FastPools;
  readonly conns = new Set<DownConn>();
  readonly logger: Logger;
  /** Cached clock (performance.now()), refreshed by the sweep. */
  now = performance.now();
  readonly #parsers: ConnParser[] = [];
  readonly #onHeadersComplete: ReturnType<typeof makeOnHeadersComplete>;
  readonly #keepAliveMs: number;
  readonly #headersMs: number;
  #sweep: NodeJS.Timeout | null = null;

  constructor(
    readonly engine: HttpEngine,
    binding: LlBinding,
    opts: FastEngineOptions = {},
  ) {
    this.binding = binding;
    this.logger = engine.logger;
    const contract = bindingContract();
    const rawBodies = contract.binding === binding && contract.rawBodies === true;
    this.pools = new FastPools(binding, { connectTimeoutMs: engine.limits.connectTimeoutMs, rawBodies, ...opts });
    this.pools.deadlines = engine.deadlines;
    this.#onHeadersComplete = makeOnHeadersComplete(binding.methods);
    const l = engine.limits;
    this.#keepAliveMs = opts.keepAliveMs ?? l.idleTimeoutMs;
    this.#headersMs = opts.headersMs ?? (l.requestTimeoutMs > 0 ? Math.min(l.headersTimeoutMs, l.requestTimeoutMs) : l.headersTimeoutMs);
  }

  /**
   * Take a connection of a port. Plain TCP: h2c prior knowledge (the HTTP/2 preface) goes to the node
   * engine's http2 server, as before; everything else is served here. `secure`: a TLSSocket whose
   * handshake chose HTTP/1.1 (or no ALPN) in listeners/https.ts, served here from its first byte (no
   * preface to look for; the idle sweep covers it from the end of the handshake).
   */
  accept(socket: Socket, ref: PortRef, engines: HttpEngines, secure = false, sni: string | null = null): void {
    engines.track(socket);
    socket.setNoDelay(true);
    if (secure) {
      this.#open(socket, ref, engines, true, sni);
      return;
    }
    // until its first byte a connection is only in `silent` (the headers timeout applies to it too)
    const silent = this.#silent;
    silent.set(socket, performance.now());
    this.#startSweep();
    socket.once('close', () => silent.delete(socket));
    socket.once('data', (chunk: Buffer) => {
      silent.delete(socket);
      if (looksLikeH2Preface(chunk)) {
        socket.pause();
        socket.unshift(chunk);
        engines.acceptPlain(socket);
        socket.resume();
        return;
      }
      this.#open(socket, ref, engines, false, null).firstChunk(chunk);
    });
  }

  /** Plain connections that have not sent a byte yet, with their accept time. */
  readonly #silent = new Map<Socket, number>();

  #open(socket: Socket, ref: PortRef, engines: HttpEngines, secure: boolean, sni: string | null): DownConn {
    this.#startSweep();
    const conn = new DownConn(this, socket, this.#parser(), ref, engines, secure, sni);
    this.conns.add(conn);
    return conn;
  }

  #parser(): ConnParser {
    const H = this.binding.HTTPParser;
    let p = this.#parsers.pop();
    if (p === undefined) {
      p = new H() as ConnParser;
      p[H.kOnHeaders] = onHeaders;
      p[H.kOnHeadersComplete] = this.#onHeadersComplete;
      p[H.kOnBody] = onBody;
      p[H.kOnMessageComplete] = onMessageComplete;
      p[H.kOnExecute] = onExecute;
    }
    // the strict parser (lenient flags 0) with the same head limit as the node engine
    p.initialize(H.REQUEST, {}, this.engine.limits.maxHeaderBytes, 0);
    return p;
  }

  /** Fresh parser state for the same connection (after a declined upgrade). */
  reinit(p: ConnParser): void {
    p.initialize(this.binding.HTTPParser.REQUEST, {}, this.engine.limits.maxHeaderBytes, 0);
  }

  /** A connection closed: its parser goes back to the free list. */
  release(conn: DownConn): void {
    this.conns.delete(conn);
    const p = conn.parser;
    detachParser(p);
    if (this.#parsers.length < 256) this.#parsers.push(p);
    else {
      try {
        p.close();
      } catch {
        /* gone */
      }
    }
  }

  /** Close the idle connections of one port's engines (drain); busy ones close after their answer. */
  drain(engines: HttpEngines): void {
    for (const c of this.conns) if (c.engines === engines) c.closeIfIdle();
  }

  close(): void {
    if (this.#sweep !== null) clearInterval(this.#sweep);
    this.#sweep = null;
    this.pools.close();
  }

  #startSweep(): void {
    if (this.#sweep !== null) return;
    // the cached clock is stale until the first tick: a first connection must not look idle for ages
    this.now = performance.now();
    this.#sweep = setInterval(() => this.#tick(), 1_000);
    this.#sweep.unref();
  }

  #tick(): void {
    const now = performance.now();
    this.now = now;
    this.pools.sweep(now);
    const requestMs = this.engine.limits.requestTimeoutMs;
    for (const c of this.conns) c.sweep(now, this.#keepAliveMs, this.#headersMs, requestMs);
    // a connection that never sends a request head is closed like one that sends it too slowly
    // (nothing was asked, so nothing is answered)
    for (const [s, at] of this.#silent) {
      if (now - at <= this.#headersMs) continue;
      this.#silent.delete(s);
      s.destroy();
    }
  }
}

// ------------------------------------------------------------------------------------ selection

let warned = false;

/**
 * The engine to use: `requested` (the --http-engine flag), else `GATEHOUSE_HTTP_ENGINE`, else the
 * default; `fast` only when the binding contract holds (otherwise node, said once in the log).
 */
export function selectHttpEngine(requested: string | undefined, logger: Logger): HttpEngineName {
  const env = process.env.GATEHOUSE_HTTP_ENGINE;
  let want = requested ?? (env === 'fast' || env === 'node' ? env : undefined) ?? DEFAULT_HTTP_ENGINE;
  if (want !== 'fast' && want !== 'node') want = DEFAULT_HTTP_ENGINE;
  if (want === 'node') return 'node';
  const c = bindingContract();
  if (c.ok) return 'fast';
  if (!warned) {
    warned = true;
    logger.warn('fast HTTP/1.1 engine unavailable, using node:http', { reason: c.reason, node: process.version });
  }
  return 'node';
}

const engines = new WeakMap<HttpEngine, FastEngine | null>();
const eligible = new WeakMap<PreparedPort, boolean>();

/** Bind the engine choice to a Runtime's HttpEngine (runtime.ts). */
export function useHttpEngine(engine: HttpEngine, requested: string | undefined, opts?: FastEngineOptions): HttpEngineName {
  const name = selectHttpEngine(requested, engine.logger);
  const old = engines.get(engine);
  if (name === 'fast') {
    if (!old) engines.set(engine, new FastEngine(engine, bindingContract().binding!, opts));
  } else {
    old?.close();
    engines.set(engine, null);
  }
  return name;
}

/** The fast engine bound to a Runtime's HttpEngine, or null (node engine, or none yet). */
export function fastEngineOf(engine: HttpEngine): FastEngine | null {
  return engines.get(engine) ?? null;
}

/** Stop the fast engine of a Runtime (sweep, idle upstream sockets). */
export function closeFastEngine(engine: HttpEngine): void {
  engines.get(engine)?.close();
}

/**
 * The fast engine for a port, or null when the port is served by node:http (engine not chosen, or a
 * rule uses an h2c/TLS/wss backend that only the node engine forwards).
 */
export function fastFor(pp: PreparedPort): FastEngine | null {
  let f = engines.get(pp.engine);
  if (f === undefined) {
    // an engine driven without a Runtime (tests): the environment decides
    f = selectHttpEngine(undefined, pp.engine.logger) === 'fast' ? new FastEngine(pp.engine, bindingContract().binding!) : null;
    engines.set(pp.engine, f);
  }
  if (f === null) return null;
  let ok = eligible.get(pp);
  if (ok === undefined) {
    ok = true;
    for (const r of pp.rules.values()) {
      for (const ref of r.refs) {
        const p = ref.backend?.protocol;
        if (p !== undefined && p !== 'http1' && p !== 'ws') ok = false;
      }
    }
    eligible.set(pp, ok);
  }
  return ok ? f : null;
}

/** After a swap: the fast engine's pools keep only endpoints a table still uses (runtime.ts). */
export function retainFast(engine: HttpEngine, keep: Set<string>, dynamic: (key: string) => boolean): void {
  engines.get(engine)?.pools.retain(keep, dynamic);
}

/** Drain hook for a port's listener (listeners/http.ts). */
export function drainFast(pp: PreparedPort, httpEngines: HttpEngines): void {
  engines.get(pp.engine)?.drain(httpEngines);
}

/** The fast engine's upstream pools of a Runtime, or null when it does not serve (runtime.ts upstreamStats). */
export function fastPoolStats(engine: HttpEngine): ReturnType<FastPools['stats']> | null {
  return engines.get(engine)?.pools.stats() ?? null;
}
