/**
 * The seams inside the data plane. `runtime.ts` implements Runtime; `listeners/*` implement PortServer;
 * `upstream/*` implements BackendResolver; `metrics.ts` + `access-log.ts` implement Telemetry; the cli
 * drives a Runtime. Hot-path code calls these through prepared objects, never through lookups by name.
 */
import type { BackendIR, PortIR, RoutingTable, StatusReport } from '@gatehouse/core';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** One finished HTTP request (also written as the access-log line). */
export interface RequestRecord {
  gateway: string;
  listener: string;
  /** `ns/name` of the route, null when nothing matched. */
  route: string | null;
  /** 0-based rule index, -1 when nothing matched. */
  rule: number;
  /** BackendIR.id, null when no backend was used. */
  backend: string | null;
  /** `address:port` of the endpoint, null when none. */
  endpoint: string | null;
  method: string;
  status: number;
  /** Milliseconds from the first request byte to the last response byte. */
  durationMs: number;
  /** Milliseconds until the upstream response head, -1 when no upstream. */
  upstreamMs: number;
  bytesIn: number;
  bytesOut: number;
  /** Stable reason when the gateway answered an error itself (`no_route`, `backend_invalid`, `connect_refused`, `timeout`, ...). */
  error: string | null;
  host: string;
  path: string;
  client: string;
  /** `Date.now()` at the start of the request. */
  startTime: number;
  /** `x-request-id` of the request (kept or generated), when request ids are on. */
  requestId?: string;
}

/** One finished L4 connection or UDP session. */
export interface L4Record {
  gateway: string;
  listener: string;
  route: string | null;
  backend: string | null;
  endpoint: string | null;
  protocol: 'TLS' | 'TCP' | 'UDP';
  /** SNI for TLS listeners. */
  sni: string | null;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
  /** `ok`, or why it was refused/ended (`no_route`, `backend_invalid`, `connect_error`, `idle_timeout`, ...). */
  result: string;
  client: string;
  startTime: number;
}

/**
 * Metrics and logs. Called on the hot path: implementations pre-bind label children in `prepare` and
 * never block (logs are buffered and written asynchronously).
 */
export interface Telemetry {
  /** Called with each new table before it starts serving. */
  prepare(table: RoutingTable): void;
  onRequest(rec: RequestRecord): void;
  onL4(rec: L4Record): void;
  /** `delta` is +1 on accept and -1 on close. */
  onConnection(listenerId: string, delta: 1 | -1): void;
  /** An upstream failure (`connect_refused`, `reset`, `timeout`, `malformed`, `dns`, ...). */
  onBackendError(backendId: string, reason: string): void;
  /** UDP datagrams forwarded (direction `in` = client→backend). */
  onUdpDatagram(listenerId: string, direction: 'in' | 'out', result: 'forwarded' | 'dropped'): void;
}

export interface ResolvedEndpoint {
  /** IP address or unix socket path. */
  address: string;
  port: number;
  unix: boolean;
  /** `address:port` (or the socket path), for logs and pool keys. */
  key: string;
}

/**
 * Turns a BackendIR into a concrete endpoint per request/connection: static endpoints, DNS-resolved
 * names (re-resolved periodically and after connect errors), unix sockets. Balances endpoints.
 */
export interface BackendResolver {
  /** The next endpoint for this backend, or null when it has no ready endpoint (→ 503 / refuse). */
  pick(backend: BackendIR): ResolvedEndpoint | null;
  /** Report a connect failure: triggers DNS re-resolution and passive health accounting. */
  reportFailure(backend: BackendIR, endpoint: ResolvedEndpoint, kind?: 'connect' | 'status' | 'reset' | 'timeout'): void;
  reportSuccess(backend: BackendIR, endpoint: ResolvedEndpoint): void;
}

export interface PortServerContext {
  logger: Logger;
  telemetry: Telemetry;
  resolver: BackendResolver;
  /** The table this port config belongs to (for backend lookup by index). */
  table: RoutingTable;
  /** Address to bind when `port.address` is null. */
  bindAddress: string;
}

/**
 * One listening socket (TCP or UDP) of the table, keyed by `PortIR.key`. The runtime creates one per
 * key, calls `update` on every swap while the key stays, and `close` when the key disappears.
 */
export interface PortServer {
  readonly key: string;
  /** Bind. Rejects with a clear error (EADDRINUSE, EACCES) when it cannot. */
  listen(): Promise<void>;
  /** New config for the same socket. Connections in flight keep the config they started with. */
  update(port: PortIR, ctx: PortServerContext): void;
  /** Stop accepting, let in-flight work finish up to `drainMs`, then destroy what is left. */
  close(drainMs: number): Promise<void>;
  /** Actual bound port (useful when the table asked for port 0 in tests). */
  boundPort(): number;
}

export interface ApplyResult {
  /** Port keys opened, kept and closed by this swap. */
  opened: string[];
  kept: string[];
  closed: string[];
  /** Ports that could not be bound (the rest of the table still serves). */
  failed: { key: string; error: string; code?: string }[];
}

export interface Runtime {
  /** Swap in a new table atomically (listeners diffed by key). The first call binds everything. */
  apply(table: RoutingTable, status: StatusReport): Promise<ApplyResult>;
  current(): { table: RoutingTable; status: StatusReport } | null;
  /** Graceful: stop accepting, finish in-flight requests up to `drainMs`, close pools. */
  close(drainMs: number): Promise<void>;
  /** Bound port per PortIR.key (tests bind port 0). */
  boundPorts(): Map<string, number>;
}
