/**
 * The in-process gateway of `gatehouse bench`: the compiled table with every backend's endpoints
 * replaced by a local echo server (one per BackendIR, named after it) and every plain-HTTP listener
 * moved to a free port on 127.0.0.1. Only the compiled table is changed — the user's files are never
 * touched. HTTPS/TLS/TCP/UDP ports are left out. A Telemetry counts, per request, the route/rule and
 * backend the gateway itself chose.
 */
import type { RoutingTable, StatusReport } from '@gatehouse/core';
import {
  GatehouseRuntime,
  NoopTelemetry,
  startEchoServer,
  type EchoServer,
  type Logger,
  type RequestRecord,
} from '@gatehouse/proxy';
import { httpPorts } from './requests.js';

/** Counts what the gateway did with each request (route/rule, backend), keyed for correlation. */
export class BenchTelemetry extends NoopTelemetry {
  /** `ns/name#rule` (or `-` for no route) → count. */
  readonly rules = new Map<string, number>();
  /** BackendIR.id → count. */
  readonly backends = new Map<string, number>();
  /** `METHOD host path` → `ns/name#rule` → count (to tell which rule each request really hit). */
  readonly byRequest = new Map<string, Map<string, number>>();
  enabled = false;

  override onRequest(rec: RequestRecord): void {
    if (!this.enabled) return;
    const rule = rec.route === null ? '-' : `${rec.route}#${rec.rule}`;
    this.rules.set(rule, (this.rules.get(rule) ?? 0) + 1);
    if (rec.backend !== null) this.backends.set(rec.backend, (this.backends.get(rec.backend) ?? 0) + 1);
    const key = `${rec.method} ${rec.host} ${rec.path}`;
    let m = this.byRequest.get(key);
    if (m === undefined) this.byRequest.set(key, (m = new Map()));
    m.set(rule, (m.get(rule) ?? 0) + 1);
  }
}

/** Collects the gateway's warnings and errors instead of printing them in the middle of a run. */
export class CollectingLogger implements Logger {
  readonly lines: string[] = [];
  debug(): void {}
  info(): void {}
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.add('warn', msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.add('error', msg, fields);
  }
  private add(level: string, msg: string, fields?: Record<string, unknown>): void {
    if (this.lines.length < 50) this.lines.push(`${level}: ${msg}${fields ? ' ' + JSON.stringify(fields) : ''}`);
  }
}

export interface BenchGateway {
  /** Gateway listener port → `http://127.0.0.1:PORT` it is served on. */
  origins: Map<number, string>;
  /** BackendIR index → echo server. */
  echoes: EchoServer[];
  telemetry: BenchTelemetry;
  logger: CollectingLogger;
  notes: string[];
  /** The rewritten table that is serving. */
  table: RoutingTable;
  close(): Promise<void>;
}

/** The table as served by the bench: echo endpoints, HTTP ports on 127.0.0.1:0. Pure. */
export function benchTable(table: RoutingTable, echoPorts: number[]): { table: RoutingTable; notes: string[]; listenerPorts: Map<string, number> } {
  const notes: string[] = [];
  const listenerPorts = new Map<string, number>();
  const copy = JSON.parse(JSON.stringify(table)) as RoutingTable;
  copy.backends.forEach((b, i) => {
    b.endpoints = [{ address: '127.0.0.1', port: echoPorts[i]!, dns: false, unix: false }];
    if (b.protocol === 'tls' || b.protocol === 'wss') {
      notes.push(`backend ${b.id} speaks ${b.protocol} upstream; its echo stand-in is plain ${b.protocol === 'tls' ? 'HTTP' : 'ws'}`);
      b.protocol = b.protocol === 'tls' ? 'http1' : 'ws';
    }
  });
  const http = new Set(httpPorts(copy));
  const dropped = copy.ports.filter((p) => !http.has(p));
  if (dropped.length > 0) notes.push(`not served by the bench gateway: ${dropped.map((p) => `${p.key} (${p.protocol})`).join(', ')}`);
  const seen = new Set<number>();
  copy.ports = copy.ports
    .filter((p) => http.has(p))
    .filter((p) => {
      if (seen.has(p.port)) {
        notes.push(`several sockets listen on port ${p.port}; the bench serves the first (${p.key} left out)`);
        return false;
      }
      seen.add(p.port);
      return true;
    })
    .map((p) => {
      const key = `127.0.0.1:0/tcp (bench ${p.key})`;
      listenerPorts.set(key, p.port);
      return { ...p, key, address: '127.0.0.1', port: 0 };
    });
  return { table: copy, notes, listenerPorts };
}

/** Starts the echo backends and the gateway on the rewritten table. */
export async function startBenchGateway(table: RoutingTable, status: StatusReport): Promise<BenchGateway> {
  const echoes: EchoServer[] = [];
  const logger = new CollectingLogger();
  const telemetry = new BenchTelemetry();
  let runtime: GatehouseRuntime | null = null;
  const closeAll = async (): Promise<void> => {
    if (runtime) await runtime.close(500).catch(() => undefined);
    await Promise.all(echoes.map((e) => e.close()));
  };
  try {
    for (const b of table.backends) {
      const m = /^(\w+) ([^/\s]+)\/([^:\s]+)/.exec(b.id);
      echoes.push(
        await startEchoServer({ host: '127.0.0.1', port: 0, name: b.id, service: m ? m[3] : b.id, namespace: m ? m[2] : '' }),
      );
    }
    const { table: served, notes, listenerPorts } = benchTable(
      table,
      echoes.map((e) => e.port),
    );
    runtime = new GatehouseRuntime({ logger, telemetry, bindAddress: '127.0.0.1' });
    const applied = await runtime.apply(served, status);
    if (applied.failed.length > 0) throw new Error(`cannot listen: ${applied.failed.map((f) => f.error).join('; ')}`);
    const bound = runtime.boundPorts();
    const origins = new Map<number, string>();
    served.ports.forEach((p) => {
      const real = bound.get(p.key);
      const orig = listenerPorts.get(p.key);
      if (real !== undefined && orig !== undefined) origins.set(orig, `http://127.0.0.1:${real}`);
    });
    const rt = runtime;
    return {
      origins,
      echoes,
      telemetry,
      logger,
      notes,
      table: served,
      close: async () => {
        await rt.close(500).catch(() => undefined);
        await Promise.all(echoes.map((e) => e.close()));
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
