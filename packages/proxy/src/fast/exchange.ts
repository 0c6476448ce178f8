/**
 * One request through the fast engine: routing on core's RequestHead with the prepared port, rule and
 * filter plan (engine/prepared.ts, filters/*), the backendRef pick, then the request forwarded as bytes
 * on a pooled raw socket and the response head rebuilt (hop-by-hop removed, ResponseHeaderModifiers,
 * CORS) with its body forwarded as it arrives. Decisions, statuses and bodies are those of the node
 * engine (engine/exchange.ts); the telemetry record is the same.
 *
 * HOT PATH — change with care: one FastExchange per request and no closures or timers per request
 * (deadlines go through the engine's shared sweep; only a retry backoff uses a timer).
 */
import { STATUS_CODES } from 'node:http';
import net, { type Socket } from 'node:net';
import type { BackendIR, ListenerIR } from '@gatehouse/core';
import type { RequestRecord, ResolvedEndpoint } from '../api.js';
import { isConnectError, type LocalReply, Replies, replyForUpstreamError } from '../errors.js';
import type { Cors } from '../filters/cors.js';
import { MIRROR_BODY_LIMIT } from '../filters/mirror.js';
import type { FilterPlan } from '../filters/plan.js';
import { normalizeHost, normalizePath } from '../engine/core-shim.js';
import type { Expirable } from '../engine/deadlines.js';
import type { PreparedPort, PreparedRule } from '../engine/prepared.js';
import { connectionTokens, hopKind, responseHeaders } from '../upstream/headers.js';
import type { DownConn } from './connection.js';
import { sendMirrors } from '../upstream/mirror.js';
import { FastHead, isRequestIdName, sameName, upstreamFieldsText, upstreamHeaders } from './request.js';
import { acceptableRequestId, checkTransferEncoding, newRequestId, sameAuthority, validHost } from '../limits.js';
import type { PendingCounter } from '../engine/engine.js';
import type { UpConn, UpstreamUser } from './upstream.js';
import { writeText } from './write.js';

const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]+)/;
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
const CHUNK_END = Buffer.from('0\r\n\r\n', 'latin1');
const CRLF = '\r\n';
const KEEP_ALIVE = 'connection: keep-alive\r\n';

function firstTryLater(ex: FastExchange): void {
  if (!ex.done) ex.attempt();
}
function retryLater(ex: FastExchange): void {
  ex.attempt();
}

/** The cached `Date` value, refreshed at most once per second (as node:http does). */
let dateValue = '';
let dateAt = 0;
export function httpDate(now: number): string {
  if (now - dateAt >= 1000 || dateValue === '') {
    dateAt = now;
    dateValue = new Date().toUTCString();
  }
  return dateValue;
}

/** Status line the way node:http writes it (always HTTP/1.1, Node's reason phrases). */
const statusLines = new Map<number, string>();
function statusLine(status: number): string {
  let s = statusLines.get(status);
  if (s === undefined) {
    s = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
    if (statusLines.size < 1000) statusLines.set(status, s);
  }
  return s;
}

/** What the last fieldsText() call saw (set synchronously, read right after the call). */
let seenLength = false;
let seenDate = false;
let seenId = false;

/**
 * Response fields as head text (`name: value\r\n`...), noting Content-Length, Date and x-request-id.
 * `raw`: the list is llhttp's own, so hop-by-hop fields are left out here, and null is returned when its
 * Connection names further fields (the caller then filters a copy with responseHeaders()).
 */
function fieldsText(list: readonly string[], raw: boolean): string | null {
  let text = '';
  seenLength = seenDate = seenId = false;
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i];
    switch (name.length) {
      case 14:
        if (sameName(name, 'content-length')) seenLength = true;
        break;
      case 4:
        if (sameName(name, 'date')) seenDate = true;
        break;
      case 12:
        if (isRequestIdName(name)) seenId = true;
        break;
    }
    if (raw) {
      const hop = hopKind(name);
      if (hop === 1) {
        if (connectionTokens(list[i + 1]) !== null) return null;
        continue;
      }
      if (hop === 2) continue;
    }
    text += name + ': ' + list[i + 1] + CRLF;
  }
  return text;
}

export class FastExchange implements Expirable, UpstreamUser {
  readonly conn: DownConn;
  readonly pp: PreparedPort;
  readonly head = new FastHead();
  readonly start = performance.now();
  readonly startTime = Date.now();
  /** Request line data from llhttp. */
  url = '';
  versionMajor = 1;
  versionMinor = 1;
  keepAlive = true;
  rawHost = '';
  /** `content-type: application/grpc*`: local answers are trailers-only gRPC statuses. */
  grpc = false;
  contentLength: string | null = null;
  chunked = false;
  expect: string | null = null;
  /** WebSocket upgrade: bytes after the head, forwarded once connected. */
  upgrade = false;
  upgradeRest: Buffer | null = null;
  // ---- routing
  listener: ListenerIR | undefined;
  rule: PreparedRule | null = null;
  plan: FilterPlan | null = null;
  cors: Cors | null = null;
  backend: BackendIR | null = null;
  endpoint: ResolvedEndpoint | null = null;
  // ---- request body
  hasBody = false;
  /** Body chunks received before a socket was attached (or kept for a replay: mirrored small bodies). */
  body: Buffer[] | null = null;
  bodyBytes = 0;
  /** The client finished sending the request (llhttp message complete). */
  reqComplete = false;
  /** The whole request was written upstream on the current socket. */
  reqSent = false;
  /** The body is kept in `body` until complete (mirrors), then sent to every target. */
  collect = false;
  bodyBuffer: Buffer | null = null;
  // ---- upstream
  upstreamHead = '';
  /** `host: ...` (first, lowercased: what undici writes); null = the endpoint's. */
  hostLine: string | null = null;
  upstreamPath = '';
  headers: string[] = [];
  up: UpConn | null = null;
  deadline = Infinity;
  requestDeadline = Infinity;
  retriesLeft = 0;
  connectRetried = false;
  staleRetried = false;
  discarding = false;
  /** The first try started. */
  tried = false;
  /** Waiting for a socket from the pool. */
  waiting = false;
  // ---- response
  responded = false;
  /** Response head built but not yet written (flushed with the first body bytes or at the end). */
  pendingHead: string | null = null;
  resChunked = false;
  resCloseDelimited = false;
  resNoBody = false;
  closeAfter = false;
  done = false;
  // ---- record
  status = 0;
  bytesOut = 0;
  upstreamMs = -1;
  error: string | null = null;
  /** x-request-id (kept or generated); null until known or when ids are off. */
  requestId: string | null = null;
  clientRequestId: string | null = null;
  /** The backend's in-flight counter, when this request holds a slot. */
  pending: PendingCounter | null = null;

  constructor(conn: DownConn, pp: PreparedPort) {
    this.conn = conn;
    this.pp = pp;
    pp.engine.inFlight++;
  }

  // ------------------------------------------------------------------------------------ routing

  /** Route the request. Returns false when the gateway already answered. */
  route(): boolean {
    const head = this.head;
    const pp = this.pp;
    const idMode = pp.engine.limits.requestId;
    const raw = head.raw;
    const limits = pp.engine.limits;
    if (this.versionMajor !== 1) return this.reply(Replies.badRequest);
    if (raw.length > limits.maxHeaderCount * 2) return this.reply(Replies.headerTooLarge);
    let rawHost: string | undefined;
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
          else if (idMode === 'trust' && isRequestIdName(name)) this.clientRequestId ??= raw[i + 1];
          break;
        case 14:
          if (sameName(name, 'content-length')) this.contentLength = raw[i + 1];
          break;
        case 17:
          if (sameName(name, 'transfer-encoding')) te = te === null ? raw[i + 1] : te + ',' + raw[i + 1];
          break;
      }
    }
    if (count > 1 || (count === 0 && this.versionMinor >= 1)) return this.reply(Replies.badHost);
    if (te !== null) {
      // llhttp already refused TE together with Content-Length, and `chunked` not last
      if (this.versionMinor === 0) return this.reply(Replies.badRequest);
      const v = checkTransferEncoding(te);
      if (v !== 0) return this.reply(v === 501 ? Replies.notImplemented : Replies.badRequest);
      this.chunked = true;
    }
    const url = this.url;
    if (url.length > limits.maxUriBytes) return this.reply(Replies.uriTooLong);
    if (limits.maxBodyBytes > 0 && this.contentLength !== null && Number(this.contentLength) > limits.maxBodyBytes) return this.reply(Replies.bodyTooLarge);
    if (rawHost !== undefined && !validHost(rawHost)) return this.reply(Replies.badHost);
    this.rawHost = rawHost ?? '';
    head.host = normalizeHost(rawHost);
    let target = url;
    if (url.charCodeAt(0) !== 47 /* / */) {
      const m = ABSOLUTE.exec(url);
      if (m === null) return this.reply(Replies.badPath);
      // absolute-form: the authority must name the Host we route on (as the node engine)
      if (rawHost === undefined || !sameAuthority(m[1], rawHost, this.conn.secure)) return this.reply(Replies.badHost);
      target = url.slice(m[0].length) || '/';
      if (target.charCodeAt(0) === 63 /* ? */) target = '/' + target;
    }
    const q = target.indexOf('?');
    const path = normalizePath(q === -1 ? target : target.slice(0, q));
    if (path === null) return this.reply(Replies.badPath);
    head.path = path;
    head.query = q === -1 ? '' : target.slice(q + 1);
    const matcher = pp.matcher;
    const sni = this.conn.sni;
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
    this.pending = ref.pending;
    return true;
  }

  /** Filters that answer by themselves (redirect, CORS preflight, unsupported). True when answered. */
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
      const h = this.head.headers;
      const origin = h.origin;
      if (typeof origin === 'string') {
        const acrm = h['access-control-request-method'];
        if (this.head.method === 'OPTIONS' && typeof acrm === 'string') {
          const acrh = h['access-control-request-headers'];
          const headers = plan.cors.preflightHeaders(origin, acrm, typeof acrh === 'string' ? acrh : undefined);
          headers.push('content-length', '0');
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

  forward(): void {
    const plan = this.plan!;
    const head = this.head;
    const rule = this.rule!;
    const pending = this.pending;
    if (pending !== null) {
      if (pending.n >= this.pp.engine.limits.maxPendingPerBackend) {
        this.pending = null;
        this.pp.engine.telemetry.onBackendError(this.backend!.id, 'overflow');
        this.reply(Replies.overflow);
        return;
      }
      pending.n++;
    }
    const idMode = this.pp.engine.limits.requestId;
    if (idMode !== 'off') {
      const rid = this.clientRequestId;
      this.requestId = idMode === 'trust' && rid !== null && acceptableRequestId(rid) ? rid : newRequestId();
    }
    const path = plan.pathRewrite === null ? head.path : plan.pathRewrite.apply(head.path);
    this.upstreamPath = head.query === '' ? path : path + '?' + head.query;
    const engine = this.pp.engine;
    const cl = this.contentLength;
    this.hasBody = this.chunked || (cl !== null && cl !== '0');
    const conn = this.conn;
    // a request no filter edits, mirrors or upgrades: its head text straight from the client's fields
    let text = plan.request.length === 0 && plan.hostRewrite === null && plan.mirrors.length === 0 && !this.upgrade
      ? upstreamFieldsText(head.raw, this.rawHost, conn.clientAddress, conn.secure, engine.trustForwarded, this.requestId, idMode !== 'off')
      : null;
    if (text !== null) {
      if (this.rawHost !== '') this.hostLine = 'host: ' + this.rawHost + CRLF;
    } else {
      this.headers = upstreamHeaders(head.raw, plan, this.rawHost, conn.clientAddress, conn.secure, engine.trustForwarded, this.requestId, idMode !== 'off');
      if (this.upgrade) {
        this.forwardUpgrade();
        return;
      }
      // as undici writes it: request line, Host (the endpoint's when the client sent none), Connection
      text = '';
      const h = this.headers;
      for (let i = 0; i < h.length; i += 2) {
        const name = h[i];
        if (name.length === 4 && sameName(name, 'host')) {
          this.hostLine ??= 'host: ' + h[i + 1] + CRLF;
          continue;
        }
        text += name + ': ' + h[i + 1] + CRLF;
      }
    }
    this.upstreamHead = this.chunked ? text + 'transfer-encoding: chunked\r\n\r\n' : text + CRLF;
    if (rule.requestMs > 0) this.requestDeadline = this.start + rule.requestMs;
    this.retriesLeft = rule.retry === null ? 0 : rule.retry.attempts;
    if (plan.mirrors.length > 0) {
      const n = Number(cl ?? -1);
      if (this.hasBody && !this.chunked && n >= 0 && n <= MIRROR_BODY_LIMIT) {
        // small mirrored bodies are read first (bounded) so main and mirror both get them
        this.collect = true;
        if (this.reqComplete) this.bodyCollected();
        return;
      }
      sendMirrors(this, plan);
    }
    this.firstTry();
  }

  /** A rule-level mirror's request when this backendRef's filters edit the main one (upstream/mirror.ts). */
  mirrorRequest(plan: FilterPlan): { path: string; headers: string[] } {
    const head = this.head;
    const conn = this.conn;
    const engine = this.pp.engine;
    const idOn = engine.limits.requestId !== 'off';
    const path = plan.pathRewrite === null ? head.path : plan.pathRewrite.apply(head.path);
    return {
      path: head.query === '' ? path : path + '?' + head.query,
      headers: upstreamHeaders(head.raw, plan, this.rawHost, conn.clientAddress, conn.secure, engine.trustForwarded, this.requestId, idOn),
    };
  }

  /** The first try, after the parser accepted the packet the head came in (see DownConn.deferred). */
  firstTry(): void {
    // as the node engine: a chunked request's first try waits a turn of the event loop, so a malformed
    // chunk arriving right behind the head is refused (400) before anything is forwarded
    if (this.chunked && !this.reqComplete) setImmediate(firstTryLater, this);
    else if (this.conn.executing) this.conn.deferred = this;
    else this.attempt();
  }

  bodyCollected(): void {
    const parts = this.body;
    this.bodyBuffer = parts === null ? Buffer.alloc(0) : Buffer.concat(parts);
    this.body = null;
    this.conn.unqueue(this.bodyBytes);
    this.bodyBytes = 0;
    this.collect = false;
    sendMirrors(this, this.plan!);
    this.firstTry();
  }

  replayable(): boolean {
    return !this.hasBody || this.bodyBuffer !== null;
  }

  /** One try against one endpoint; also the retry entry point. */
  attempt(): void {
    if (this.done) return;
    this.tried = true;
    if (this.requestDeadline !== Infinity && performance.now() >= this.requestDeadline) {
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
    const rule = this.rule!;
    const attemptDeadline = rule.backendMs > 0 ? performance.now() + rule.backendMs : Infinity;
    const d = attemptDeadline < this.requestDeadline ? attemptDeadline : this.requestDeadline;
    if (d !== this.deadline) {
      this.deadline = d;
      if (d !== Infinity) engine.deadlines.add(this);
    }
    this.reqSent = false;
    this.waiting = true;
    this.conn.fast.pools.get(ep).acquire(this);
  }

  /** A socket for this attempt: write the head and whatever body arrived. */
  attach(up: UpConn): void {
    this.waiting = false;
    if (this.done) {
      up.release(true);
      return;
    }
    this.up = up;
    const s = up.socket;
    const buffered = this.bodyBuffer;
    // one write for a request without body bytes yet; head and body together otherwise
    const more = (buffered !== null && buffered.length > 0) || this.body !== null || (this.chunked && this.reqComplete);
    const text = this.head.method + ' ' + this.upstreamPath + ' HTTP/1.1\r\n' + (this.hostLine ?? up.pool.hostLine) + KEEP_ALIVE + this.upstreamHead;
    if (more) {
      s.cork();
      s.write(text, 'latin1');
    } else writeText(s, text);
    if (buffered !== null) {
      if (buffered.length > 0) s.write(buffered);
      this.reqSent = true;
    } else {
      const parts = this.body;
      if (parts !== null) {
        for (let i = 0; i < parts.length; i++) this.writeBody(parts[i]);
        this.body = null;
        this.conn.unqueue(this.bodyBytes);
        this.bodyBytes = 0;
      }
      if (this.reqComplete) this.endBody();
    }
    if (more) s.uncork();
    this.conn.flow();
  }

  /** A body chunk from the client (active exchange). */
  onReqBody(chunk: Buffer): void {
    if (this.done) return;
    this.received += chunk.length;
    const max = this.pp.engine.limits.maxBodyBytes;
    if (max > 0 && this.received > max) {
      this.bodyTooLarge();
      return;
    }
    const up = this.up;
    if (up === null || this.collect) {
      // no socket yet (connecting, waiting) or collecting a mirrored body: keep it, bounded by the conn
      (this.body ??= []).push(chunk);
      this.bodyBytes += chunk.length;
      this.conn.queue(chunk.length);
      return;
    }
    if (!this.writeBody(chunk)) this.conn.upstreamFull();
  }

  received = 0;

  bodyTooLarge(): void {
    this.closeAfter = true;
    if (!this.responded) this.reply(Replies.bodyTooLarge);
    else {
      this.error = 'body_too_large';
      this.cut();
    }
  }

  get downstream(): Socket {
    return this.conn.socket;
  }

  upstreamDrained(): void {
    if (!this.done) this.conn.upstreamDrained();
  }

  writeBody(chunk: Buffer): boolean {
    const s = this.up!.socket;
    if (!this.chunked) return s.write(chunk);
    s.write(chunk.length.toString(16) + CRLF, 'latin1');
    s.write(chunk);
    return s.write(CRLF, 'latin1');
  }

  endBody(): void {
    if (this.chunked) this.up!.socket.write(CHUNK_END);
    this.reqSent = true;
  }

  /** The client's request message completed. */
  onReqComplete(): void {
    this.reqComplete = true;
    if (this.done) return;
    if (this.collect) {
      if (this.plan !== null) this.bodyCollected();
      return;
    }
    if (this.up !== null && !this.reqSent) this.endBody();
  }

  connectFailed(err: Error): void {
    this.waiting = false;
    if (this.done) return;
    this.upstreamFailed(err, false);
  }

  onUpstreamError(err: Error, up: UpConn): void {
    if (this.done || up !== this.up) return;
    this.up = null;
    // A reused keep-alive socket that fails before any response byte was most likely closed by the
    // upstream while idle: an idempotent request with nothing streamed is sent again on a fresh socket.
    // With a route `retry` policy the attempt counts against its budget instead (as on the node engine):
    // a free extra try would exceed the configured attempts.
    if (up.reused && !up.gotBytes && !this.responded && !this.staleRetried && this.rule!.retry === null && this.replayable() && IDEMPOTENT.has(this.head.method)) {
      this.staleRetried = true;
      this.attempt();
      return;
    }
    if (this.discarding) {
      this.discarding = false;
      this.scheduleRetry();
      return;
    }
    this.upstreamFailed(err, true);
  }

  onResHead(status: number, raw: string[], _minor: number, _keepAlive: boolean): boolean {
    if (this.done) return true;
    if (this.requestDeadline !== Infinity && performance.now() >= this.requestDeadline) {
      this.expire(performance.now());
      return true;
    }
    const noBody = this.head.method === 'HEAD';
    const retry = this.rule!.retry;
    if (retry !== null && this.retriesLeft > 0 && this.replayable() && retry.codes.includes(status)) {
      this.discarding = true;
      return noBody;
    }
    const mods = this.plan!.response;
    // the usual response (no ResponseHeaderModifier, no CORS): its fields straight from llhttp's list,
    // hop-by-hop ones left out; a list to edit otherwise, or when its Connection names other fields
    let text = mods.length === 0 && this.cors === null ? fieldsText(raw, true) : null;
    if (text === null) {
      const list = responseHeaders(raw);
      for (let i = 0; i < mods.length; i++) mods[i].apply(list);
      if (this.cors !== null) this.cors.decorate(list, this.head.headers.origin as string);
      text = fieldsText(list, false)!;
    }
    text = statusLine(status) + text;
    if (this.requestId !== null && !seenId) text += 'x-request-id: ' + this.requestId + CRLF;
    if (!seenDate) text += 'Date: ' + httpDate(Date.now()) + CRLF;
    const hasLength = seenLength;
    this.resNoBody = noBody || status === 204 || status === 304;
    if (!this.resNoBody && !hasLength) {
      if (this.versionMinor >= 1) this.resChunked = true;
      else this.resCloseDelimited = true;
    }
    this.pendingHead = text;
    this.responded = true;
    this.status = status;
    this.upstreamMs = performance.now() - this.start;
    if (status >= 500) this.pp.engine.resolver.reportFailure(this.backend!, this.endpoint!, 'status');
    else this.pp.engine.resolver.reportSuccess(this.backend!, this.endpoint!);
    return noBody;
  }

  /** The response head as it goes to the client, with the framing and connection fields. */
  flushHead(bodyEmpty: boolean, body = ''): void {
    let text = this.pendingHead!;
    this.pendingHead = null;
    const conn = this.conn;
    const keep = this.keepAlive && !this.resCloseDelimited && !this.closeAfter && !conn.draining();
    if (!keep) this.closeAfter = true;
    text += keep ? 'Connection: keep-alive\r\nKeep-Alive: timeout=65\r\n' : 'Connection: close\r\n';
    if (this.resChunked) {
      // node:http sends an empty body it knows the end of with a length instead of chunked
      if (bodyEmpty) {
        this.resChunked = false;
        text += 'Content-Length: 0\r\n';
      } else text += 'Transfer-Encoding: chunked\r\n';
    }
    if (!writeText(conn.socket, text + CRLF + body)) this.up?.socket.pause();
  }

  onResBody(chunk: Buffer, transient: boolean): void {
    if (this.discarding || this.done) return;
    if (this.pendingHead !== null) {
      if (!this.resChunked && chunk.length <= 4096) {
        // the usual small answer: head and body as one latin1 string, one write
        this.bytesOut += chunk.length;
        this.flushHead(false, chunk.toString('latin1'));
        return;
      }
      this.up?.corkDown(this.conn.socket);
      this.flushHead(false);
    }
    this.bytesOut += chunk.length;
    const s = this.conn.socket;
    let ok: boolean;
    if (this.resChunked) {
      this.up?.corkDown(s);
      s.write(chunk.length.toString(16) + CRLF, 'latin1');
      s.write(chunk);
      ok = s.write(CRLF, 'latin1');
    } else if (transient) {
      // a view of the shared read buffer: the write gets a recycled copy
      const kept = this.conn.fast.pools.keep(chunk);
      ok = s.write(kept.copy, kept.done);
    } else ok = s.write(chunk);
    if (!ok) this.up?.socket.pause();
  }

  onResComplete(): void {
    const up = this.up;
    if (this.discarding) {
      this.discarding = false;
      this.up = null;
      up?.release(this.reqSent);
      this.scheduleRetry();
      return;
    }
    if (this.done) return;
    this.up = null;
    if (this.pendingHead !== null) this.flushHead(true);
    if (this.resChunked) this.conn.socket.write(CHUNK_END);
    // the socket is reusable only when the whole request went out (else the upstream is mid-request)
    if (up !== null) up.release(this.reqSent);
    this.finish();
    this.conn.exchangeDone(this);
  }

  upstreamFailed(err: Error, connected: boolean): void {
    const engine = this.pp.engine;
    const backend = this.backend!;
    if (this.responded) {
      engine.telemetry.onBackendError(backend.id, 'reset');
      engine.logger.warn('upstream reset during the response', { backend: backend.id, endpoint: this.endpoint?.key, error: (err as { code?: string }).code ?? err.message });
      if (this.endpoint !== null) engine.resolver.reportFailure(backend, this.endpoint, 'reset');
      this.error = 'reset';
      this.cut();
      return;
    }
    const reply = replyForUpstreamError(err);
    engine.telemetry.onBackendError(backend.id, reply.reason);
    engine.logger.warn('upstream failed', { backend: backend.id, endpoint: this.endpoint?.key, reason: reply.reason, error: (err as { code?: string }).code ?? err.message });
    const connect = !connected && isConnectError(err);
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

  /** Drop the current upstream socket (its request or response is incomplete). */
  dropUpstream(): void {
    const up = this.up;
    this.up = null;
    if (up !== null) up.release(false);
  }

  /** Deadlines sweep. */
  expire(now: number): void {
    const engine = this.pp.engine;
    if (this.done) {
      engine.deadlines.delete(this);
      return;
    }
    if (now < this.requestDeadline && this.retriesLeft > 0 && !this.responded && this.replayable()) {
      engine.telemetry.onBackendError(this.backend!.id, 'timeout');
      this.deadline = Infinity;
      engine.deadlines.delete(this);
      this.discarding = false;
      this.dropUpstream();
      this.scheduleRetry();
      return;
    }
    engine.telemetry.onBackendError(this.backend?.id ?? '', 'timeout');
    engine.logger.warn('upstream timeout', { backend: this.backend?.id, endpoint: this.endpoint?.key });
    if (this.backend !== null && this.endpoint !== null) engine.resolver.reportFailure(this.backend, this.endpoint, 'timeout');
    this.dropUpstream();
    if (this.responded) {
      this.error = 'timeout';
      this.cut();
    } else {
      this.reply(Replies.timeout);
    }
  }

  /** Cut a response that already started: the client sees a truncated body and a closed connection. */
  cut(): void {
    this.dropUpstream();
    this.finish();
    this.conn.socket.destroy();
  }

  clientGone(): void {
    if (this.done) return;
    if (this.error === null) this.error = 'client_closed';
    if (this.status === 0 || !this.responded) this.status = 499;
    this.dropUpstream();
    this.finish();
  }

  // ------------------------------------------------------------------------------------ local answers

  /** A gateway-generated answer (same statuses and bodies as the node engine). Returns false. */
  reply(r: LocalReply): false {
    if (this.done) return false;
    this.error = r.reason;
    if (r.close) this.closeAfter = true;
    if (this.grpc && !this.upgrade) {
      this.status = 200;
      this.respondLocal(
        200,
        ['content-type', 'application/grpc', 'grpc-status', String(r.grpcStatus), 'grpc-message', r.grpcMessage, 'content-length', '0'],
        null,
      );
      return false;
    }
    this.status = r.status;
    const hs = ['content-type', 'text/plain; charset=utf-8', 'content-length', String(r.body.length)];
    const id = this.localRequestId();
    if (id !== null) hs.push('x-request-id', id);
    this.respondLocal(r.status, hs, r.body);
    return false;
  }

  /** The request id for an answer the gateway gives itself (found or made on demand; null when off). */
  localRequestId(): string | null {
    if (this.requestId !== null) return this.requestId;
    const mode = this.pp.engine.limits.requestId;
    if (mode === 'off') return null;
    let rid = this.clientRequestId;
    if (mode === 'trust' && rid === null) {
      const raw = this.head.raw;
      for (let i = 0; i < raw.length; i += 2) {
        if (raw[i].length === 12 && isRequestIdName(raw[i])) {
          rid = raw[i + 1];
          break;
        }
      }
    }
    this.requestId = mode === 'trust' && rid !== null && acceptableRequestId(rid) ? rid : newRequestId();
    return this.requestId;
  }

  respondLocal(status: number, headers: string[], body: Buffer | null): void {
    if (this.done) return;
    this.dropUpstream();
    const s = this.conn.socket;
    if (this.upgrade) {
      // upgrade request: the node engine answers on the raw socket and closes
      if (!s.destroyed) {
        let text = `HTTP/1.1 ${status} ${status === 204 ? 'No Content' : 'Gateway'}\r\n`;
        for (let i = 0; i < headers.length; i += 2) text += headers[i] + ': ' + headers[i + 1] + '\r\n';
        text += 'connection: close\r\n\r\n';
        s.end(body === null ? text : Buffer.concat([Buffer.from(text, 'latin1'), body]));
      }
      this.finish();
      return;
    }
    if (this.responded && this.pendingHead === null) {
      this.cut();
      return;
    }
    this.pendingHead = null;
    const keep = this.keepAlive && !this.closeAfter && !this.conn.draining();
    if (!keep) this.closeAfter = true;
    let text = statusLine(status);
    for (let i = 0; i < headers.length; i += 2) text += headers[i] + ': ' + headers[i + 1] + CRLF;
    text += 'Date: ' + httpDate(Date.now()) + CRLF;
    text += keep ? 'Connection: keep-alive\r\nKeep-Alive: timeout=65\r\n\r\n' : 'Connection: close\r\n\r\n';
    if (!s.destroyed) {
      if (body === null || this.head.method === 'HEAD') s.write(text, 'latin1');
      else {
        this.bytesOut += body.length;
        s.cork();
        s.write(text, 'latin1');
        s.write(body);
        s.uncork();
      }
    }
    this.finish();
    this.conn.exchangeDone(this);
  }

  // ------------------------------------------------------------------------------------ WebSocket

  /** Upgrades: a fresh socket, the head written, then both sides piped raw (the 101 passes as bytes). */
  forwardUpgrade(): void {
    const engine = this.pp.engine;
    const backend = this.backend!;
    const ep = engine.resolver.pick(backend);
    if (ep === null) {
      this.reply(Replies.noEndpoints);
      return;
    }
    this.endpoint = ep;
    const up = ep.unix ? net.connect(ep.address) : net.connect({ host: ep.address, port: ep.port, noDelay: true });
    const down = this.conn.socket;
    const upgrade = this.head.headers.upgrade;
    let text = `${this.head.method} ${this.upstreamPath} HTTP/1.1\r\n`;
    const h = this.headers;
    for (let i = 0; i < h.length; i += 2) text += h[i] + ': ' + h[i + 1] + '\r\n';
    text += 'connection: Upgrade\r\nupgrade: ' + String(upgrade) + '\r\n\r\n';
    // one upgrade per connection at most: these closures are per connection, not per request
    let connected = false;
    up.once('connect', () => {
      connected = true;
      up.write(text, 'latin1');
      const rest = this.upgradeRest;
      if (rest !== null && rest.length > 0) up.write(rest);
      this.status = 101;
      this.responded = true;
      this.upstreamMs = performance.now() - this.start;
      down.on('error', () => undefined);
      up.pipe(down);
      down.pipe(up);
      down.resume();
    });
    up.on('error', (err) => {
      if (!connected) {
        engine.telemetry.onBackendError(backend.id, replyForUpstreamError(err).reason);
        engine.resolver.reportFailure(backend, ep);
        this.reply(replyForUpstreamError(err));
      } else down.destroy();
    });
    up.once('close', () => {
      if (this.responded) down.destroy();
      this.finish();
    });
    down.once('close', () => up.destroy());
  }

  // ------------------------------------------------------------------------------------ record

  /** Ends an exchange that never ran (pipelined behind a closed connection, declined upgrade). */
  finishSilently(): void {
    if (this.done) return;
    this.done = true;
    this.waiting = false;
    this.pp.engine.inFlight--;
    if (this.pending !== null) {
      this.pending.n--;
      this.pending = null;
    }
    if (this.deadline !== Infinity) this.pp.engine.deadlines.delete(this);
    if (this.body !== null) {
      this.conn.unqueue(this.bodyBytes);
      this.body = null;
    }
  }

  finish(): void {
    if (this.done) return;
    this.done = true;
    this.waiting = false;
    const engine = this.pp.engine;
    engine.inFlight--;
    const pending = this.pending;
    if (pending !== null) {
      this.pending = null;
      pending.n--;
    }
    if (this.deadline !== Infinity) engine.deadlines.delete(this);
    if (this.body !== null) {
      this.conn.unqueue(this.bodyBytes);
      this.body = null;
      this.bodyBytes = 0;
    }
    const l = this.listener ?? this.pp.defaultListener;
    const rec: RequestRecord = {
      gateway: l?.gateway ?? '',
      listener: l?.id ?? '',
      route: this.rule?.rule.route ?? null,
      rule: this.rule?.rule.ruleIndex ?? -1,
      backend: this.backend?.id ?? null,
      endpoint: this.endpoint?.key ?? null,
      method: this.head.method,
      status: this.status,
      durationMs: performance.now() - this.start,
      upstreamMs: this.upstreamMs,
      bytesIn: Number(this.contentLength ?? 0) || 0,
      bytesOut: this.bytesOut,
      error: this.error,
      host: this.head.host,
      path: this.head.path,
      client: this.conn.clientAddress,
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
