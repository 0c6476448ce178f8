/**
 * Limits and request-head checks shared by every HTTP engine (node:http today, the raw-socket engine
 * next): the configurable limits with their defaults, the one table that maps parser errors to answers,
 * the canned raw error responses, and the Transfer-Encoding / version / Host checks that decide whether
 * a request may be forwarded at all. Nothing here allocates per request on the success path, and nothing
 * throws. docs/reliability.md documents every value.
 */
import { randomUUID } from 'node:crypto';

export type RequestIdMode = 'trust' | 'always-new' | 'off';
export const REQUEST_ID_MODES: readonly RequestIdMode[] = ['trust', 'always-new', 'off'];

export interface OutlierOptions {
  /** Consecutive failures (5xx, connect error, reset, timeout) that eject an endpoint (default 5; 0 = off). */
  consecutiveFailures?: number;
  /** Ejection time = base × times ejected, capped by `maxEjectionMs` (default 30 s). */
  baseEjectionMs?: number;
  /** Longest ejection (default 300 s). */
  maxEjectionMs?: number;
  /** At most this share of a backend's endpoints ejected at once (default 10 %, at least one; never the last healthy one). */
  maxEjectionPercent?: number;
}

export interface Limits {
  /** Request line + headers, bytes (→ 431). Node's `maxHeaderSize`. Default 60 KiB (Envoy's max_request_headers_kb). */
  maxHeaderBytes: number;
  /** Request header fields (→ 431). Default 100 (Envoy's max_headers_count). */
  maxHeaderCount: number;
  /** Request-target length, bytes (→ 414). Default 8 KiB. */
  maxUriBytes: number;
  /** Time for a client to send the whole request head (slowloris → 408 and close). Default 10 s. */
  headersTimeoutMs: number;
  /** Time for a client to send the whole request, body included (→ 408). Default 300 s; 0 = none. */
  requestTimeoutMs: number;
  /** Idle HTTP/1.1 keep-alive connection closed after this. Default 65 s (above common LB idle timeouts of 60 s). */
  idleTimeoutMs: number;
  /** Open connections per listener socket; beyond, new connections are closed at once. Default 50,000. */
  maxConnections: number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS per h2 connection. Default 100 (Envoy's edge value). */
  maxConcurrentStreams: number;
  /** Request body bytes (→ 413, on Content-Length and while streaming). Default 0 = unlimited. */
  maxBodyBytes: number;
  /** Requests in flight to one backend; beyond, 503 (Envoy's circuit breaker). Default 1024. */
  maxPendingPerBackend: number;
  /** Upstream connect timeout (→ 503 `connect_timeout`). Default 5 s. */
  connectTimeoutMs: number;
  /** `x-request-id`: keep the client's (trust), always replace (always-new), or leave alone (off). */
  requestId: RequestIdMode;
  outlier: Required<OutlierOptions>;
}

export type LimitOptions = Partial<Omit<Limits, 'outlier'>> & { outlier?: OutlierOptions };

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxHeaderBytes: 60 * 1024,
  maxHeaderCount: 100,
  maxUriBytes: 8 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 300_000,
  idleTimeoutMs: 65_000,
  maxConnections: 50_000,
  maxConcurrentStreams: 100,
  maxBodyBytes: 0,
  maxPendingPerBackend: 1024,
  connectTimeoutMs: 5_000,
  requestId: 'trust',
  outlier: Object.freeze({ consecutiveFailures: 5, baseEjectionMs: 30_000, maxEjectionMs: 300_000, maxEjectionPercent: 10 }),
});

let processDefaults: LimitOptions = {};

/**
 * Process-wide overrides of the defaults (the cli's `gatehouse run` flags): every Runtime created
 * afterwards — in the primary or in a `--workers` child, which parses the same argv — starts from them.
 */
export function setDefaultLimits(o: LimitOptions): void {
  processDefaults = o;
}

/** Defaults (and process-wide overrides) filled in; out-of-range numbers fall back to the default. */
export function resolveLimits(given: LimitOptions = {}): Limits {
  const o: LimitOptions = { ...processDefaults, ...given, outlier: { ...processDefaults.outlier, ...given.outlier } };
  const num = (v: number | undefined, d: number, min = 0): number => (typeof v === 'number' && Number.isFinite(v) && v >= min ? v : d);
  const d = DEFAULT_LIMITS;
  const oo = o.outlier ?? {};
  return {
    maxHeaderBytes: num(o.maxHeaderBytes, d.maxHeaderBytes, 1024),
    maxHeaderCount: num(o.maxHeaderCount, d.maxHeaderCount, 1),
    maxUriBytes: num(o.maxUriBytes, d.maxUriBytes, 16),
    headersTimeoutMs: num(o.headersTimeoutMs, d.headersTimeoutMs, 1),
    requestTimeoutMs: num(o.requestTimeoutMs, d.requestTimeoutMs),
    idleTimeoutMs: num(o.idleTimeoutMs, d.idleTimeoutMs, 1),
    maxConnections: num(o.maxConnections, d.maxConnections, 1),
    maxConcurrentStreams: num(o.maxConcurrentStreams, d.maxConcurrentStreams, 1),
    maxBodyBytes: num(o.maxBodyBytes, d.maxBodyBytes),
    maxPendingPerBackend: num(o.maxPendingPerBackend, d.maxPendingPerBackend, 1),
    connectTimeoutMs: num(o.connectTimeoutMs, d.connectTimeoutMs, 1),
    requestId: o.requestId !== undefined && REQUEST_ID_MODES.includes(o.requestId) ? o.requestId : d.requestId,
    outlier: {
      consecutiveFailures: num(oo.consecutiveFailures, d.outlier.consecutiveFailures),
      baseEjectionMs: num(oo.baseEjectionMs, d.outlier.baseEjectionMs, 1),
      maxEjectionMs: num(oo.maxEjectionMs, d.outlier.maxEjectionMs, 1),
      maxEjectionPercent: num(oo.maxEjectionPercent, d.outlier.maxEjectionPercent),
    },
  };
}

// ------------------------------------------------------------------------------ parser errors → answers

/** One answer to a request the parser (or the head checks) refused. The connection is always closed. */
export interface ProtocolReply {
  status: number;
  /** Stable reason for logs/metrics. */
  reason: string;
  /** The whole HTTP/1.1 response, prebuilt (`Connection: close`). */
  bytes: Buffer;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Content Too Large',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

function protocolReply(status: number, reason: string, text: string): ProtocolReply {
  const body = text + '\n';
  const head =
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n` +
    `content-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`;
  return Object.freeze({ status, reason, bytes: Buffer.from(head + body, 'latin1') });
}

export const ProtocolReplies = {
  badRequest: protocolReply(400, 'bad_request', 'bad request'),
  headerTooLarge: protocolReply(431, 'header_too_large', 'request header fields too large'),
  uriTooLong: protocolReply(414, 'uri_too_long', 'uri too long'),
  bodyTooLarge: protocolReply(413, 'body_too_large', 'request body too large'),
  timeout: protocolReply(408, 'request_timeout', 'request timeout'),
  notImplemented: protocolReply(501, 'not_implemented', 'transfer coding not implemented'),
} as const;

/**
 * THE table: llhttp / Node error codes of a request the parser refused → the answer. Anything `HPE_*`
 * not listed is a 400. Socket-level errors (ECONNRESET, EPIPE, ...) get no answer: the peer is gone.
 */
export const PARSER_ERROR_TABLE: Readonly<Record<string, ProtocolReply>> = Object.freeze({
  HPE_HEADER_OVERFLOW: ProtocolReplies.headerTooLarge,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: ProtocolReplies.bodyTooLarge,
  ERR_HTTP_REQUEST_TIMEOUT: ProtocolReplies.timeout,
  ERR_HTTP_HEADERS_TIMEOUT: ProtocolReplies.timeout,
  HPE_INVALID_METHOD: ProtocolReplies.badRequest,
  HPE_INVALID_VERSION: ProtocolReplies.badRequest,
  HPE_INVALID_URL: ProtocolReplies.badRequest,
  HPE_INVALID_CONSTANT: ProtocolReplies.badRequest,
  HPE_INVALID_HEADER_TOKEN: ProtocolReplies.badRequest,
  HPE_INVALID_CONTENT_LENGTH: ProtocolReplies.badRequest,
  HPE_UNEXPECTED_CONTENT_LENGTH: ProtocolReplies.badRequest,
  HPE_INVALID_TRANSFER_ENCODING: ProtocolReplies.badRequest,
  HPE_INVALID_CHUNK_SIZE: ProtocolReplies.badRequest,
  HPE_STRICT: ProtocolReplies.badRequest,
  HPE_LF_EXPECTED: ProtocolReplies.badRequest,
  HPE_CR_EXPECTED: ProtocolReplies.badRequest,
});

/** The answer for a parser/client error code, or null when the peer must just be dropped. */
export function replyForParserError(code: string | undefined): ProtocolReply | null {
  if (code === undefined) return null;
  const r = PARSER_ERROR_TABLE[code];
  if (r !== undefined) return r;
  return code.startsWith('HPE_') ? ProtocolReplies.badRequest : null;
}

// ------------------------------------------------------------------------------ request-head checks

/**
 * A request's `Transfer-Encoding` value (all field lines joined with `,`): 0 = exactly `chunked`,
 * 400 = malformed (empty, empty element, `chunked` twice or not last), 501 = a coding we do not implement.
 */
export function checkTransferEncoding(value: string): 0 | 400 | 501 {
  if (value.length === 7 && (value === 'chunked' || value.toLowerCase() === 'chunked')) return 0;
  const parts = value.split(',');
  let unknown = false;
  let chunkedAt = -1;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i].trim().toLowerCase();
    if (p === '' || !isToken(p.split(';')[0].trim())) return 400;
    if (p === 'chunked') {
      if (chunkedAt !== -1) return 400;
      chunkedAt = i;
    } else unknown = true;
  }
  if (chunkedAt !== -1 && chunkedAt !== parts.length - 1) return 400;
  return unknown ? 501 : 0;
}

/** RFC 9110 token. */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || '"(),/:;<=>?@[\\]{}'.indexOf(s[i]) !== -1) return false;
  }
  return true;
}

/**
 * Whether the authority of an absolute-form target names the same host as the Host header (compared
 * case-insensitively; a default port may be left out on either side).
 */
export function sameAuthority(authority: string, host: string, secure: boolean): boolean {
  if (authority.length === host.length && (authority === host || authority.toLowerCase() === host.toLowerCase())) return true;
  const dflt = secure ? ':443' : ':80';
  const a = authority.toLowerCase();
  const h = host.toLowerCase();
  return (a.endsWith(dflt) ? a.slice(0, -dflt.length) : a) === (h.endsWith(dflt) ? h.slice(0, -dflt.length) : h);
}

// ------------------------------------------------------------------------------ request ids

/**
 * Request ids shaped like a UUID v4: a random per-process prefix (one `randomUUID()` at start-up) and a
 * 48-bit counter as the last group — unique per process, unique across processes with overwhelming
 * probability, ~2.5× cheaper than `randomUUID()` per request (measured: docs/reliability.md).
 */
const ID_PREFIX = randomUUID().slice(0, 24);
let idCounter = Math.floor(Math.random() * 0x1000000);
const ZEROS = '000000000000';

export function newRequestId(): string {
  idCounter = idCounter >= 0xffffffffffff ? 0 : idCounter + 1;
  const hex = idCounter.toString(16);
  return ID_PREFIX + ZEROS.slice(hex.length) + hex;
}

/** A client-supplied id worth keeping: 1..200 visible ASCII characters. */
export function acceptableRequestId(v: string): boolean {
  const n = v.length;
  if (n === 0 || n > 200) return false;
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

/** Host header syntax: reg-name / IPv4 / [IPv6], optional :port (both engines). */
export function validHost(h: string): boolean {
  const n = h.length;
  if (n === 0 || n > 255) return false;
  for (let i = 0; i < n; i++) {
    const c = h.charCodeAt(i);
    if (
      (c >= 97 && c <= 122) ||
      (c >= 65 && c <= 90) ||
      (c >= 48 && c <= 57) ||
      c === 46 ||
      c === 45 ||
      c === 58 ||
      c === 95 ||
      c === 91 ||
      c === 93 ||
      c === 126
    )
      continue;
    return false;
  }
  if (h.charCodeAt(0) === 91) {
    // an IP literal: `[...]`, then nothing or `:` and the port digits; no other brackets
    const close = h.indexOf(']');
    if (close < 2 || h.indexOf('[', 1) !== -1 || h.indexOf(']', close + 1) !== -1) return false;
    if (close + 1 < n && h.charCodeAt(close + 1) !== 58) return false;
    for (let i = close + 2; i < n; i++) {
      const c = h.charCodeAt(i);
      if (c < 48 || c > 57) return false;
    }
    return true;
  }
  if (h.indexOf('[') !== -1 || h.indexOf(']') !== -1) return false;
  const colon = h.lastIndexOf(':');
  if (colon !== -1) {
    if (h.indexOf(':') !== colon) return false;
    for (let i = colon + 1; i < n; i++) {
      const c = h.charCodeAt(i);
      if (c < 48 || c > 57) return false;
    }
  }
  return true;
}
