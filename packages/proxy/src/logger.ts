/**
 * The process logger: leveled, JSON lines or one human line, to stderr. Control-plane volume only (start,
 * reload, bind errors, drain); request lines go to the access log (access-log.ts), which is buffered.
 */
import type { Logger } from './api.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFormat = 'json' | 'pretty';

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Default `process.stderr`. */
  out?: { write(chunk: string): unknown; isTTY?: boolean };
  /** Colour in the pretty format (default: when `out` is a TTY and NO_COLOR is not set). */
  color?: boolean;
  /** Fields added to every line (e.g. `{ worker: 2 }`). */
  base?: Record<string, unknown>;
}

const COLOURS: Record<string, string> = { debug: '\x1b[90m', info: '\x1b[36m', warn: '\x1b[33m', error: '\x1b[31m' };
const RESET = '\x1b[0m';

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

/** Renders a value for the pretty format: bare when it is a simple token, JSON otherwise. */
function prettyValue(v: unknown): string {
  if (typeof v === 'string') return /^[\w./:@+-]+$/.test(v) ? v : JSON.stringify(v);
  if (v instanceof Error) return JSON.stringify(v.message);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

function jsonSafe(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(fields)) {
    const v = fields[k];
    out[k] = v instanceof Error ? { message: v.message, code: (v as NodeJS.ErrnoException).code } : v;
  }
  return out;
}

export class ProcessLogger implements Logger {
  readonly level: LogLevel;
  readonly format: LogFormat;
  private readonly min: number;
  private readonly out: { write(chunk: string): unknown };
  private readonly color: boolean;
  private readonly base: Record<string, unknown> | undefined;

  constructor(opts: LoggerOptions = {}) {
    this.level = opts.level ?? 'info';
    this.format = opts.format ?? 'json';
    this.min = RANK[this.level];
    const out = opts.out ?? process.stderr;
    this.out = out;
    this.color = opts.color ?? (Boolean(out.isTTY) && !process.env.NO_COLOR);
    this.base = opts.base;
  }

  enabled(level: Exclude<LogLevel, 'silent'>): boolean {
    return RANK[level] >= this.min;
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    if (RANK.debug >= this.min) this.write('debug', msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    if (RANK.info >= this.min) this.write('info', msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    if (RANK.warn >= this.min) this.write('warn', msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    if (RANK.error >= this.min) this.write('error', msg, fields);
  }

  /** A logger that adds `fields` to every line. */
  child(fields: Record<string, unknown>): ProcessLogger {
    return new ProcessLogger({
      level: this.level,
      format: this.format,
      out: this.out,
      color: this.color,
      base: { ...this.base, ...fields },
    });
  }

  private write(level: string, msg: string, fields: Record<string, unknown> | undefined): void {
    const now = new Date();
    let line: string;
    if (this.format === 'json') {
      const rec: Record<string, unknown> = { time: now.toISOString(), level, msg };
      if (this.base) Object.assign(rec, this.base);
      if (fields) Object.assign(rec, jsonSafe(fields));
      try {
        line = JSON.stringify(rec);
      } catch {
        line = JSON.stringify({ time: rec.time, level, msg });
      }
    } else {
      const t = now.toISOString().slice(11, 23);
      const lv = level.toUpperCase().padEnd(5);
      let extra = '';
      const all = this.base || fields ? { ...this.base, ...fields } : undefined;
      if (all) for (const k of Object.keys(all)) if (all[k] !== undefined) extra += ` ${k}=${prettyValue(all[k])}`;
      line = this.color ? `\x1b[90m${t}${RESET} ${COLOURS[level]}${lv}${RESET} ${msg}${extra ? `\x1b[90m${extra}${RESET}` : ''}` : `${t} ${lv} ${msg}${extra}`;
    }
    this.out.write(line + '\n');
  }
}

export function createLogger(opts: LoggerOptions = {}): ProcessLogger {
  return new ProcessLogger(opts);
}

/** A logger that drops everything (tests, library use). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
