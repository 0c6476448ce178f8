/**
 * The orchestrator behind `gatehouse run`: logger, metrics, access log, the data-plane Runtime, the
 * admin server, the reloader and the watcher, started in order and stopped (drained) in reverse.
 *
 * start():  admin binds (healthz up, readyz 503) → first load/compile/apply → every listener bound? →
 *           ready (readyz 200) → watch.
 * stop():   readyz 503 (draining) → stop watching → runtime.close(drain) lets in-flight requests
 *           finish → flush the access log → admin closes.
 */
import { VERSION, type CompileOptions, type RoutingTable } from '@gatehouse/core';
import {
  AccessLog,
  AdminServer,
  GatewayTelemetry,
  LiveStats,
  LiveTelemetry,
  Metrics,
  ProcessLogger,
  selectHttpEngine,
  type AccessLogFormat,
  type AccessLogSink,
  type LogFormat,
  type LogLevel,
  type Runtime,
  type Telemetry,
} from '@gatehouse/proxy';
import { Reloader, type CompileFn, type LoadFn, type ReloadOutcome } from './reload.js';
import { ConfigWatcher } from './watch.js';
import { explainRequest } from './commands/explain.js';
import { buildInfo } from './commands/version.js';

export interface GatewayConfig {
  dir: string;
  /** null = no admin server. */
  admin: { host: string; port: number } | null;
  bind: string;
  logFormat: LogFormat;
  logLevel: LogLevel;
  accessLog: AccessLogFormat;
  watch: boolean;
  watchPoll: boolean;
  backendResolution: 'default' | 'strict';
  drainTimeoutMs: number;
  gatewayClasses: string[];
  /** --trust-forwarded: append to an incoming X-Forwarded-For (keep -Proto/-Host) instead of overwriting. */
  trustForwarded?: boolean;
}

export interface RuntimeFactoryContext {
  logger: ProcessLogger;
  telemetry: Telemetry;
  bindAddress: string;
  backendResolution: 'default' | 'strict';
  /** --drain-timeout: also bounds the drain of a listener removed by a reload. */
  drainTimeoutMs: number;
  /** --trust-forwarded */
  trustForwarded: boolean;
  /** The dashboard's live numbers (null without an admin server). A runtime whose requests are served elsewhere (--workers) feeds it itself. */
  live: LiveStats | null;
}

export interface GatewayDeps {
  load: LoadFn;
  compile: CompileFn;
  createRuntime(ctx: RuntimeFactoryContext): Runtime;
  /** Where the human report of a failed start goes (default stderr). */
  err?: { write(s: string): unknown };
  logger?: ProcessLogger;
  accessLogSink?: AccessLogSink;
  /** Watch debounce (tests). */
  debounceMs?: number;
  /** /metrics body when it is not this process's registry (e.g. aggregated over cluster workers). */
  metricsText?: (metrics: Metrics, runtime: Runtime) => () => Promise<{ contentType: string; body: string }>;
}

export type StartResult = { ok: true } | { ok: false; code: number; message: string };

export class Gateway {
  readonly logger: ProcessLogger;
  readonly metrics: Metrics;
  readonly accessLog: AccessLog;
  readonly telemetry: GatewayTelemetry;
  readonly runtime: Runtime;
  readonly reloader: Reloader;
  /** Live numbers for the admin dashboard (null without an admin server); with --workers, fed by the workers' reports. */
  readonly live: LiveStats | null;
  admin: AdminServer | null = null;
  private watcher: ConfigWatcher | null = null;
  private isReady = false;
  private isDraining = false;
  private stopping: Promise<void> | null = null;
  private servingSince: string | null = null;
  private readonly err: { write(s: string): unknown };

  constructor(
    readonly config: GatewayConfig,
    private readonly deps: GatewayDeps,
  ) {
    this.err = deps.err ?? process.stderr;
    this.logger = deps.logger ?? new ProcessLogger({ level: config.logLevel, format: config.logFormat });
    this.metrics = new Metrics({ version: VERSION });
    this.accessLog = new AccessLog({
      format: config.accessLog,
      sink: deps.accessLogSink,
      onDrop: () => this.metrics.accessLogDropped.inc(),
    });
    this.telemetry = new GatewayTelemetry(this.metrics, this.accessLog.enabled ? this.accessLog : null);
    this.live = config.admin ? new LiveStats() : null;
    this.runtime = deps.createRuntime({
      logger: this.logger,
      telemetry: this.live ? new LiveTelemetry(this.telemetry, this.live) : this.telemetry,
      live: this.live,
      bindAddress: config.bind,
      backendResolution: config.backendResolution,
      drainTimeoutMs: config.drainTimeoutMs,
      trustForwarded: config.trustForwarded === true,
    });
    const compileOptions: CompileOptions = { backendResolution: config.backendResolution, defaultAddress: config.bind };
    if (config.gatewayClasses.length > 0) compileOptions.gatewayClasses = config.gatewayClasses;
    this.reloader = new Reloader({
      dir: config.dir,
      load: deps.load,
      compile: deps.compile,
      compileOptions,
      runtime: this.runtime,
      logger: this.logger,
      metrics: this.metrics,
      onApplied: () => {
        this.servingSince = new Date().toISOString();
      },
    });
  }

  ready(): boolean {
    if (!this.isReady || this.isDraining) return false;
    // A runtime made of worker processes (ClusterRuntime) is ready only while every worker is up.
    const healthy = (this.runtime as Runtime & { healthy?: () => boolean }).healthy;
    return typeof healthy === 'function' ? healthy.call(this.runtime) : true;
  }
  draining(): boolean {
    return this.isDraining;
  }
  adminAddress(): { host: string; port: number } | null {
    return this.admin ? this.admin.address() : null;
  }

  /** Starts everything; on failure everything started is closed again and the reason is returned. */
  async start(): Promise<StartResult> {
    const { config, logger } = this;
    if (config.admin) {
      const admin = new AdminServer({
        metrics: this.metrics,
        metricsText: this.deps.metricsText?.(this.metrics, this.runtime),
        logger,
        source: {
          ready: () => this.ready(),
          draining: () => this.isDraining,
          table: () => this.runtime.current()?.table ?? null,
          status: () => this.statusJson(),
          reload: (trigger) => this.reload(trigger),
          version: () => ({ ...buildInfo(), pid: process.pid }),
        },
        dashboard: {
          live: this.live,
          explain: (method, url, headers) => {
            const table = this.runtime.current()?.table;
            return table ? explainRequest(table, method, url, headers) : 'no configuration is serving yet';
          },
        },
      });
      try {
        await admin.listen(config.admin.host, config.admin.port);
      } catch (err) {
        return this.fail(`${(err as Error).message} (use --admin HOST:PORT to pick another address)`);
      }
      this.admin = admin;
    }

    this.reloader.quiet = true;
    const outcome = await this.reloader.reload('startup');
    this.reloader.quiet = false;
    if (outcome.result === 'error') {
      const lines = outcome.diagnostics.map((d) => d.text);
      lines.push(`gatehouse: ${config.dir}: ${outcome.errors} error${outcome.errors === 1 ? '' : 's'}; not starting`);
      await this.closeQuietly();
      this.err.write(lines.join('\n') + '\n');
      return { ok: false, code: 1, message: lines[lines.length - 1] };
    }
    const failed = outcome.apply?.failed ?? [];
    if (failed.length > 0) {
      const table = this.runtime.current()?.table;
      const lines = failed.map((f) => `gatehouse: cannot listen on ${describePort(table, f.key)}: ${f.error}`);
      await this.closeQuietly();
      this.err.write(lines.join('\n') + '\n');
      return { ok: false, code: 1, message: lines.join('; ') };
    }

    this.isReady = true;
    if (config.watch) {
      this.watcher = new ConfigWatcher(config.dir, () => void this.reload('watch'), {
        poll: config.watchPoll,
        logger,
        debounceMs: this.deps.debounceMs,
      });
      await this.watcher.start();
    }
    const ports = [...this.runtime.boundPorts()].map(([k, p]) => `${k}${k.includes(`:${p}/`) ? '' : `→${p}`}`);
    logger.info('gatehouse is serving', {
      version: VERSION,
      dir: config.dir,
      ports,
      admin: this.admin ? fmt(this.admin.address()) : null,
      watch: config.watch ? (config.watchPoll ? 'poll' : 'native') : 'off',
      // the HTTP/1.1 engine of plain-HTTP ports (workers choose the same: same flag, environment, Node)
      httpEngine: (this.runtime as { httpEngine?: string }).httpEngine ?? selectHttpEngine(undefined, logger),
    });
    return { ok: true };
  }

  reload(trigger: string): Promise<ReloadOutcome> {
    if (this.isDraining) {
      const o = this.reloader.last();
      return Promise.resolve({
        ...(o as ReloadOutcome),
        result: 'unchanged',
        trigger,
        message: 'draining: reload ignored',
      });
    }
    return this.reloader.reload(trigger);
  }

  statusJson(): Record<string, unknown> {
    const cur = this.runtime.current();
    return {
      ready: this.ready(),
      draining: this.isDraining,
      serving: cur ? { hash: this.reloader.servingHash(), tableHash: cur.table.hash, since: this.servingSince } : null,
      lastReload: this.reloader.last(),
      lastSuccessfulReload: this.reloader.lastApplied(),
      ...(cur ? cur.status : { gatewayClasses: [], gateways: [], routes: [] }),
    };
  }

  /** Graceful stop (idempotent): readyz 503, stop accepting, finish in-flight work up to the drain timeout. */
  stop(reason: string): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      const t0 = Date.now();
      this.isDraining = true;
      this.logger.info('draining', { reason, timeoutMs: this.config.drainTimeoutMs });
      await this.watcher?.close();
      this.watcher = null;
      try {
        await this.runtime.close(this.config.drainTimeoutMs);
      } catch (err) {
        this.logger.error('error while closing listeners', { error: (err as Error).message });
      }
      await this.accessLog.close();
      await this.admin?.close();
      this.logger.info('stopped', { ms: Date.now() - t0 });
    })();
    return this.stopping;
  }

  private async closeQuietly(): Promise<void> {
    await this.watcher?.close();
    try {
      await this.runtime.close(0);
    } catch {
      // nothing was serving
    }
    await this.accessLog.close();
    await this.admin?.close();
    this.admin = null;
  }

  private async fail(message: string): Promise<StartResult> {
    await this.closeQuietly();
    this.err.write(`gatehouse: ${message}\n`);
    return { ok: false, code: 1, message };
  }
}

function fmt(a: { host: string; port: number }): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** `0.0.0.0:80/tcp (listener default/gw/http, default/gw/web)` for bind errors. */
export function describePort(table: RoutingTable | undefined, key: string): string {
  const port = table?.ports.find((p) => p.key === key);
  if (!port) return key;
  const ids = port.listeners.map((l) => l.id);
  return `${key} (listener${ids.length === 1 ? '' : 's'} ${ids.join(', ')})`;
}
