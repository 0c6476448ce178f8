/**
 * One HTTP request through the gateway: routing on a plain RequestHead, the prepared filter plan, the
 * backendRef pick, then forwarding with undici `dispatch()`. The Exchange object is itself the undici
 * handler (legacy callbacks: raw header Buffers, no re-parsing, and `onData`'s boolean return is the
 * back-pressure signal), so a request allocates one object for state + handler.
 *
 * HOT PATH — change with care: no closures or promise chains per request; listeners are shared
 * functions that find the Exchange through a symbol on the emitter.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import { Transform } from 'node:stream';
import type { BackendIR, ListenerIR, RequestHead } from '@gatehouse/core';
import type { RequestRecord, ResolvedEndpoint } from '../api.js';
import { isConnectError, type LocalReply, Replies, replyForUpstreamError } from '../errors.js';
import { acceptableRequestId, checkTransferEncoding, newRequestId, sameAuthority, validHost } from '../limits.js';
import type { Cors } from '../filters/cors.js';
import { MIRROR_BODY_LIMIT } from '../filters/mirror.js';
import type { FilterPlan } from '../filters/plan.js';
import { connectionTokens, isHopByHop, isRequestIdName, maybeHop, removeHeader, responseHeaders, sameName, setHeader } from '../upstream/headers.js';
import { forwardH2c } from '../upstream/h2c-forward.js';
import { sendMirrors } from '../upstream/mirror.js';
import { kRemoteAddress } from '../listeners/sniff.js';
import { normalizeHost, normalizePath } from './core-shim.js';
import type { Expirable } from './deadlines.js';
import type { PendingCounter } from './engine.js';
import type { PreparedPort, PreparedRule } from './prepared.js';

export type DownRequest = IncomingMessage | Http2ServerRequest;
export type DownResponse = ServerResponse | Http2ServerResponse;

export const kExchange = Symbol('gatehouse.exchange');
type WithExchange = { [kExchange]?: Exchange };

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

function onResDrain(this: WithExchange): void {
  this[kExchange]?.resumeUpstream();
}
function onResClose(this: WithExchange): void {
  const ex = this[kExchange];
  if (ex !== undefined && !ex.done) ex.clientGone();
}
function ignoreError(): void {}
function closeSocketAfterReply(this: ServerResponse): void {
  const s = this.socket;
  if (s !== null && !s.destroyed) s.destroySoon();
}
function retryLater(ex: Exchange): void {
  ex.attempt();
}
/** Set by the HTTP/1 engine's clientError handler on a socket whose parser failed. */
export const kParseError = Symbol.for('gatehouse.parseError');
/** Per HTTP/1 connection: requests seen so far, and the first one whose answer closes the connection. */
const kSeq = Symbol('gatehouse.requestSeq');
const kCloseAt = Symbol('gatehouse.closeAt');
type H1Socket = Socket & { [kParseError]?: boolean; [kSeq]?: number; [kCloseAt]?: number };

/**
 * An HTTP/1 request's first try starts on the next turn of the event loop, once node:http has parsed
 * the rest of the read it came in. By then a parse error later in the read has marked the socket (the
 * client got its 400), an earlier answer on the connection may be known to close it, or the socket is
 * gone; in each case node:http would never deliver this request's answer, so it is not forwarded (as
 * the fast engine, which serves nothing after a closing answer or a refused read).
 */
function attemptAfterParse(ex: Exchange): void {
  if (ex.done) return;
  const sock = ex.req.socket as H1Socket | null;
  if (sock !== null && sock[kParseError] === true) {
    ex.status = 400;
    ex.error = 'bad_request';
    ex.finish();
    return;
  }
  const closeAt = sock?.[kCloseAt];
  if (sock === null || sock.destroyed || (closeAt !== undefined && ex.seq > closeAt)) {
    ex.clientGone();
    return;
  }
  ex.attempt();
}

class UpstreamAbort extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}
const TIMEOUT_ABORT = new UpstreamAbort('GH_TIMEOUT');
const RETRY_ABORT = new UpstreamAbort('GH_RETRY');
const CLIENT_ABORT = new UpstreamAbort('GH_CLIENT_GONE');

/**
 * Only names of these lengths can be one the engine treats specially (host 4, expect 6, x-forwarded-*
 * 15/16/17, and the hop-by-hop ones): every other request header is copied without lowercasing.
 */
function maybeSpecial(name: string): boolean {
  const n = name.length;
  return n === 4 || n === 6 || n === 15 || n === 16 || maybeHop(name);
}

/** A response header list already carries `x-request-id` (the upstream echoed it). */
function hasRequestId(headers: string[]): boolean {
  for (let i = 0; i < headers.length; i += 2) if (headers[i].length === 12 && isRequestIdName(headers[i])) return true;
  return false;
}



/** The RequestHead of one request; `headers` is Node's header object, built only when read. */
class Head implements RequestHead {
  method = '';
  host = '';
  path = '';
  query = '';
  constructor(readonly req: DownRequest) {}
  get headers(): RequestHead['headers'] {
    return this.req.headers;
  }
}

export class Exchange implements Expirable {
  // ---- downstream
  readonly pp: PreparedPort;
  readonly req: DownRequest;
  /** null for WebSocket upgrades (answered on the raw socket). */
  readonly res: DownResponse | null;
  readonly socket: Socket | null;
  readonly secure: boolean;
  readonly h2: boolean;
  /** 1-based position of this request on its HTTP/1 connection (0 on HTTP/2). */
  seq = 0;
  readonly start = performance.now();
  readonly startTime = Date.now();
  readonly head: Head;
  rawHost = '';
  grpc = false;
  contentLength: string | null = null;
  chunked = false;
  // ---- routing
  listener: ListenerIR | undefined;
  rule: PreparedRule | null = null;
  plan: FilterPlan | null = null;
  cors: Cors | null = null;
  backend: BackendIR | null = null;
  endpoint: ResolvedEndpoint | null = null;
  // ---- upstream
  upstreamPath = '';
  headers: string[] = [];
  hasBody = false;
  /** The request body when it was read into memory (small mirrored bodies); retries are then safe. */
  bodyBuffer: Buffer | null = null;
  deadline = Infinity;
  requestDeadline = Infinity;
  retriesLeft = 0;
  connectRetried = false;
  abortFn: ((err?: Error) => void) | null = null;
  pendingAbort: Error | null = null;
  resumeFn: (() => void) | null = null;
  discarding = false;
  retrying = false;
  responded = false;
  done = false;
  // ---- record
  status = 0;
  bytesOut = 0;
  upstreamMs = -1;
  error: string | null = null;
  /** x-request-id (kept or generated); null until known or when ids are off. */
  requestId: string | null = null;
  /** The chosen backend's in-flight counter (set by route; a slot is taken only by forward). */
  pendingOf: PendingCounter | null = null;
  /** The backend's in-flight counter, when this request holds a slot (released by finish). */
  pending: PendingCounter | null = null;
  /** HTTP/1: close the connection after the answer (a refused request). */
  closeAfter = false;
  /** The body stream sent upstream when it is not `req` itself (a counting Transform). */
  body: import('node:stream').Readable | null = null;
  /** Dispatch options object, reused across attempts. */
  opts: { path: string; method: string; headers: string[]; body: DownRequest | import('node:stream').Readable | Buffer | null } | null = null;

  constructor(pp: PreparedPort, req: DownRequest, res: DownResponse | null, secure: boolean, socket: Socket | null = null) {
    this.pp = pp;
    this.req = req;
    this.res = res;
    this.socket = socket;
    this.secure = secure;
    this.h2 = req.httpVersionMajor === 2 && (req as Http2ServerRequest).stream !== undefined;
    this.head = new Head(req);
    pp.engine.inFlight++;
    const sock = req.socket as H1Socket | null;
    if (!this.h2 && sock !== null) {
      this.seq = sock[kSeq] = (sock[kSeq] ?? 0) + 1;
      // node:http closes after this request's answer (Connection: close, HTTP/1.0 without keep-alive)
      if (res !== null && (res as ServerResponse).shouldKeepAlive === false) this.closesAt();
    }
    if (res !== null) {
      (res as WithExchange)[kExchange] = this;
      res.on('close', onResClose);
    }
  }

  /**
   * Route the request. Returns false when the gateway already answered (error, redirect, preflight).
   * `sni`: the TLS server name of an HTTPS connection (null = no SNI check).
   */
  route(sni: string | null): boolean {
    const req = this.req;
    const pp = this.pp;
    // ---- Host
    let rawHost: string | undefined;
    if (this.h2) {
      const a = req.headers[':authority'];
      rawHost = typeof a === 'string' ? a : (req.headers.host as string | undefined);
      const ct = req.headers['content-type'];
      this.grpc = typeof ct === 'string' && ct.startsWith('application/grpc');
      const cl = req.headers['content-length'];
      this.contentLength = typeof cl === 'string' ? cl : null;
    } else {
      // One pass over the raw headers for what the engine needs, so Node never has to build
      // `req.headers` unless a matcher or filter asks for it (the head's `headers` is lazy).
      const raw = req.rawHeaders;
      const limits = pp.engine.limits;
      if (req.httpVersionMajor !== 1) return this.reply(Replies.badRequest);
      if (raw.length > limits.maxHeaderCount * 2) return this.reply(Replies.headerTooLarge);
      let count = 0;
      let te: string | null = null;
      for (let i = 0; i < raw.length; i += 2) {
        const name = raw[i];
        switch (name.length) {
          case 4:
            if (sameName(name, 'host')) {
              count++;
              rawHost = raw[i + 1];
            }
            break;
          case 12:
            if (sameName(name, 'content-type')) this.grpc = raw[i + 1].startsWith('application/grpc');
            break;
          case 14:
            if (sameName(name, 'content-length')) this.contentLength = raw[i + 1];
            break;
          case 17:
            if (sameName(name, 'transfer-encoding')) te = te === null ? raw[i + 1] : te + ',' + raw[i + 1];
            break;
        }
      }
      if (count > 1 || (count === 0 && req.httpVersionMinor >= 1)) return this.reply(Replies.badHost);
      if (te !== null) {
        // llhttp already refused TE together with Content-Length, and `chunked` not last
        if (req.httpVersionMinor === 0) return this.reply(Replies.badRequest);
        const v = checkTransferEncoding(te);
        if (v !== 0) return this.reply(v === 501 ? Replies.notImplemented : Replies.badRequest);
        this.chunked = true;
      }
      const url = req.url;
      if (url !== undefined && url.length > limits.maxUriBytes) return this.reply(Replies.uriTooLong);
      if (limits.maxBodyBytes > 0 && this.contentLength !== null && Number(this.contentLength) > limits.maxBodyBytes)
        return this.reply(Replies.bodyTooLarge);
    }
    if (rawHost !== undefined && !validHost(rawHost)) return this.reply(Replies.badHost);
    this.rawHost = rawHost ?? '';
    const head = this.head;
    head.method = req.method ?? 'GET';
    head.host = normalizeHost(rawHost);
    // ---- target
    const url = req.url ?? '/';
    let target = url;
    if (url.charCodeAt(0) !== 47 /* / */) {
      const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]+)/.exec(url);
      if (m === null) return this.reply(Replies.badPath);
      // absolute-form: the authority must name the Host we route on (RFC 9112 §3.2.2 says it wins;
      // two different names in one request is how routing and the backend are made to disagree)
      if (rawHost === undefined || !sameAuthority(m[1], rawHost, this.secure)) return this.reply(Replies.badHost);
      target = url.slice(m[0].length) || '/';
      if (target.charCodeAt(0) === 63 /* ? */) target = '/' + target;
    }
    const q = target.indexOf('?');
    const path = normalizePath(q === -1 ? target : target.slice(0, q));
    if (path === null) return this.reply(Replies.badPath);
    head.path = path;
    head.query = q === -1 ? '' : target.slice(q + 1);
    // ---- listener (group), SNI check, rule
    const matcher = pp.matcher;
    const gi = matcher.selectGroup(head.host);
    if (sni !== null && sni !== '') {
      const sg = matcher.selectGroup(sni);
      if (sg !== gi) {
        this.listener = pp.groupListener[sg] ?? pp.defaultListener;
        return this.reply(gi === -1 ? Replies.noRoute : Replies.misdirected);
      }
    }
    if (gi === -1) {
      this.listener = pp.defaultListener;
      return this.reply(Replies.noRoute);
    }
    const m = matcher.match(gi, head);
    if (m === null) {
      this.listener = pp.groupListener[gi];
      return this.reply(Replies.noRoute);
    }
    this.listener = pp.port.listeners[m.entry.listener];
    const rule = pp.rules.get(m.rule);
    if (rule === undefined) return this.reply(Replies.internal);
    this.rule = rule;
    if (rule.plan.terminal && this.terminal(rule.plan)) return false;
    const ref = rule.pick();
    if (ref === null) return this.reply(Replies.noBackends);
    if (ref.terminal && this.terminal(ref.plan)) return false;
    this.plan = ref.plan;
    const backend = ref.backend;
    if (backend === null) return this.reply(Replies.backendInvalid);
    this.backend = backend;
    if (backend.endpoints.length === 0) return this.reply(Replies.noEndpoints);
    this.pendingOf = ref.pending;
    return true;
  }

  /** Filters that answer by themselves. True when answered. */
  terminal(plan: FilterPlan): boolean {
    if (plan.unsupported !== null) {
      this.reply(Replies.filterUnsupported);
      return true;
    }
    if (plan.redirect !== null) {
      const head = this.head;
      const loc = plan.redirect.location(head.host, head.path, head.query);
      this.status = plan.redirect.status;
      this.respondLocal(plan.redirect.status, ['location', loc, 'content-length', '0'], null);
      return true;
    }
    if (plan.cors !== null) {
      const h = this.req.headers;
      const origin = h.origin;
      if (typeof origin === 'string') {
        const acrm = h['access-control-request-method'];
        if (this.head.method === 'OPTIONS' && typeof acrm === 'string') {
          const acrh = h['access-control-request-headers'];
          const headers = plan.cors.preflightHeaders(origin, acrm, typeof acrh === 'string' ? acrh : undefined);
          headers.push('content-length', '0');
          // 200 (not 204): the conformance suite expects 200 for an answered preflight
          this.status = 200;
          this.respondLocal(200, headers, null);
          return true;
        }
        this.cors = plan.cors;
      }
    }
    return false;
  }

  // ------------------------------------------------------------------------------------ forwarding

  /** Build the upstream request once, start mirrors and the deadlines, then the first attempt. */
  forward(): void {
    const req = this.req;
    const plan = this.plan!;
    const head = this.head;
    const rule = this.rule!;
    const engine = this.pp.engine;
    const pending = this.pendingOf;
    if (pending !== null) {
      if (pending.n >= engine.limits.maxPendingPerBackend) {
        engine.telemetry.onBackendError(this.backend!.id, 'overflow');
        this.reply(Replies.overflow);
        return;
      }
      pending.n++;
      this.pending = pending;
    }
    const path = plan.pathRewrite === null ? head.path : plan.pathRewrite.apply(head.path);
    this.upstreamPath = head.query === '' ? path : path + '?' + head.query;
    this.headers = this.buildHeaders(plan);
    if (this.h2) {
      this.hasBody = !(req as Http2ServerRequest).stream.endAfterHeaders;
    } else {
      const cl = this.contentLength;
      this.hasBody = this.chunked || (cl !== null && cl !== '0');
    }
    if (rule.requestMs > 0) this.requestDeadline = this.start + rule.requestMs;
    this.retriesLeft = rule.retry === null ? 0 : rule.retry.attempts;
    if (plan.mirrors.length > 0) {
      const cl = Number(this.contentLength ?? -1);
      if (this.hasBody && cl >= 0 && cl <= MIRROR_BODY_LIMIT) {
        this.readSmallBody();
        return;
      }
      sendMirrors(this, plan);
    }
    if (!this.h2) {
      if (this.chunked && engine.limits.maxBodyBytes > 0) this.limitBody();
      setImmediate(attemptAfterParse, this);
    } else if (this.h2 && this.hasBody && this.contentLength === null && engine.limits.maxBodyBytes > 0) {
      this.limitBody();
      this.attempt();
    } else this.attempt();
  }

  /** A streamed body of unknown length, counted on its way to the upstream (only with a body limit). */
  limitBody(): void {
    const max = this.pp.engine.limits.maxBodyBytes;
    let seen = 0;
    const counter = new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        seen += chunk.length;
        if (seen > max) {
          this.bodyTooLarge();
          cb(new Error('request body too large'));
          return;
        }
        cb(null, chunk);
      },
    });
    const req = this.req;
    counter.on('error', ignoreError);
    req.on('error', () => counter.destroy());
    req.pipe(counter);
    this.body = counter;
  }

  bodyTooLarge(): void {
    if (this.done) return;
    if (!this.responded) {
      this.reply(Replies.bodyTooLarge);
    } else {
      this.error = 'body_too_large';
      this.destroyResponse();
      this.finish();
    }
    if (this.backend?.protocol === 'h2c') this.cancelH2c?.();
    else this.cancelUpstream(CLIENT_ABORT);
  }

  /** Small bodies of mirrored requests are read first (bounded) so main and mirror both get them. */
  readSmallBody(): void {
    const chunks: Buffer[] = [];
    const req = this.req;
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => {
      this.bodyBuffer = Buffer.concat(chunks);
      sendMirrors(this, this.plan!);
      this.attempt();
    });
    req.once('error', () => this.clientGone());
  }

  /** A rule-level mirror's request when this backendRef's filters edit the main one (upstream/mirror.ts). */
  mirrorRequest(plan: FilterPlan): { path: string; headers: string[] } {
    const head = this.head;
    const path = plan.pathRewrite === null ? head.path : plan.pathRewrite.apply(head.path);
    return { path: head.query === '' ? path : path + '?' + head.query, headers: this.buildHeaders(plan) };
  }

  buildHeaders(plan: FilterPlan): string[] {
    const req = this.req;
    const raw = req.rawHeaders;
    const out: string[] = [];
    const trust = this.pp.engine.trustForwarded;
    const hostValue = plan.hostRewrite ?? this.rawHost;
    let conn: Set<string> | null = null;
    let xff: string | null = null;
    let xfp: string | null = null;
    let xfh: string | null = null;
    const idMode = this.pp.engine.limits.requestId;
    let rid: string | null = null;
    if (this.h2) out.push('host', hostValue);
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i];
      if (name.charCodeAt(0) === 58 /* : */) continue;
      if (name.length === 12 && idMode !== 'off' && isRequestIdName(name)) {
        rid ??= raw[i + 1];
        continue;
      }
      if (!maybeSpecial(name)) {
        out.push(name, raw[i + 1]);
        continue;
      }
      const lower = name.toLowerCase();
      switch (lower) {
        case 'host':
          if (!this.h2) out.push(name, hostValue);
          continue;
        case 'connection':
          conn = connectionTokens(raw[i + 1]);
          continue;
        case 'x-forwarded-for':
          if (trust) xff = xff === null ? raw[i + 1] : xff + ', ' + raw[i + 1];
          continue;
        case 'x-forwarded-proto':
          if (trust) xfp ??= raw[i + 1];
          continue;
        case 'x-forwarded-host':
          if (trust) xfh ??= raw[i + 1];
          continue;
        case 'expect':
          continue;
      }
      if (isHopByHop(lower)) continue;
      out.push(name, raw[i + 1]);
    }
    if (conn !== null) for (const t of conn) if (t !== 'host') removeHeader(out, t);
    let client = this.clientAddress();
    if (client.startsWith('::ffff:')) client = client.slice(7);
    out.push(
      'x-forwarded-for',
      xff === null ? client : xff + ', ' + client,
      'x-forwarded-proto',
      xfp ?? (this.secure ? 'https' : 'http'),
      'x-forwarded-host',
      xfh ?? this.rawHost,
    );
    if (idMode !== 'off') {
      const id = idMode === 'trust' && rid !== null && acceptableRequestId(rid) ? rid : newRequestId();
      this.requestId = id;
      out.push('x-request-id', id);
    }
    const mods = plan.request;
    for (let i = 0; i < mods.length; i++) mods[i].apply(out);
    if (plan.hostRewrite !== null && mods.length > 0) setHeader(out, 'host', 'host', plan.hostRewrite);
    return out;
  }

  /**
   * Whether the request can be sent again: no body, or a body held in memory. A streamed body may be
   * partly consumed by a failed attempt, so such requests are never retried (documented).
   */
  replayable(): boolean {
    return !this.hasBody || this.bodyBuffer !== null;
  }

  /** The request id for an answer the gateway gives itself (found or made on demand; null when off). */
  localRequestId(): string | null {
    if (this.requestId !== null) return this.requestId;
    const mode = this.pp.engine.limits.requestId;
    if (mode === 'off') return null;
    let rid: string | null = null;
    if (mode === 'trust') {
      const raw = this.req.rawHeaders;
      for (let i = 0; i < raw.length; i += 2) {
        if (raw[i].length === 12 && isRequestIdName(raw[i])) {
          rid = raw[i + 1];
          break;
        }
      }
    }
    this.requestId = rid !== null && acceptableRequestId(rid) ? rid : newRequestId();
    return this.requestId;
  }

  clientAddress(): string {
    const a = this.req.socket?.remoteAddress;
    if (a !== undefined) return a;
    if (this.h2) {
      const s = (this.req as Http2ServerRequest).stream?.session as unknown as Record<symbol, string | undefined> | undefined;
      return s?.[kRemoteAddress] ?? '';
    }
    return '';
  }

  /** One try against one endpoint. Also the retry entry point. */
  attempt(): void {
    if (this.done) return;
    if (this.requestDeadline !== Infinity && performance.now() >= this.requestDeadline) {
      // the sweep has a resolution of a few ms: never start a try after the request deadline
      this.expire(performance.now());
      return;
    }
    const engine = this.pp.engine;
    const backend = this.backend!;
    const ep = engine.resolver.pick(backend);
    if (ep === null) {
      this.reply(Replies.noEndpoints);
      return;
    }
    this.endpoint = ep;
    this.abortFn = null;
    this.pendingAbort = null;
    this.resumeFn = null;
    const rule = this.rule!;
    const attemptDeadline = rule.backendMs > 0 ? performance.now() + rule.backendMs : Infinity;
    const d = attemptDeadline < this.requestDeadline ? attemptDeadline : this.requestDeadline;
    if (d !== this.deadline) {
      this.deadline = d;
      if (d !== Infinity) engine.deadlines.add(this);
    }
    if (backend.protocol === 'h2c') {
      forwardH2c(this, ep);
      return;
    }
    let opts = this.opts;
    if (opts === null) {
      opts = this.opts = {
        path: this.upstreamPath,
        method: this.head.method,
        headers: this.headers,
        body: this.bodyBuffer ?? (this.hasBody ? (this.body ?? this.req) : null),
      };
    }
    engine.pools.get(ep, backend.protocol === 'tls' || backend.protocol === 'wss' ? 'tls' : 'http1').dispatch(opts, this);
  }

  // ---- undici handler (legacy callbacks: raw Buffers, boolean back-pressure)

  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
    if (this.pendingAbort !== null) abort(this.pendingAbort);
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void, _statusText: string): boolean {
    if (this.done) return false;
    if (status < 200) return true;
    if (this.requestDeadline !== Infinity && performance.now() >= this.requestDeadline) {
      this.expire(performance.now());
      return false;
    }
    const retry = this.rule!.retry;
    if (retry !== null && this.retriesLeft > 0 && this.replayable() && retry.codes.includes(status)) {
      this.discarding = true;
      return true;
    }
    this.resumeFn = resume;
    const headers = responseHeaders(raw);
    try {
      this.writeHead(status, headers);
    } catch {
      // a header Node refuses to send (invalid characters): the upstream answer is unusable
      this.pp.engine.telemetry.onBackendError(this.backend!.id, 'malformed');
      this.reply(Replies.malformed);
      this.cancelUpstream(CLIENT_ABORT);
      return false;
    }
    this.upstreamStarted(status);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.discarding) return true;
    if (this.done) return false;
    this.bytesOut += chunk.length;
    const res = this.res as ServerResponse;
    if (res.write(chunk)) return true;
    res.once('drain', onResDrain);
    return false;
  }

  onComplete(_trailers: string[] | null): void {
    if (this.discarding) {
      this.discarding = false;
      this.scheduleRetry();
      return;
    }
    if (this.done) return;
    this.res!.end();
    this.finish();
  }

  onError(err: Error): void {
    if (this.done) return;
    this.discarding = false;
    if (this.retrying) {
      this.retrying = false;
      this.scheduleRetry();
      return;
    }
    this.upstreamFailed(err);
  }

  onUpgrade(): void {
    // Upgrades go through upstream/websocket.ts, never through the pool.
  }

  // ---- shared by h1 (undici) and h2c upstreams

  upstreamStarted(status: number): void {
    this.responded = true;
    this.status = status;
    this.upstreamMs = performance.now() - this.start;
    const engine = this.pp.engine;
    if (status >= 500) engine.resolver.reportFailure(this.backend!, this.endpoint!, 'status');
    else engine.resolver.reportSuccess(this.backend!, this.endpoint!);
  }

  /** Response head to the client, after ResponseHeaderModifiers and CORS. */
  writeHead(status: number, headers: string[]): void {
    const plan = this.plan!;
    const mods = plan.response;
    for (let i = 0; i < mods.length; i++) mods[i].apply(headers);
    if (this.cors !== null) this.cors.decorate(headers, this.req.headers.origin as string);
    const id = this.requestId;
    if (id !== null && !hasRequestId(headers)) headers.push('x-request-id', id);
    (this.res as ServerResponse).writeHead(status, headers);
  }

  resumeUpstream(): void {
    const r = this.resumeFn;
    if (r !== null) r();
  }

  upstreamFailed(err: Error): void {
    const engine = this.pp.engine;
    const backend = this.backend!;
    if (this.responded) {
      // The response already started: all we can do is cut it.
      engine.telemetry.onBackendError(backend.id, 'reset');
      engine.logger.warn('upstream reset during the response', { backend: backend.id, endpoint: this.endpoint?.key, error: (err as { code?: string }).code ?? err.message });
      if (this.endpoint !== null) engine.resolver.reportFailure(backend, this.endpoint, 'reset');
      this.error = 'reset';
      this.destroyResponse();
      this.finish();
      return;
    }
    const reply = replyForUpstreamError(err);
    engine.telemetry.onBackendError(backend.id, reply.reason);
    engine.logger.warn('upstream failed', { backend: backend.id, endpoint: this.endpoint?.key, reason: reply.reason, error: (err as { code?: string }).code ?? err.message });
    const connect = isConnectError(err);
    if (this.endpoint !== null) engine.resolver.reportFailure(backend, this.endpoint, connect ? 'connect' : 'reset');
    if (this.replayable()) {
      if (this.retriesLeft > 0) {
        this.scheduleRetry();
        return;
      }
      if (connect && this.rule!.retry === null && !this.connectRetried && IDEMPOTENT.has(this.head.method)) {
        this.connectRetried = true;
        this.attempt();
        return;
      }
    }
    this.reply(reply);
  }

  scheduleRetry(): void {
    if (this.done) return;
    this.retriesLeft--;
    const backoff = this.rule!.retry?.backoffMs ?? 0;
    if (backoff > 0) setTimeout(retryLater, backoff, this).unref();
    else this.attempt();
  }

  /** Cancel the current upstream attempt (undici calls onError afterwards). */
  cancelUpstream(reason: Error): void {
    const a = this.abortFn;
    if (a !== null) a(reason);
    else this.pendingAbort = reason;
  }

  /** Deadlines sweep. */
  expire(now: number): void {
    if (this.done) {
      this.pp.engine.deadlines.delete(this);
      return;
    }
    const engine = this.pp.engine;
    if (now < this.requestDeadline && this.retriesLeft > 0 && !this.responded && this.replayable()) {
      // per-attempt timeout with retries left: retry
      engine.telemetry.onBackendError(this.backend!.id, 'timeout');
      this.deadline = Infinity;
      engine.deadlines.delete(this);
      if (this.backend!.protocol === 'h2c') {
        this.cancelH2c?.();
        this.scheduleRetry();
      } else {
        this.retrying = true;
        this.cancelUpstream(RETRY_ABORT);
      }
      return;
    }
    engine.telemetry.onBackendError(this.backend?.id ?? '', 'timeout');
    engine.logger.warn('upstream timeout', { backend: this.backend?.id, endpoint: this.endpoint?.key });
    if (this.backend !== null && this.endpoint !== null) engine.resolver.reportFailure(this.backend, this.endpoint, 'timeout');
    if (this.responded) {
      this.error = 'timeout';
      this.destroyResponse();
      this.finish();
    } else {
      this.reply(Replies.timeout);
    }
    if (this.backend?.protocol === 'h2c') this.cancelH2c?.();
    else this.cancelUpstream(TIMEOUT_ABORT);
  }

  /** Cut a response that already started (the client sees a reset / truncated body). */
  destroyResponse(): void {
    const res = this.res;
    if (res === null) return;
    if (this.h2) {
      const stream = (res as Http2ServerResponse).stream;
      if (!stream.destroyed) stream.close(0x2 /* INTERNAL_ERROR */);
    } else {
      (res as ServerResponse).destroy();
    }
  }

  /** Set by the h2c forwarder while a stream is open. */
  cancelH2c: (() => void) | null = null;

  /** This request's answer closes the connection: requests after it on the socket are never answered. */
  closesAt(): void {
    const sock = this.req.socket as H1Socket | null;
    if (sock !== null && (sock[kCloseAt] === undefined || sock[kCloseAt] > this.seq)) sock[kCloseAt] = this.seq;
  }

  clientGone(): void {
    if (this.error === null) this.error = 'client_closed';
    if (this.status === 0 || !this.responded) this.status = 499;
    this.finish();
    if (this.backend?.protocol === 'h2c') this.cancelH2c?.();
    else this.cancelUpstream(CLIENT_ABORT);
  }

  // ------------------------------------------------------------------------------------ local answers

  /** Answer with a gateway-generated reply (gRPC requests get a trailers-only gRPC status). Returns false. */
  reply(r: LocalReply): false {
    if (this.done) return false;
    this.error = r.reason;
    if (r.close) this.closeAfter = true;
    if (this.grpc && this.res !== null) {
      this.status = 200;
      const hs = ['content-type', 'application/grpc', 'grpc-status', String(r.grpcStatus), 'grpc-message', r.grpcMessage];
      if (this.h2) {
        const stream = (this.res as Http2ServerResponse).stream;
        if (!stream.headersSent && !stream.destroyed) {
          stream.respond(
            { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(r.grpcStatus), 'grpc-message': r.grpcMessage },
            { endStream: true },
          );
        }
        this.finish();
        return false;
      }
      this.respondLocal(200, hs.concat('content-length', '0'), null);
      return false;
    }
    this.status = r.status;
    const hs = ['content-type', 'text/plain; charset=utf-8', 'content-length', String(r.body.length)];
    const id = this.localRequestId();
    if (id !== null) hs.push('x-request-id', id);
    this.respondLocal(r.status, hs, r.body);
    return false;
  }

  respondLocal(status: number, headers: string[], body: Buffer | null): void {
    if (this.done) return;
    const res = this.res;
    if (res === null) {
      // upgrade request: raw HTTP/1.1 on the socket
      const s = this.socket;
      if (s !== null && !s.destroyed) {
        let text = `HTTP/1.1 ${status} ${status === 204 ? 'No Content' : 'Gateway'}\r\n`;
        for (let i = 0; i < headers.length; i += 2) text += headers[i] + ': ' + headers[i + 1] + '\r\n';
        text += 'connection: close\r\n\r\n';
        s.end(body === null ? text : Buffer.concat([Buffer.from(text, 'latin1'), body]));
      }
      this.finish();
      return;
    }
    if (res.headersSent) {
      this.destroyResponse();
    } else {
      if (!this.h2 && this.closeAfter) {
        (res as ServerResponse).shouldKeepAlive = false;
        this.closesAt();
        // an unread body must not be parsed as the next request: stop reading
        if (!this.req.complete) (res as ServerResponse).once('finish', closeSocketAfterReply);
      }
      (res as ServerResponse).writeHead(status, headers);
      if (body === null) res.end();
      else {
        this.bytesOut += body.length;
        res.end(body);
      }
    }
    this.finish();
  }

  finish(): void {
    if (this.done) return;
    this.done = true;
    const engine = this.pp.engine;
    engine.inFlight--;
    const pending = this.pending;
    if (pending !== null) {
      this.pending = null;
      pending.n--;
    }
    if (this.deadline !== Infinity) engine.deadlines.delete(this);
    const l = this.listener ?? this.pp.defaultListener;
    const rec: RequestRecord = {
      gateway: l?.gateway ?? '',
      listener: l?.id ?? '',
      route: this.rule?.rule.route ?? null,
      rule: this.rule?.rule.ruleIndex ?? -1,
      backend: this.backend?.id ?? null,
      endpoint: this.endpoint?.key ?? null,
      method: this.head.method || (this.req.method ?? ''),
      status: this.status,
      durationMs: performance.now() - this.start,
      upstreamMs: this.upstreamMs,
      bytesIn: Number(this.contentLength ?? 0) || 0,
      bytesOut: this.bytesOut,
      error: this.error,
      host: this.head.host,
      path: this.head.path,
      client: this.clientAddress(),
      startTime: this.startTime,
    };
    if (this.requestId !== null) rec.requestId = this.requestId;
    try {
      engine.telemetry.onRequest(rec);
    } catch (err) {
      engine.logger.error('telemetry failed', { error: (err as Error).message });
    }
  }
}

/** Entry point for every engine's request event. */
export function handleHttpRequest(pp: PreparedPort, req: DownRequest, res: DownResponse, secure: boolean, sni: string | null): void {
  const ex = new Exchange(pp, req, res, secure);
  if (ex.route(sni)) ex.forward();
}
