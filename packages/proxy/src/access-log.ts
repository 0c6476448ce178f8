/**
 * The access log: one line per finished request / L4 connection, JSON lines by default, one human line
 * with `pretty`, nothing with `off`. Never blocks the event loop: lines are appended to an in-memory
 * buffer and written in batches (one `write` per batch) every `flushMs` or when `flushBytes` is reached.
 * When the destination cannot keep up (the buffer passes `maxBufferBytes`), lines are dropped and
 * counted rather than queued without bound.
 *
 * By default the destination is fd 1. When fd 1 is a regular file, each batch is one synchronous
 * `write` into the page cache (tens of µs per 64 KiB, as nginx writes its buffered log), which costs
 * less per line than a hop through the thread pool. Anything else (a pipe to docker or journald, a
 * terminal) gets an fs.WriteStream on the libuv thread pool, so a slow reader never stalls the event
 * loop; `process.stdout` is not used, because its writes are synchronous for pipes too.
 */
import { createWriteStream, fstatSync, writeSync } from 'node:fs';
import type { L4Record, RequestRecord } from './api.js';

export type AccessLogFormat = 'json' | 'pretty' | 'off';
export const ACCESS_LOG_FORMATS: readonly AccessLogFormat[] = ['json', 'pretty', 'off'];

/**
 * What the access log writes to. `write` returns false when the destination wants us to wait for `drain`.
 * A chunk is UTF-8 text of whole lines; it stays untouched until `cb` is called (then it is reused).
 */
export interface AccessLogSink {
  write(chunk: Uint8Array, cb?: (err?: Error | null) => void): boolean;
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

/** The JSON object of one request line; keys in the documented order (the reference for `requestLogLine`). */
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

/** A character JSON.stringify would escape (controls, quote, backslash) or might (any surrogate). */
const JSON_SPECIAL = /[\u0000-\u001f"\\\ud800-\udfff]/;

/** `JSON.stringify(s)` for a string, without the generic serializer when nothing needs escaping. */
export function jsonString(s: string): string {
  return JSON_SPECIAL.test(s) ? JSON.stringify(s) : '"' + s + '"';
}

function jsonNullable(s: string | null): string {
  return s === null ? 'null' : jsonString(s);
}

/** As JSON.stringify writes a number: NaN and ±Infinity become null. */
function jsonNumber(n: number): number | 'null' {
  return Number.isFinite(n) ? n : 'null';
}

/** '000'..'999' */
const MILLIS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/**
 * `new Date(t).toISOString()` with the part up to the second cached: V8 formats dates through
 * snprintf (about 0.6 µs), and the log writes one per request.
 */
export class IsoTime {
  private second = NaN;
  private prefix = '';
  private lastMs = NaN;
  private last = '';

  format(t: number): string {
    const ms = Math.floor(t);
    if (ms === this.lastMs) return this.last;
    const second = Math.floor(ms / 1000);
    if (second !== this.second) {
      const iso = new Date(second * 1000).toISOString();
      // years outside 0000..9999 have another shape; they are not worth a cache
      if (iso.length !== 24) return new Date(t).toISOString();
      this.second = second;
      this.prefix = iso.slice(0, 20);
    }
    this.lastMs = ms;
    return (this.last = this.prefix + MILLIS[ms - second * 1000] + 'Z');
  }
}

/** The JSON text of the last string seen: most fields repeat from one request to the next. */
class LastJson {
  private s: string | null = null;
  private json = 'null';

  of(s: string | null): string {
    if (s !== this.s) {
      this.s = s;
      this.json = jsonNullable(s);
    }
    return this.json;
  }
}

/** '.001'..'.999' without trailing zeros ('.1' for 100); '' for 0. */
const FRACTIONS = MILLIS.map((m, i) => (i === 0 ? '' : '.' + m.replace(/0+$/, '')));

/**
 * `round(ms)` as JSON.stringify writes it (at most three decimals), from integers: formatting a double
 * costs about 0.1 µs, and every line has two.
 */
function millis3(ms: number): string {
  const micros = Math.round(ms * 1000);
  if (!(micros >= 0 && micros < 1e15)) return String(jsonNumber(round(ms)));
  const whole = Math.floor(micros / 1000);
  return whole + FRACTIONS[micros - whole * 1000];
}

/** Flattens a concatenated string in place (ToNumber reads it flat), so later copies of it are one memcpy. */
function flat(s: string): string {
  void ((s as unknown as number) | 0);
  return s;
}

/**
 * Builds request lines byte for byte as `JSON.stringify(requestLogObject(r))` (a differential test
 * holds the two together), by concatenation: no intermediate object and no generic serializer on the
 * request path. The part of a line that repeats while requests hit the same rule, backend, endpoint,
 * method and host is kept as one flat string, and the second of the time is formatted once.
 */
export class RequestLineWriter {
  private readonly time = new IsoTime();
  private gateway = '';
  private listener = '';
  private route: string | null = null;
  private rule = NaN;
  private backend: string | null = null;
  private endpoint: string | null = null;
  private method = '';
  private host = '';
  /** `","gateway":…,"path":` for the fields above. */
  private middle = '';
  private readonly client = new LastJson();

  line(r: RequestRecord): string {
    if (
      r.host !== this.host ||
      r.endpoint !== this.endpoint ||
      r.rule !== this.rule ||
      r.route !== this.route ||
      r.backend !== this.backend ||
      r.method !== this.method ||
      r.listener !== this.listener ||
      r.gateway !== this.gateway
    ) {
      this.gateway = r.gateway;
      this.listener = r.listener;
      this.route = r.route;
      this.rule = r.rule;
      this.backend = r.backend;
      this.endpoint = r.endpoint;
      this.method = r.method;
      this.host = r.host;
      this.middle = flat(
        '","gateway":' +
          jsonString(r.gateway) +
          ',"listener":' +
          jsonString(r.listener) +
          ',"route":' +
          jsonNullable(r.route) +
          ',"rule":' +
          r.rule +
          ',"backend":' +
          jsonNullable(r.backend) +
          ',"endpoint":' +
          jsonNullable(r.endpoint) +
          ',"method":' +
          jsonString(r.method) +
          ',"host":' +
          jsonString(r.host) +
          ',"path":',
      );
    }
    let line =
      '{"time":"' +
      this.time.format(r.startTime) +
      this.middle +
      jsonString(r.path) +
      ',"status":' +
      r.status +
      ',"duration_ms":' +
      millis3(r.durationMs) +
      ',"upstream_ms":' +
      (r.upstreamMs < 0 ? '-1' : millis3(r.upstreamMs)) +
      ',"bytes_in":' +
      r.bytesIn +
      ',"bytes_out":' +
      r.bytesOut +
      ',"error":' +
      jsonNullable(r.error) +
      ',"client":' +
      this.client.of(r.client);
    if (r.requestId !== undefined) line += ',"request_id":' + jsonString(r.requestId);
    return line + '}';
  }
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

/** Cuts `data` (whole lines) into pieces of at most `max` bytes at line ends; a longer line goes alone. */
function splitAtLines(data: Buffer, max: number): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  while (start < data.length) {
    let end = data.length;
    if (end - start > max) {
      const cut = data.lastIndexOf(10, start + max - 1);
      end = (cut >= start ? cut : data.indexOf(10, start)) + 1;
    }
    out.push(data.subarray(start, end));
    start = end;
  }
  return out;
}

/**
 * Batches written straight to a regular file, as nginx does: one synchronous `write` per batch costs less
 * than a stream's bookkeeping while the page cache absorbs it (tens of µs for 64 KiB). A write that takes
 * longer than `slowWriteMs` (a slow or network disk) switches the sink for good to a non-blocking stream on
 * the same descriptor, so a stalled disk never stalls the event loop again. A failed write (disk full)
 * loses its batch, counted.
 */
export class SyncFileSink implements AccessLogSink {
  /** Batches lost to write errors. */
  failedWrites = 0;
  /** Set once a slow write moved the sink to a non-blocking stream. */
  stream: AccessLogSink | null = null;

  constructor(
    private readonly fd: number,
    private readonly slowWriteMs = 5,
    private readonly openStream: (fd: number) => AccessLogSink = streamOnFd,
  ) {}

  write(chunk: Uint8Array, cb?: (err?: Error | null) => void): boolean {
    if (this.stream !== null) return this.stream.write(chunk, cb);
    const t0 = performance.now();
    try {
      for (let off = 0; off < chunk.length; ) off += writeSync(this.fd, chunk, off, chunk.length - off);
    } catch {
      this.failedWrites++;
    }
    if (performance.now() - t0 > this.slowWriteMs) this.stream = this.openStream(this.fd);
    cb?.();
    return true;
  }

  once(event: 'drain', listener: () => void): unknown {
    // Only a stream ever answers false from write(), so only a stream is ever asked to wait.
    if (this.stream !== null) this.stream.once(event, listener);
    return this;
  }
}

function streamOnFd(fd: number): AccessLogSink {
  const stream = createWriteStream('', { fd, autoClose: false });
  stream.on('error', () => undefined); // a closed reader: lines are lost, the gateway keeps serving
  return stream as unknown as AccessLogSink;
}

function stdoutSink(): AccessLogSink {
  let file = false;
  try {
    file = fstatSync(1).isFile();
  } catch {
    /* no fd 1: the stream reports it */
  }
  return file ? new SyncFileSink(1) : streamOnFd(1);
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
  /** Encoded lines not yet handed to the sink: `buf[0, used)`. */
  private buf: Buffer;
  private used = 0;
  /** A buffer of the base size the sink has finished with, reused by the next flush. */
  private spare: Buffer | null = null;
  private readonly baseSize: number;
  /** Bytes handed to the sink and not yet confirmed written. */
  private inFlight = 0;
  private waitingDrain = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly lineWriter = new RequestLineWriter();
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
    this.baseSize = Math.max(4096, Math.min(this.flushBytes, this.maxBufferBytes)) + 4096;
    this.buf = Buffer.allocUnsafe(this.format === 'off' ? 0 : this.baseSize);
    this.color = opts.color ?? (Boolean(process.stdout.isTTY) && !process.env.NO_COLOR);
    if (this.format === 'off') this.sink = null;
    else this.sink = opts.sink ?? stdoutSink();
  }

  get enabled(): boolean {
    return this.sink !== null;
  }

  request(r: RequestRecord): void {
    if (this.sink === null) return;
    this.push(this.format === 'json' ? this.lineWriter.line(r) : formatRequestPretty(r, this.color));
  }

  l4(r: L4Record): void {
    if (this.sink === null) return;
    this.push(this.format === 'json' ? JSON.stringify(l4LogObject(r)) : formatL4Pretty(r, this.color));
  }

  private push(line: string): void {
    if (this.closed) return;
    if (this.used + this.inFlight + line.length + 1 > this.maxBufferBytes) {
      this.dropped++;
      this.onDrop?.();
      return;
    }
    const room = line.length * 3 + 1; // UTF-8 needs at most 3 bytes per UTF-16 unit
    if (this.used + room > this.buf.length) {
      this.flush();
      if (this.used + room > this.buf.length) this.grow(room); // waiting for drain, or a very long line
    }
    this.used += this.buf.write(line, this.used, 'utf8');
    this.buf[this.used++] = 10;
    this.lines++;
    if (this.used >= this.flushBytes) this.flush();
    else if (this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush();
      }, this.flushMs);
      this.timer.unref();
    }
  }

  private grow(room: number): void {
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.used + room));
    this.buf.copy(next, 0, 0, this.used);
    this.buf = next;
  }

  /** Hands everything buffered to the sink in one write (unless it asked us to wait for `drain`). */
  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.sink === null || this.used === 0 || this.waitingDrain) return;
    const n = this.used;
    const full = this.buf;
    const data = full.subarray(0, n);
    this.buf = this.spare ?? Buffer.allocUnsafe(this.baseSize);
    this.spare = null;
    this.used = 0;
    this.inFlight += n;
    const done = (): void => {
      this.inFlight -= n;
      if (full.length === this.baseSize) this.spare = full;
    };
    let ok: boolean;
    if (n <= this.maxWriteBytes) ok = this.sink.write(data, done);
    else {
      const pieces = splitAtLines(data, this.maxWriteBytes);
      ok = true;
      for (let i = 0; i < pieces.length; i++) ok = this.sink.write(pieces[i], i === pieces.length - 1 ? done : undefined);
    }
    if (!ok) {
      this.waitingDrain = true;
      this.sink.once('drain', () => {
        this.waitingDrain = false;
        if (this.used > 0) this.flush();
      });
    }
  }

  /** Flushes what is buffered and waits (bounded) until the sink has written it. */
  async close(timeoutMs = 2000): Promise<void> {
    this.flush();
    this.closed = true;
    const deadline = Date.now() + timeoutMs;
    while ((this.inFlight > 0 || this.used > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      if (!this.waitingDrain && this.used > 0) this.flush();
    }
  }
}
