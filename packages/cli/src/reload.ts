/**
 * The reload state machine: load DIR → (errors? reject the whole config, keep the last good table) →
 * compile → runtime.apply. Reloads run one at a time; requests that arrive during a reload coalesce
 * into one follow-up reload. A save that does not change the content (same loader hash) is a no-op.
 *
 * The reloader is the only writer of the serving table, so a rejected config never half-applies: the
 * runtime sees either a whole new table or nothing.
 */
import { compareDiagnostics, formatDiagnostic, hasErrors } from '@gatehouse/core';
import type { CompileOptions, CompileResult, Diagnostic, ResourceSet, RoutingTable, StatusReport } from '@gatehouse/core';
import type { ApplyResult, Logger, Runtime } from '@gatehouse/proxy';
import { GenerationTracker } from './generations.js';

/** What the loader (`loadResources(dir)`, packages/cli/src/load) answers. */
export interface LoadResult {
  resources: ResourceSet;
  diagnostics: Diagnostic[];
  /** Content hash of everything read: equal hashes mean nothing changed. */
  hash: string;
}

export type LoadFn = (dir: string) => Promise<LoadResult>;
export type CompileFn = (resources: ResourceSet, options: CompileOptions) => CompileResult;

/** A diagnostic as reported by /status and POST /reload: the diagnostic plus its one-line form. */
export interface ReportedDiagnostic extends Diagnostic {
  /** `file:line:col`, or `<config>` when the position is unknown. */
  location: string;
  /** The `gatehouse validate` line. */
  text: string;
}

export interface ReloadOutcome {
  /** `ok` applied; `unchanged` same content as what is serving; `error` rejected (the last good table keeps serving). */
  result: 'ok' | 'unchanged' | 'error';
  /** What asked for it: `startup`, `watch`, `SIGHUP`, `admin`. */
  trigger: string;
  /** ISO time the reload finished. */
  time: string;
  durationMs: number;
  /** Loader content hash of the config this outcome is about (null when loading itself failed). */
  hash: string | null;
  /** Hash of the configuration serving after this reload (null before the first one). */
  servingHash: string | null;
  errors: number;
  warnings: number;
  diagnostics: ReportedDiagnostic[];
  /** Sockets opened/kept/closed/failed by the swap (result `ok`). */
  apply?: ApplyResult;
  /** One-line summary. */
  message: string;
}

export interface ReloadMetrics {
  onReload(ok: boolean, at?: number): void;
}

export interface ReloaderOptions {
  dir: string;
  load: LoadFn;
  compile: CompileFn;
  compileOptions?: CompileOptions;
  runtime: Runtime;
  logger: Logger;
  metrics?: ReloadMetrics;
  /** Called after a table was applied (e.g. to mark the process ready). */
  onApplied?: (table: RoutingTable, status: StatusReport, outcome: ReloadOutcome) => void;
}

function report(d: Diagnostic): ReportedDiagnostic {
  const location = d.file ? `${d.file}:${d.line ?? 0}:${d.col ?? 0}` : '<config>';
  return { ...d, location, text: formatDiagnostic(d) };
}

export class Reloader {
  private readonly opts: ReloaderOptions;
  private running: Promise<ReloadOutcome> | null = null;
  private queued: Promise<ReloadOutcome> | null = null;
  private appliedHash: string | null = null;
  /** Ports of the serving table that could not be bound: a reload of the same content tries them again. */
  private bindFailures = 0;
  private failed: { hash: string; outcome: ReloadOutcome } | null = null;
  private lastOutcome: ReloadOutcome | null = null;
  private lastOk: ReloadOutcome | null = null;
  /** Reloads actually performed (not coalesced away); for tests and /status. */
  attempts = 0;
  /** Do not log rejected diagnostics (the caller prints the report itself, e.g. at startup). */
  quiet = false;
  /** metadata.generation per object across reloads, as the API server keeps it (generations.ts). */
  readonly generations = new GenerationTracker();

  constructor(opts: ReloaderOptions) {
    this.opts = opts;
  }

  /** The last outcome (any result). */
  last(): ReloadOutcome | null {
    return this.lastOutcome;
  }
  /** The last outcome that applied a table. */
  lastApplied(): ReloadOutcome | null {
    return this.lastOk;
  }
  servingHash(): string | null {
    return this.appliedHash;
  }
  busy(): boolean {
    return this.running !== null;
  }

  /**
   * Reloads now, or — when one is running — once more right after it; every request made during one
   * reload shares that single follow-up.
   */
  reload(trigger: string): Promise<ReloadOutcome> {
    if (this.running === null) {
      this.running = this.run(trigger).finally(() => {
        this.running = null;
      });
      return this.running;
    }
    if (this.queued === null) {
      const after = () => {
        this.queued = null;
        return this.reload(trigger);
      };
      this.queued = this.running.then(after, after);
    }
    return this.queued;
  }

  private async run(trigger: string): Promise<ReloadOutcome> {
    this.attempts++;
    const { logger } = this.opts;
    const t0 = performance.now();
    const done = (o: Omit<ReloadOutcome, 'time' | 'durationMs' | 'trigger' | 'servingHash'>): ReloadOutcome => {
      const outcome: ReloadOutcome = {
        ...o,
        trigger,
        time: new Date().toISOString(),
        durationMs: Math.round((performance.now() - t0) * 1000) / 1000,
        servingHash: this.appliedHash,
      };
      this.lastOutcome = outcome;
      if (outcome.result === 'ok') this.lastOk = outcome;
      return outcome;
    };
    const reject = (hash: string | null, diags: Diagnostic[], why: string, transient = false): ReloadOutcome => {
      const sorted = [...diags].sort(compareDiagnostics);
      const errors = sorted.filter((d) => d.severity === 'error').length;
      const warnings = sorted.filter((d) => d.severity === 'warning').length;
      for (const d of sorted) {
        if (d.severity !== 'error' || this.quiet) continue;
        logger.error(`config: ${formatDiagnostic(d)}`, { file: d.file, line: d.line, col: d.col, code: d.code, object: d.object });
      }
      const keep = this.appliedHash ? 'keeping the last good configuration' : 'nothing is serving';
      const message = `configuration rejected: ${why}; ${keep}`;
      if (!this.quiet) logger.error(message, { dir: this.opts.dir, trigger, errors, hash, serving: this.appliedHash });
      this.opts.metrics?.onReload(false);
      const outcome = done({ result: 'error', hash, errors, warnings, diagnostics: sorted.map(report), message });
      // Remember rejected content (not transient failures: those are retried on the next trigger).
      this.failed = hash !== null && !transient ? { hash, outcome } : null;
      return outcome;
    };

    let loaded: LoadResult;
    try {
      loaded = await this.opts.load(this.opts.dir);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      const message = msg.includes(this.opts.dir) ? msg : `cannot read ${this.opts.dir}: ${msg}`;
      return reject(null, [{ severity: 'error', code: 'LOAD_FAILED', message }], 'the directory could not be read');
    }

    // Same content as what is serving: nothing to do (but a previous failure is now resolved), unless some
    // of its ports could not be bound: then it is applied again, which binds the ports freed since.
    if (loaded.hash === this.appliedHash && this.bindFailures === 0) {
      const wasFailing = this.lastOutcome?.result === 'error';
      this.failed = null;
      if (wasFailing) {
        this.opts.metrics?.onReload(true);
        logger.info('configuration is back to the serving one', { hash: loaded.hash, trigger });
      } else logger.debug('configuration unchanged', { hash: loaded.hash, trigger });
      return done({ result: 'unchanged', hash: loaded.hash, errors: 0, warnings: 0, diagnostics: [], message: 'configuration unchanged' });
    }
    // Same content as the last rejected one: answer the same rejection without logging it again.
    if (this.failed && this.failed.hash === loaded.hash) {
      logger.debug('configuration unchanged since it was rejected', { hash: loaded.hash, trigger });
      const o = { ...this.failed.outcome, trigger, time: new Date().toISOString() };
      this.lastOutcome = o;
      return o;
    }

    if (hasErrors(loaded.diagnostics)) {
      const n = loaded.diagnostics.filter((d) => d.severity === 'error').length;
      return reject(loaded.hash, loaded.diagnostics, `${n} error${n === 1 ? '' : 's'} in ${this.opts.dir}`);
    }

    const observed = this.generations.observe(loaded.resources);
    let compiled: CompileResult;
    try {
      compiled = this.opts.compile(observed.resources, this.opts.compileOptions ?? {});
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      return reject(loaded.hash, [...loaded.diagnostics, { severity: 'error', code: 'COMPILE_FAILED', message: `internal compiler error: ${msg}` }], 'the compiler failed');
    }
    const diags = [...loaded.diagnostics, ...compiled.diagnostics];
    if (hasErrors(diags)) {
      const n = diags.filter((d) => d.severity === 'error').length;
      return reject(loaded.hash, diags, `${n} error${n === 1 ? '' : 's'} in ${this.opts.dir}`);
    }

    let applied: ApplyResult;
    try {
      applied = await this.opts.runtime.apply(compiled.table, compiled.status);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      return reject(loaded.hash, [...diags, { severity: 'error', code: 'APPLY_FAILED', message: msg }], 'the data plane refused the table', true);
    }

    this.appliedHash = loaded.hash;
    this.bindFailures = applied.failed.length;
    this.failed = null;
    this.generations.commit(observed);
    const sorted = diags.sort(compareDiagnostics);
    for (const d of sorted) if (d.severity === 'warning') logger.warn(`config: ${formatDiagnostic(d)}`, { code: d.code, file: d.file, line: d.line, col: d.col });
    for (const f of applied.failed) logger.error(`cannot listen on ${f.key}: ${f.error}`, { port: f.key });
    const warnings = sorted.filter((d) => d.severity === 'warning').length;
    const msg =
      applied.failed.length > 0
        ? `configuration applied; ${applied.failed.length} port${applied.failed.length === 1 ? '' : 's'} could not be bound`
        : 'configuration applied';
    this.opts.metrics?.onReload(true);
    const outcome = done({ result: 'ok', hash: loaded.hash, errors: 0, warnings, diagnostics: sorted.map(report), apply: applied, message: msg });
    logger.info(msg, {
      trigger,
      hash: loaded.hash,
      opened: applied.opened.length,
      kept: applied.kept.length,
      closed: applied.closed.length,
      failed: applied.failed.length,
      warnings,
      ms: Math.round(outcome.durationMs),
    });
    this.opts.onApplied?.(compiled.table, compiled.status, outcome);
    return outcome;
  }
}
