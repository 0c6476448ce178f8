/**
 * Stable error codes (like undici's `UND_ERR_*`) and the gateway's own answers. Every answer the gateway
 * produces itself is a short plain-text body — never a stack trace — and carries a stable `reason` for
 * telemetry (`RequestRecord.error`, `onBackendError`).
 */

const kGatehouseError = Symbol.for('gatehouse.error');

export const ErrorCode = {
  NO_ROUTE: 'GH_ERR_NO_ROUTE',
  BAD_REQUEST: 'GH_ERR_BAD_REQUEST',
  BAD_PATH: 'GH_ERR_BAD_PATH',
  BAD_HOST: 'GH_ERR_BAD_HOST',
  MISDIRECTED: 'GH_ERR_MISDIRECTED',
  BACKEND_INVALID: 'GH_ERR_BACKEND_INVALID',
  NO_BACKENDS: 'GH_ERR_NO_BACKENDS',
  FILTER_UNSUPPORTED: 'GH_ERR_FILTER_UNSUPPORTED',
  NO_ENDPOINTS: 'GH_ERR_NO_ENDPOINTS',
  CONNECT_REFUSED: 'GH_ERR_CONNECT_REFUSED',
  UPSTREAM_RESET: 'GH_ERR_UPSTREAM_RESET',
  UPSTREAM_MALFORMED: 'GH_ERR_UPSTREAM_MALFORMED',
  TIMEOUT: 'GH_ERR_TIMEOUT',
  CONNECT_TIMEOUT: 'GH_ERR_CONNECT_TIMEOUT',
  OVERFLOW: 'GH_ERR_OVERFLOW',
  HEADER_TOO_LARGE: 'GH_ERR_HEADER_TOO_LARGE',
  URI_TOO_LONG: 'GH_ERR_URI_TOO_LONG',
  BODY_TOO_LARGE: 'GH_ERR_BODY_TOO_LARGE',
  NOT_IMPLEMENTED: 'GH_ERR_NOT_IMPLEMENTED',
  REQUEST_TIMEOUT: 'GH_ERR_REQUEST_TIMEOUT',
  INTERNAL: 'GH_ERR_INTERNAL',
  LISTEN: 'GH_ERR_LISTEN',
  CLOSED: 'GH_ERR_CLOSED',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** An error raised by Gatehouse itself. `isGatehouseError` survives duplicate installs (a global symbol brand). */
export class GatehouseError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GatehouseError';
    this.code = code;
  }
  get [kGatehouseError](): true {
    return true;
  }
  static isGatehouseError(err: unknown): err is GatehouseError {
    return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[kGatehouseError] === true;
  }
}

/** One answer the gateway gives itself. Prepared once; the body Buffer is shared by every request. */
export interface LocalReply {
  readonly code: ErrorCode;
  /** Stable reason string for telemetry and the access log. */
  readonly reason: string;
  readonly status: number;
  readonly body: Buffer;
  /** gRPC status for requests with `content-type: application/grpc*` (answered trailers-only). */
  readonly grpcStatus: number;
  readonly grpcMessage: string;
  /** HTTP/1.x: close the connection after this answer (the request was refused as malformed or unread). */
  readonly close: boolean;
}

function reply(code: ErrorCode, reason: string, status: number, text: string, grpcStatus: number, close = false): LocalReply {
  return Object.freeze({ code, reason, status, body: Buffer.from(text + '\n'), grpcStatus, grpcMessage: text, close });
}

// gRPC status codes used below.
const UNKNOWN = 2;
const INVALID_ARGUMENT = 3;
const DEADLINE_EXCEEDED = 4;
const UNIMPLEMENTED = 12;
const RESOURCE_EXHAUSTED = 8;
const INTERNAL = 13;
const UNAVAILABLE = 14;

export const Replies = {
  noRoute: reply(ErrorCode.NO_ROUTE, 'no_route', 404, 'no route', UNIMPLEMENTED),
  badRequest: reply(ErrorCode.BAD_REQUEST, 'bad_request', 400, 'bad request', INVALID_ARGUMENT, true),
  badPath: reply(ErrorCode.BAD_PATH, 'bad_path', 400, 'invalid path', INVALID_ARGUMENT, true),
  badHost: reply(ErrorCode.BAD_HOST, 'bad_host', 400, 'invalid host', INVALID_ARGUMENT, true),
  headerTooLarge: reply(ErrorCode.HEADER_TOO_LARGE, 'header_too_large', 431, 'request header fields too large', INVALID_ARGUMENT, true),
  uriTooLong: reply(ErrorCode.URI_TOO_LONG, 'uri_too_long', 414, 'uri too long', INVALID_ARGUMENT, true),
  bodyTooLarge: reply(ErrorCode.BODY_TOO_LARGE, 'body_too_large', 413, 'request body too large', RESOURCE_EXHAUSTED, true),
  notImplemented: reply(ErrorCode.NOT_IMPLEMENTED, 'not_implemented', 501, 'transfer coding not implemented', UNIMPLEMENTED, true),
  requestTimeout: reply(ErrorCode.REQUEST_TIMEOUT, 'request_timeout', 408, 'request timeout', DEADLINE_EXCEEDED, true),
  overflow: reply(ErrorCode.OVERFLOW, 'overflow', 503, 'backend overloaded', UNAVAILABLE),
  connectTimeout: reply(ErrorCode.CONNECT_TIMEOUT, 'connect_timeout', 503, 'backend unavailable', UNAVAILABLE),
  misdirected: reply(ErrorCode.MISDIRECTED, 'misdirected', 421, 'misdirected request', UNAVAILABLE),
  backendInvalid: reply(ErrorCode.BACKEND_INVALID, 'backend_invalid', 500, 'backend not found', UNAVAILABLE),
  noBackends: reply(ErrorCode.NO_BACKENDS, 'no_backends', 500, 'no backend', UNAVAILABLE),
  filterUnsupported: reply(ErrorCode.FILTER_UNSUPPORTED, 'filter_unsupported', 500, 'unsupported filter', INTERNAL),
  noEndpoints: reply(ErrorCode.NO_ENDPOINTS, 'no_endpoints', 503, 'backend unavailable', UNAVAILABLE),
  connectRefused: reply(ErrorCode.CONNECT_REFUSED, 'connect_refused', 502, 'bad gateway', UNAVAILABLE),
  reset: reply(ErrorCode.UPSTREAM_RESET, 'reset', 502, 'bad gateway', UNAVAILABLE),
  malformed: reply(ErrorCode.UPSTREAM_MALFORMED, 'malformed', 502, 'bad gateway', UNKNOWN),
  timeout: reply(ErrorCode.TIMEOUT, 'timeout', 504, 'gateway timeout', DEADLINE_EXCEEDED),
  internal: reply(ErrorCode.INTERNAL, 'internal', 500, 'internal error', INTERNAL),
} as const;

/** Errors undici/node report before any response byte arrived, as a reply. */
export function replyForUpstreamError(err: unknown): LocalReply {
  const code = (err as { code?: string } | null)?.code;
  switch (code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENOENT': // unix socket path missing
      return Replies.connectRefused;
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return Replies.connectTimeout;
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
    case 'ERR_HTTP2_STREAM_ERROR':
    case 'ERR_HTTP2_SESSION_ERROR':
    case 'ERR_HTTP2_GOAWAY_SESSION':
      return Replies.reset;
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return Replies.timeout;
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_HEADER_TOKEN':
    case 'UND_ERR_INVALID_ARG':
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
      return Replies.malformed;
    default:
      if (typeof code === 'string' && code.startsWith('HPE_')) return Replies.malformed;
      // undici's response parser errors do not always carry an HPE_ code
      if ((err as { name?: string } | null)?.name === 'HTTPParserError') return Replies.malformed;
      return Replies.reset;
  }
}

/** Connect-phase failures: nothing was sent, so the request may be retried safely on another endpoint. */
export function isConnectError(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return (
    code === 'ECONNREFUSED' ||
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    code === 'ETIMEDOUT' ||
    code === 'EHOSTUNREACH' ||
    code === 'ENETUNREACH' ||
    code === 'ENOENT' ||
    code === 'ENOTFOUND' ||
    code === 'EAI_AGAIN'
  );
}

/**
 * The last-resort classification for an error nobody handled (`uncaughtException` /
 * `unhandledRejection`): operational errors of sockets and peers (a code like ECONNRESET, EPIPE,
 * ERR_STREAM_*, HPE_*, UND_ERR_*, ERR_HTTP2_*, or a `syscall`) are logged and the process keeps serving;
 * anything else is a programmer error (TypeError, RangeError, ...) and the process must exit so a
 * supervisor restarts it from a clean state (docs/reliability.md).
 */
export function isOperationalError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; syscall?: unknown };
  if (typeof e.syscall === 'string') return true;
  const code = e.code;
  if (typeof code !== 'string') return false;
  return (
    /^E[A-Z0-9]+$/.test(code) ||
    code.startsWith('ERR_STREAM_') ||
    code.startsWith('ERR_HTTP2_') ||
    code.startsWith('ERR_HTTP_') ||
    code.startsWith('ERR_SOCKET_') ||
    code.startsWith('ERR_TLS_') ||
    code.startsWith('ERR_SSL_') ||
    code.startsWith('HPE_') ||
    code.startsWith('UND_ERR_') ||
    code.startsWith('GH_ERR_')
  );
}
