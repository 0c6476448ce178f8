/**
 * The access log: one line per finished request / L4 connection, JSON lines by default, one human line
 * with `pretty`, nothing with `off`. Never blocks the event loop: lines are appended to an in-memory
 * buffer and written in batches (one `write` per batch) every `flushMs` or when `flushBytes` is reached.
 * When the destination cannot keep up (the buffer passes `maxBufferBytes`), lines are dropped and
 * counted rather than queued without bound.
 *
 * By default the destination is fd 1 opened as an fs.WriteStream (libuv thread pool), not
 * `process.stdout`, whose writes are synchronous for files and pipes on Linux.
 */
import { createWriteStream } from 'node:fs';
import type { L4Record, RequestRecord } from './api.js';

export type AccessLogFormat = 'json' | 'pretty' | 'off';
export const ACCESS_LOG_FORMATS: readonly AccessLogFormat[] = ['json', 'pretty', 'off'];

/** What the access log writes to. `write` returns false when the destination wants us to wait for `drain`. */
export interface AccessLogSink {
  write(chunk: string, cb?: (err?: Error | null) => void): boolean;
  once(event: 'drain', listener: () => void): unknown;
  end?(cb?: () => void): unknown;
}

export interface AccessLogOptions {
  format?: AccessLogFormat;
  /** Default: fd 1 as a non-blocking fs.WriteStream. */
  sink?: AccessLogSink;
  /** Colour in the pretty format. Default: stdout is a TTY and NO_COLOR is unset. */
  color?: boolean;
  /** Flush interval (default 50 ms). */
  flushMs?: number;
  /** Flush right away when this many bytes are buffered (default 64 KiB). */
  flushBytes?: number;
  /** Drop lines while this many bytes are waiting (default 8 MiB). */
  maxBufferBytes?: number;
  /** Called once per dropped line (metrics). */
  onDrop?: () => void;
  /**
   * Split a batch into writes of at most this many bytes, at line boundaries (default: one write).
   * Several processes sharing one pipe (cluster workers) set it to PIPE_BUF (4096) so their lines
   * never interleave.
   */
  maxWriteBytes?: number;
}

const RESET = '\x1b[0m';

function statusColour(s: number): string {
  if (s >= 500) return '\x1b[31m';
  if (s >= 400) return '\x1b[33m';
  if (s >= 300) return '\x1b[36m';
  return '\x1b[32m';
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** The JSON object of one request line; keys in the documented order. */
export function requestLogObject(r: RequestRecord): Record<string, unknown> {
  return {
    time: new Date(r.startTime).toISOString(),
    gateway: r.gateway,
    listener: r.listener,
    route: r.route,
    rule: r.rule,
    backend: r.backend,
    endpoint: r.endpoint,
    method: r.method,
    host: r.host,
    path: r.path,
    status: r.status,
    duration_ms: round(r.durationMs),
    upstream_ms: r.upstreamMs < 0 ? -1 : round(r.upstreamMs),
    bytes_in: r.bytesIn,
    bytes_out: r.bytesOut,
    error: r.error,
    client: r.client,
    ...(r.requestId !== undefined ? { request_id: r.requestId } : {}),
  };
}

export function l4LogObject(r: L4Record): Record<string, unknown> {
  return {
    time: new Date(r.startTime).toISOString(),
    gateway: r.gateway,
    listener: r.listener,
    protocol: r.protocol,
    route: r.route,
    backend: r.backend,
    endpoint: r.endpoint,
    sni: r.sni,
    result: r.result,
    duration_ms: round(r.durationMs),
    bytes_in: r.bytesIn,
    bytes_out: r.bytesOut,
    client: r.client,
  };
}

export function formatRequestPretty(r: RequestRecord, color: boolean): string {
  const t = new Date(r.startTime).toISOString();
  const status = color ? `${statusColour(r.status)}${r.status}${RESET}` : String(r.status);
  const target = r.route ? `${r.route}#${r.rule}` : '-';
  const be = r.endpoint ? `${r.backend ?? '-'} ${r.endpoint}` : (r.backend ?? '-');
  const err = (r.error ? ` error=${r.error}` : '') + (r.requestId !== undefined ? ` id=${r.requestId}` : '');
  const up = r.upstreamMs >= 0 ? ` upstream=${r.upstreamMs.toFixed(1)}ms` : '';
  const line = `${t} ${r.client} ${r.method} ${r.host}${r.path} ${status} ${r.durationMs.toFixed(1)}ms${up} in=${r.bytesIn} out=${r.bytesOut} ${r.listener} → ${target} → ${be}${err}`;
  return color ? line.replace(t, `\x1b[90m${t}${RESET}`) : line;
}

export function formatL4Pretty(r: L4Record, color: boolean): string {
  const t = new Date(r.startTime).toISOString();
  const res = color ? `${r.result === 'ok' ? '\x1b[32m' : '\x1b[31m'}${r.result}${RESET}` : r.result;
  const sni = r.sni ? ` sni=${r.sni}` : '';
  return `${color ? `\x1b[90m${t}${RESET}` : t} ${r.client} ${r.protocol}${sni} ${res} ${r.durationMs.toFixed(1)}ms in=${r.bytesIn} out=${r.bytesOut} ${r.listener} → ${r.route ?? '-'} → ${r.backend ?? '-'} ${r.endpoint ?? ''}`.trimEnd();
}

/** Joins lines into newline-terminated strings of at most `max` characters (a longer line goes alone). */
function splitLines(lines: string[], max: number): string[] {
  const out: string[] = [];
  let cur = '';
  for (const l of lines) {
    if (cur.length > 0 && cur.length + l.length + 1 > max) {
      out.push(cur);
      cur = '';
    }
    cur += l + '\n';
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

export class AccessLog {
  readonly format: AccessLogFormat;
  private readonly sink: AccessLogSink | null;
  private readonly color: boolean;
  private readonly flushMs: number;
  private readonly flushBytes: number;
  private readonly maxBufferBytes: number;
  private readonly onDrop: (() => void) | undefined;
  private readonly maxWriteBytes: number;
  private chunks: string[] = [];
  private buffered = 0;
  /** Bytes handed to the sink and not yet confirmed written. */
  private inFlight = 0;
  private waitingDrain = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Lines dropped because the destination could not keep up. */
  dropped = 0;
  /** Lines accepted. */
  lines = 0;

  constructor(opts: AccessLogOptions = {}) {
    this.format = opts.format ?? 'json';
    this.flushMs = opts.flushMs ?? 50;
    this.flushBytes = opts.flushBytes ?? 64 * 1024;
    this.maxBufferBytes = opts.maxBufferBytes ?? 8 * 1024 * 1024;
    this.onDrop = opts.onDrop;
    this.maxWriteBytes = opts.maxWriteBytes ?? Infinity;
    this.color = opts.color ?? (Boolean(process.stdout.isTTY) && !process.env.NO_COLOR);
    if (this.format === 'off') this.sink = null;
    else this.sink = opts.sink ?? (createWriteStream('', { fd: 1, autoClose: false }) as unknown as AccessLogSink);
  }

  get enabled(): boolean {
    return this.sink !== null;
  }

  request(r: RequestRecord): void {
    if (this.sink === null) return;
    this.push(this.format === 'json' ? JSON.stringify(requestLogObject(r)) : formatRequestPretty(r, this.color));
  }

  l4(r: L4Record): void {
    if (this.sink === null) return;
    this.push(this.format === 'json' ? JSON.stringify(l4LogObject(r)) : formatL4Pretty(r, this.color));
  }

  private push(line: string): void {
    if (this.closed) return;
    const n = line.length + 1;
    if (this.buffered + this.inFlight + n > this.maxBufferBytes) {
      this.dropped++;
      this.onDrop?.();
      return;
    }
    this.chunks.push(line);
    this.buffered += n;
    this.lines++;
    if (this.buffered >= this.flushBytes) this.flush();
    else if (this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush();
      }, this.flushMs);
      this.timer.unref();
    }
  }

  /** Hands everything buffered to the sink in one write (unless it asked us to wait for `drain`). */
  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.sink === null || this.chunks.length === 0 || this.waitingDrain) return;
    const n = this.buffered;
    const batches = this.maxWriteBytes === Infinity ? [this.chunks.join('\n') + '\n'] : splitLines(this.chunks, this.maxWriteBytes);
    this.chunks = [];
    this.buffered = 0;
    this.inFlight += n;
    let ok = true;
    for (let i = 0; i < batches.length; i++) {
      const last = i === batches.length - 1;
      ok = this.sink.write(batches[i], last ? () => void (this.inFlight -= n) : undefined);
    }
    if (!ok) {
      this.waitingDrain = true;
      this.sink.once('drain', () => {
        this.waitingDrain = false;
        if (this.chunks.length > 0) this.flush();
      });
    }
  }

  /** Flushes what is buffered and waits (bounded) until the sink has written it. */
  async close(timeoutMs = 2000): Promise<void> {
    this.flush();
    this.closed = true;
    const deadline = Date.now() + timeoutMs;
    while ((this.inFlight > 0 || this.chunks.length > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      if (!this.waitingDrain && this.chunks.length > 0) this.flush();
    }
  }
}
