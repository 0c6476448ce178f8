/**
 * `gatehouse run [DIR]` (DESIGN.md §3): serve the Gateway API YAML in DIR, watch it and reload.
 *
 * Signals: SIGHUP reloads; SIGTERM/SIGINT drain (readyz 503 → stop accepting → in-flight requests
 * finish, bounded by --drain-timeout) and exit 0; a second SIGTERM/SIGINT exits at once (code 1).
 */
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { compile } from '@gatehouse/core';
import {
  ACCESS_LOG_FORMATS,
  GatehouseRuntime,
  isLogLevel,
  isOperationalError,
  REQUEST_ID_MODES,
  setDefaultLimits,
  type LimitOptions,
  type RequestIdMode,
  parseHostPort,
  type AccessLogFormat,
  type LogFormat,
  type LogLevel,
  type ProcessErrorKind,
  type Runtime,
} from '@gatehouse/proxy';
import { loadResources } from '../load/index.js';
import { Gateway, type GatewayConfig, type GatewayDeps, type RuntimeFactoryContext } from '../gateway.js';
import { ClusterRuntime, aggregatedMetrics, runWorker } from '../workers.js';

export const usage = 'run [DIR] [--admin HOST:PORT] [--bind ADDR] [--log-format json|pretty] [--access-log json|pretty|off] [--no-watch] [--watch-poll] [--drain-timeout 15s] [--trust-forwarded] [limits: --max-header-size --max-headers --max-uri-size --max-body-size --headers-timeout --request-timeout --idle-timeout --max-connections --max-streams --max-pending --connect-timeout --outlier-failures --request-id]';

const HELP = `usage: gatehouse run [DIR] [flags]

Serve the Gateway API YAML in DIR (default ./gateway), watch it and reload on change.

  --admin HOST:PORT            admin endpoints (default 127.0.0.1:9901; "off" disables)
  --bind ADDR                  listener address when a Gateway has no spec.addresses (default 0.0.0.0)
  --log-format json|pretty     process log format (default: pretty on a TTY, else json)
  --log-level debug|info|warn|error   (default info)
  --access-log json|pretty|off access log on stdout (default: pretty on a TTY, else json)
  --no-watch                   do not watch DIR (SIGHUP and POST /reload still reload)
  --watch-poll                 watch by polling (network filesystems, some container volumes)
  --backend-resolution default|strict   strict disables the DNS fallback for backendRefs
  --drain-timeout DURATION     how long in-flight requests may take on shutdown, and on a listener
                               that a reload removes (default 15s)
  --gateway-class NAME         serve only Gateways of this GatewayClass (repeatable)
  --trust-forwarded            append the client address to an incoming X-Forwarded-For and keep incoming
                               X-Forwarded-Proto/-Host (behind a trusted proxy); default: overwrite them
  --workers N                  N worker processes sharing the listen sockets (node:cluster; default 1)
  --http-engine fast|node      HTTP/1.1 engine: fast (raw sockets + Node's llhttp) or node (node:http + undici);
                               default: GATEHOUSE_HTTP_ENGINE, else fast; node when this Node's llhttp
                               binding fails the start-up check (logged; docs/architecture.md)

Limits (docs/reliability.md; sizes take k/m suffixes, durations 10s/500ms/5m):
  --max-header-size SIZE       request line + headers (431 beyond; default 60k)
  --max-headers N              request header fields (431 beyond; default 100)
  --max-uri-size SIZE          request target (414 beyond; default 8k)
  --max-body-size SIZE         request body (413 beyond; default 0 = unlimited)
  --headers-timeout DURATION   time to send the request head (408; default 10s)
  --request-timeout DURATION   time to send the whole request (408; default 300s; 0 = none)
  --idle-timeout DURATION      idle keep-alive connections closed after (default 65s)
  --max-connections N          open connections per listener; more are closed at once (default 50000)
  --max-streams N              concurrent streams per HTTP/2 connection (default 100)
  --max-pending N              requests in flight per backend; beyond, 503 (default 1024)
  --connect-timeout DURATION   upstream connect timeout (503; default 5s)
  --outlier-failures N         consecutive failures that eject an endpoint (default 5; 0 = off)
  --request-id trust|always-new|off   x-request-id handling (default trust)
`;

/** `60k`, `1m`, `8192` → bytes. */
export function parseSize(s: string): number {
  const m = /^(\d+)(k|kb|kib|m|mb|mib)?$/i.exec(s.trim());
  if (!m) throw new Error(`invalid size "${s}" (e.g. 8192, 60k, 1m)`);
  const unit = (m[2] ?? '').toLowerCase();
  return Number(m[1]) * (unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 * 1024 : 1);
}

const LIMIT_FLAGS = {
  'max-header-size': ['maxHeaderBytes', 'size'],
  'max-headers': ['maxHeaderCount', 'count'],
  'max-uri-size': ['maxUriBytes', 'size'],
  'max-body-size': ['maxBodyBytes', 'size'],
  'headers-timeout': ['headersTimeoutMs', 'duration'],
  'request-timeout': ['requestTimeoutMs', 'duration'],
  'idle-timeout': ['idleTimeoutMs', 'duration'],
  'max-connections': ['maxConnections', 'count'],
  'max-streams': ['maxConcurrentStreams', 'count'],
  'max-pending': ['maxPendingPerBackend', 'count'],
  'connect-timeout': ['connectTimeoutMs', 'duration'],
} as const;

/** The limit flags of `run` → LimitOptions (throws UsageError). */
export function parseLimitFlags(v: Record<string, string | boolean | string[] | undefined>): LimitOptions {
  const out: Record<string, unknown> = {};
  for (const [flag, [key, kind]] of Object.entries(LIMIT_FLAGS)) {
    const raw = v[flag];
    if (typeof raw !== 'string') continue;
    let n: number;
    try {
      n = kind === 'size' ? parseSize(raw) : kind === 'duration' ? parseDuration(raw) : Number(raw);
    } catch (err) {
      throw new UsageError(`--${flag}: ${(err as Error).message}`);
    }
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${flag} must be a non-negative integer (got "${raw}")`);
    out[key] = n;
  }
  const of = v['outlier-failures'];
  if (typeof of === 'string') {
    const n = Number(of);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--outlier-failures must be a non-negative integer (got "${of}")`);
    out.outlier = { consecutiveFailures: n };
  }
  const rid = v['request-id'];
  if (typeof rid === 'string') {
    if (!(REQUEST_ID_MODES as readonly string[]).includes(rid)) throw new UsageError(`--request-id must be one of ${REQUEST_ID_MODES.join(', ')} (got "${rid}")`);
    out.requestId = rid as RequestIdMode;
  }
  return out as LimitOptions;
}

/** `15s`, `500ms`, `1m`, `1.5s` or a bare number of seconds → milliseconds. */
export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(s.trim());
  if (!m) throw new Error(`invalid duration "${s}" (e.g. 15s, 500ms, 1m)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000));
}

export class UsageError extends Error {}

/** argv → GatewayConfig (throws UsageError with a clear message). */
export function parseRunArgs(
  argv: string[],
  isTTY = Boolean(process.stderr.isTTY),
): GatewayConfig & { help: boolean; workers: number; dirGiven: boolean; limits: LimitOptions; httpEngine?: 'fast' | 'node' } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        admin: { type: 'string' },
        bind: { type: 'string' },
        'log-format': { type: 'string' },
        'log-level': { type: 'string' },
        'access-log': { type: 'string' },
        'no-watch': { type: 'boolean' },
        'watch-poll': { type: 'boolean' },
        'backend-resolution': { type: 'string' },
        'drain-timeout': { type: 'string' },
        'gateway-class': { type: 'string', multiple: true },
        workers: { type: 'string' },
        'http-engine': { type: 'string' },
        'trust-forwarded': { type: 'boolean' },
        ...Object.fromEntries([...Object.keys(LIMIT_FLAGS), 'outlier-failures', 'request-id'].map((f) => [f, { type: 'string' as const }])),
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (parsed.positionals.length > 1) throw new UsageError(`run takes one directory, got ${parsed.positionals.length}: ${parsed.positionals.join(' ')}`);
  const oneOf = <T extends string>(name: string, val: string | undefined, allowed: readonly T[], dflt: T): T => {
    if (val === undefined) return dflt;
    if (!(allowed as readonly string[]).includes(val)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')} (got "${val}")`);
    return val as T;
  };
  let admin: GatewayConfig['admin'];
  const adminArg = v.admin ?? '127.0.0.1:9901';
  if (adminArg === 'off' || adminArg === 'none' || adminArg === '') admin = null;
  else {
    try {
      admin = parseHostPort(adminArg);
    } catch (err) {
      throw new UsageError(`--admin: ${(err as Error).message}`);
    }
  }
  const logLevel = v['log-level'] ?? 'info';
  if (!isLogLevel(logLevel)) throw new UsageError(`--log-level must be one of debug, info, warn, error, silent (got "${logLevel}")`);
  let drainTimeoutMs: number;
  try {
    drainTimeoutMs = parseDuration(v['drain-timeout'] ?? '15s');
  } catch (err) {
    throw new UsageError(`--drain-timeout: ${(err as Error).message}`);
  }
  const workers = v.workers === undefined ? 1 : Number(v.workers);
  if (!Number.isInteger(workers) || workers < 1) throw new UsageError(`--workers must be a positive integer (got "${v.workers}")`);
  const defaultFormat: 'json' | 'pretty' = isTTY ? 'pretty' : 'json';
  const limits = parseLimitFlags(v as Record<string, string | boolean | string[] | undefined>);
  return {
    limits,
    help: v.help === true,
    dirGiven: parsed.positionals.length > 0,
    dir: parsed.positionals[0] ?? './gateway',
    admin,
    bind: v.bind ?? '0.0.0.0',
    logFormat: oneOf<LogFormat>('log-format', v['log-format'], ['json', 'pretty'], defaultFormat),
    logLevel: logLevel as LogLevel,
    accessLog: oneOf<AccessLogFormat>('access-log', v['access-log'], ACCESS_LOG_FORMATS, process.stdout.isTTY ? 'pretty' : 'json'),
    watch: v['no-watch'] !== true,
    watchPoll: v['watch-poll'] === true,
    backendResolution: oneOf('backend-resolution', v['backend-resolution'], ['default', 'strict'] as const, 'default'),
    drainTimeoutMs,
    gatewayClasses: v['gateway-class'] ?? [],
    trustForwarded: v['trust-forwarded'] === true,
    workers,
    ...(v['http-engine'] === undefined ? {} : { httpEngine: oneOf('http-engine', v['http-engine'], ['fast', 'node'] as const, 'fast') }),
  };
}

/** The data plane's Runtime (packages/proxy/src/runtime.ts). */
export function createRuntime(ctx: RuntimeFactoryContext): Runtime {
  // --backend-resolution is applied by compile() (strict: no DNS fallback backends in the table).
  return new GatehouseRuntime({
    logger: ctx.logger,
    telemetry: ctx.telemetry,
    bindAddress: ctx.bindAddress,
    drainTimeoutMs: ctx.drainTimeoutMs,
    trustForwarded: ctx.trustForwarded,
  });
}

/** Starts a gateway and resolves with the exit code once it has stopped. */
export async function serve(
  config: GatewayConfig,
  hooks: { onCreated?: (gw: Gateway) => void; onStarted?: (gw: Gateway) => void; workers?: number } = {},
): Promise<number> {
  const workers = hooks.workers ?? 1;
  const deps: GatewayDeps =
    workers > 1
      ? {
          load: loadResources,
          compile,
          createRuntime: (ctx) => new ClusterRuntime(workers, ctx.logger, ctx.live),
          metricsText: (m, r) => aggregatedMetrics(m, r as ClusterRuntime),
        }
      : { load: loadResources, compile, createRuntime };
  // With workers the primary serves no traffic: its access log stays off (each worker writes its own).
  const gw = new Gateway(workers > 1 ? { ...config, accessLog: 'off' } : config, deps);
  hooks.onCreated?.(gw);
  // Signal handlers go in before start: a SIGTERM that arrives while starting (readyz may already be
  // 200) stops the gateway as soon as it is up, instead of killing the process mid-way.
  let signalled: NodeJS.Signals | null = null;
  let started = false;
  let stopNow: ((sig: NodeJS.Signals) => void) | null = null;
  const onStop = (sig: NodeJS.Signals) => {
    if (signalled) {
      gw.logger.warn(`second ${sig}: exiting now without draining`);
      process.exit(1);
    }
    signalled = sig;
    if (started && stopNow) stopNow(sig);
  };
  const onHup = () => {
    if (!started) return;
    gw.logger.info('SIGHUP: reloading');
    void gw.reload('SIGHUP');
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.on('SIGHUP', onHup);
  // Keep the stop handlers to the end: a late second signal must still exit at once.
  const result = await gw.start();
  if (!result.ok) {
    process.off('SIGHUP', onHup);
    return result.code;
  }
  started = true;
  hooks.onStarted?.(gw);
  return new Promise<number>((resolve) => {
    stopNow = (sig) => {
      gw.stop(sig).then(
        () => {
          process.off('SIGHUP', onHup);
          resolve(0);
        },
        (err: unknown) => {
          gw.logger.error('shutdown failed', { error: (err as Error).message });
          process.off('SIGHUP', onHup);
          resolve(1);
        },
      );
    };
    if (signalled) stopNow(signalled);
  });
}

export async function run(argv: string[]): Promise<number> {
  let config;
  try {
    config = parseRunArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`gatehouse run: ${err.message}\n${HELP}`);
      return 2;
    }
    throw err;
  }
  if (config.help) {
    process.stdout.write(HELP);
    return 0;
  }
  let stopped = null as Gateway | null;
  let lastResort = null as LastResortTarget | null;
  // limit flags apply to every Runtime of this process (primary or worker: same argv)
  setDefaultLimits(config.limits);
  // --http-engine: every Runtime of this process (and cluster workers, which inherit the environment)
  if (config.httpEngine !== undefined) process.env.GATEHOUSE_HTTP_ENGINE = config.httpEngine;
  installLastResortHandlers(() => lastResort);
  quietClosedStdio();
  if (cluster.isWorker) return runWorker(config, (t) => (lastResort = t));
  const code = await serve(config, {
    workers: config.workers,
    onCreated: (gw) => {
      lastResort = { logger: gw.logger, metrics: gw.metrics };
    },
    onStarted: (gw) => {
      stopped = gw;
    },
  });
  if (stopped?.logger.enabled('debug')) {
    await new Promise((r) => setTimeout(r, 50));
    stopped.logger.debug('exiting', { code, openHandles: process.getActiveResourcesInfo() });
  }
  // Everything is closed by now; if a stray handle still holds the loop, do not hang the container.
  setTimeout(() => process.exit(code), 2000).unref();
  return code;
}

let lastResortInstalled = false;
const LAST_RESORT_LOGS_PER_SECOND = 20;

/**
 * stdout/stderr whose reader went away (`gatehouse run | head`, a closed log pipe): the first write error
 * (EPIPE) ends that stream and later log lines there are dropped, instead of each failed write raising
 * an error that is itself logged to the same pipe — a loop that kept the process busy and deaf to SIGINT.
 */
export function quietClosedStdio(): void {
  // always ours: another listener present now may be a temporary one (once(), finished())
  for (const s of [process.stdout, process.stderr]) s.on('error', () => undefined);
}

/** Where the last-resort handlers report: the logger and metrics of this process, once they exist. */
export interface LastResortTarget {
  logger: { error(msg: string, fields?: Record<string, unknown>): void };
  metrics: { onProcessError(kind: ProcessErrorKind): void } | null;
}

/**
 * The last resort (docs/reliability.md §6): no unhandled rejection or uncaught exception takes the
 * process down. Each one is counted in `gatehouse_process_errors_total{kind}` (kind `uncaughtException`
 * or `unhandledRejection`) and logged at error level with its stack (at most 20 lines a second; a line
 * after a burst says how many were not logged in `suppressedBefore`), and the process keeps serving: one request's bug must not cut every other connection, and the supervisor
 * would restart into the same config anyway. The log line says whether the error looks operational
 * (a socket or peer failure: ECONNRESET, EPIPE, HPE_*, UND_ERR_*, ...; `isOperationalError`) or like a
 * programmer error (TypeError, RangeError, ERR_INVALID_ARG_*, a thrown non-error), which is a bug to
 * report. Before the gateway's logger exists, the line goes to stderr as JSON.
 */
export function installLastResortHandlers(target: () => LastResortTarget | null): void {
  if (lastResortInstalled) return;
  lastResortInstalled = true;
  // A bug hit by every request must not turn into a stack trace per request on stderr: at most
  // LAST_RESORT_LOGS_PER_SECOND lines a second; the rest are counted (always) and summed up in the next line.
  let windowStart = 0;
  let logged = 0;
  let suppressed = 0;
  const handle = (kind: ProcessErrorKind) => (err: unknown) => {
    try {
      const to = target();
      to?.metrics?.onProcessError(kind);
      const now = Date.now();
      if (now - windowStart >= 1000) {
        windowStart = now;
        logged = 0;
      }
      if (logged >= LAST_RESORT_LOGS_PER_SECOND) {
        suppressed++;
        return;
      }
      logged++;
      const e = err as { message?: string; code?: string; stack?: string } | null;
      const operational = isOperationalError(err);
      const msg = operational ? `unhandled operational error (${kind}); kept serving` : `unhandled programmer error (${kind}): a bug, please report it; kept serving`;
      const fields: Record<string, unknown> = { kind, class: operational ? 'operational' : 'programmer', error: e?.message ?? String(err), code: e?.code, stack: e?.stack };
      if (suppressed > 0) {
        fields.suppressedBefore = suppressed;
        suppressed = 0;
      }
      if (to !== null) to.logger.error(msg, fields);
      else process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level: 'error', msg, ...fields }) + '\n');
    } catch {
      // the last resort must not throw itself (that would end the process)
    }
  };
  process.on('uncaughtException', handle('uncaughtException'));
  process.on('unhandledRejection', handle('unhandledRejection'));
}
