/**
 * One client connection of the fast engine: a raw net.Socket fed to Node's llhttp binding with
 * `execute()`, one FastExchange per request, pipelined requests answered strictly in order (later ones
 * wait with their bodies buffered up to a bound, after which the socket stops being read), and
 * back-pressure both ways (a full upstream socket pauses the client; a full client socket pauses the
 * upstream).
 *
 * HOT PATH — change with care: the parser callbacks and socket listeners are shared functions that find
 * their DownConn through a symbol; every callback is wrapped so an exception can never escape into the
 * binding (which would leave the parser in an undefined state).
 */
import type { Socket } from 'node:net';
import { declinedUpgradeHead, type HttpEngines, type PortRef } from '../listeners/http-server.js';
import { Replies } from '../errors.js';
import { ProtocolReplies, replyForParserError } from '../limits.js';
import type { LlParser, ParseError } from './binding.js';
import type { FastEngine } from './engine.js';
import { FastExchange, httpDate } from './exchange.js';
import { sameName } from '../upstream/headers.js';

const kConn = Symbol('gatehouse.fast.conn');
type ConnSocket = Socket & { [kConn]?: DownConn };
export type ConnParser = LlParser & { [kConn]?: DownConn | null };
/** A net.Socket's libuv stream handle, as node:http hands it to the parser (`_handle`). */
interface StreamHandle {
  isStreamBase?: boolean;
  reading?: boolean;
  _consumed?: boolean;
  readStart(): number;
  readStop(): number;
}

/** Request bodies buffered for exchanges that cannot send yet, per connection, before reading stops. */
export const MAX_QUEUED_BYTES = 1024 * 1024;
/** Pipelined requests waiting behind the active one before reading stops. */
export const MAX_QUEUED_REQUESTS = 64;

const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;

export class DownConn {
  readonly socket: ConnSocket;
  readonly parser: ConnParser;
  readonly fast: FastEngine;
  readonly ref: PortRef;
  readonly engines: HttpEngines;
  readonly secure: boolean;
  readonly sni: string | null;
  readonly clientAddress: string;
  /** The exchange being answered. */
  active: FastExchange | null = null;
  /** Exchanges whose heads arrived while another was active, in order. */
  readonly waitingList: FastExchange[] = [];
  /** The exchange whose body llhttp is delivering. */
  parsing: FastExchange | null = null;
  /** An upgrade head seen during the last execute(). */
  upgradeEx: FastExchange | null = null;
  queuedBytes = 0;
  upstreamBlocked = false;
  stopped = false;
  closed = false;
  ended = false;
  /**
   * An exchange whose first try waits until execute() returns: bytes that came in the same packet may
   * still fail to parse, and then (as with node:http) nothing of that packet is forwarded.
   */
  deferred: FastExchange | null = null;
  /** Inside parser.execute(). */
  executing = false;
  /** An answer was completed during the current execute() (node:http's response has not 'finish'ed yet). */
  answeredNow = false;
  /** Cached clock at the last byte received / when a request head started (0 = none pending). */
  lastActive: number;
  headStart = 0;
  /** When the request whose body is being read started (for the whole-request timeout). */
  requestStart = 0;
  /** Header pairs collected by kOnHeaders (heads with more than 32 fields). */
  extraHeaders: string[] | null = null;
  extraUrl = '';
  /**
   * The parser reads the socket's handle itself (`parser.consume()`, as node:http does): bytes go from
   * libuv into llhttp without a Buffer or a stream event per read, and kOnExecute reports each read.
   */
  consumed = false;
  /** stopReading() during a parse of a consumed read: unconsume once the read is handled. */
  unconsumeAfter = false;

  constructor(fast: FastEngine, socket: Socket, parser: ConnParser, ref: PortRef, engines: HttpEngines, secure: boolean, sni: string | null) {
    this.fast = fast;
    this.socket = socket as ConnSocket;
    this.parser = parser;
    this.ref = ref;
    this.engines = engines;
    this.secure = secure;
    this.sni = sni;
    this.clientAddress = socket.remoteAddress ?? '';
    this.lastActive = fast.now;
    parser[kConn] = this;
    this.socket[kConn] = this;
    // keep writing answers after the client's FIN (as node:http does); we end the socket ourselves
    socket.allowHalfOpen = true;
    socket.on('data', connOnData);
    socket.on('end', connOnEnd);
    socket.on('drain', connOnDrain);
    socket.on('error', connOnError);
    socket.once('close', connOnClose);
  }

  draining(): boolean {
    return this.engines.draining;
  }

  // ---- reading

  onData(chunk: Buffer): void {
    const now = this.fast.now;
    this.lastActive = now;
    if (this.parsing === null && this.headStart === 0) this.headStart = now;
    let ret: number | ParseError;
    this.executing = true;
    this.answeredNow = false;
    try {
      ret = this.parser.execute(chunk);
    } catch (err) {
      ret = err as ParseError;
    }
    this.afterExecute(ret, chunk);
  }

  /** The first bytes of the connection (after the h2c sniff): parsed, then the parser takes the handle. */
  firstChunk(chunk: Buffer): void {
    this.onData(chunk);
    this.consume();
  }

  /**
   * Let llhttp read the plain-TCP socket's handle directly from now on (TLS sockets keep 'data'
   * events). Not while reading is paused or stopped: such a connection simply stays on 'data' events.
   */
  consume(): void {
    if (this.secure || this.stopped || this.closed || this.socket.isPaused()) return;
    const h = (this.socket as unknown as { _handle?: StreamHandle | null })._handle;
    if (h == null || h.isStreamBase !== true || h._consumed === true) return;
    try {
      this.parser.consume(h);
    } catch {
      return;
    }
    h._consumed = true;
    this.consumed = true;
    this.socket.removeListener('data', connOnData);
  }

  /** kOnExecute: llhttp parsed one read of a consumed handle (`ret` as execute() returns it). */
  onConsumedRead(ret: number | ParseError): void {
    const now = this.fast.now;
    this.lastActive = now;
    this.afterExecute(ret, null);
    // a request head that began in this read and is not complete yet: the headers timeout runs from now
    if (!this.stopped && this.parsing === null && this.headStart === 0 && !this.parser.headersCompleted()) this.headStart = now;
  }

  /** Inside a parser callback: the first one of a consumed read marks the execute (see `executing`). */
  enter(): void {
    if (!this.executing) {
      this.executing = true;
      this.answeredNow = false;
    }
  }

  afterExecute(ret: number | ParseError, chunk: Buffer | null): void {
    this.executing = false;
    if (this.unconsumeAfter) {
      this.unconsumeAfter = false;
      this.unconsume();
    }
    if (typeof ret !== 'number') {
      this.parseError(ret);
      this.answeredNow = false;
      return;
    }
    this.answeredNow = false;
    const d = this.deferred;
    if (d !== null) {
      this.deferred = null;
      // a CONNECT in the same read closes the connection: nothing of the read is forwarded
      if (!d.done && this.upgradeEx?.head.method !== 'CONNECT') d.firstTry();
    }
    const up = this.upgradeEx;
    if (up !== null) {
      this.upgradeEx = null;
      this.onUpgrade(up, (chunk ?? this.parser.getCurrentBuffer()).subarray(ret));
    }
  }

  onHead(major: number, minor: number, headers: string[], method: string, url: string, upgrade: boolean, keepAlive: boolean): void {
    // a closing answer went out during this execute(): later heads of the packet are never served (RFC 9112 §9.6)
    if (this.stopped) return;
    this.requestStart = this.headStart === 0 ? this.fast.now : this.headStart;
    this.headStart = 0;
    const ex = new FastExchange(this, this.ref.current);
    ex.head.method = method;
    ex.head.raw = headers;
    ex.url = url;
    ex.versionMajor = major;
    ex.versionMinor = minor;
    ex.keepAlive = keepAlive;
    if (upgrade) {
      // llhttp stops after this head; onData hands the rest of the bytes over
      ex.upgrade = true;
      this.upgradeEx = ex;
      this.parsing = null;
      return;
    }
    this.parsing = ex;
    if (this.active === null && this.waitingList.length === 0) this.activate(ex);
    else {
      this.waitingList.push(ex);
      if (this.waitingList.length >= MAX_QUEUED_REQUESTS) this.flow();
    }
  }

  onBody(chunk: Buffer): void {
    const ex = this.parsing;
    if (ex !== null) ex.onReqBody(chunk);
  }

  onComplete(): void {
    const ex = this.parsing;
    this.parsing = null;
    if (ex !== null) ex.onReqComplete();
  }

  /** Start answering `ex` (the head of the line). */
  activate(ex: FastExchange): void {
    this.active = ex;
    this.upstreamBlocked = false;
    try {
      if (!this.expectation(ex)) return;
      if (ex.route()) ex.forward();
    } catch (err) {
      this.fast.logger.error('fast engine: request failed', { error: (err as Error).message });
      if (!ex.done) ex.reply(Replies.internal);
      else if (this.active === ex) this.exchangeDone(ex);
    }
    this.flow();
  }

  /**
   * What node:http answers itself before a request reaches the engine: HTTP/1.1 without Host (400,
   * requireHostHeader) and `Expect` (100-continue answered at once, anything else 417).
   */
  expectation(ex: FastExchange): boolean {
    if (ex.versionMinor !== 1 || ex.versionMajor !== 1) return true;
    const raw = ex.head.raw;
    let host = false;
    for (let i = 0; i < raw.length; i += 2) {
      if (sameName(raw[i], 'host')) {
        host = true;
        break;
      }
    }
    if (!host) {
      ex.finishSilently();
      this.active = null;
      this.stopReading();
      this.socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nDate: ' + httpDate(Date.now()) + '\r\nContent-Length: 0\r\n\r\n', 'latin1');
      return false;
    }
    // every Expect line joined, as node:http's req.headers.expect
    let expect: string | null = null;
    for (let i = 0; i < raw.length; i += 2) {
      if (!sameName(raw[i], 'expect')) continue;
      expect = expect === null ? raw[i + 1] : expect + ', ' + raw[i + 1];
    }
    if (expect === null) return true;
    if (CONTINUE.test(expect)) {
      this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
      return true;
    }
    ex.respondLocal(417, ['content-length', '0'], null);
    return false;
  }

  /** The active exchange finished its answer: the next one starts, or the connection closes/idles. */
  exchangeDone(ex: FastExchange): void {
    if (ex !== this.active) return;
    this.active = null;
    if (this.executing) this.answeredNow = true;
    this.upstreamBlocked = false;
    if (ex.closeAfter) {
      this.stopReading();
      this.socket.end();
      return;
    }
    const next = this.waitingList.shift();
    if (next !== undefined) {
      this.activate(next);
      return;
    }
    if (this.ended || (this.parsing === null && this.draining())) {
      this.socket.end();
      return;
    }
    this.lastActive = this.fast.now;
    this.flow();
  }

  onUpgrade(ex: FastExchange, rest: Buffer): void {
    const value = ex.head.headers.upgrade;
    if (ex.head.method === 'CONNECT') {
      // node:http destroys CONNECT requests when nobody handles them; so do we
      ex.finish();
      if (this.active !== null && !this.active.done) this.active.clientGone();
      this.socket.destroy();
      return;
    }
    if (typeof value === 'string' && value.toLowerCase() !== 'websocket' && !this.secure) {
      // not a WebSocket (e.g. `Upgrade: h2c` from curl --http2): decline, as RFC 9110 allows, and serve
      // the request as plain HTTP/1.1 from a fresh parser state (what the node engine does)
      const text = declinedUpgradeHead(ex.head.method, ex.url, ex.versionMinor, ex.head.raw);
      ex.finishSilently();
      this.fast.reinit(this.parser);
      this.onData(Buffer.concat([Buffer.from(text, 'latin1'), rest]));
      return;
    }
    // WebSocket: nothing more is parsed on this connection; the bytes after the head go upstream
    // (the socket's own stream reads again, paused until piped)
    this.stopReading();
    ex.upgradeRest = rest;
    if (this.active === null && this.waitingList.length === 0) this.activate(ex);
    else this.waitingList.push(ex);
  }

  /**
   * The parser refused the bytes. As node:http does: the answer from limits.ts's table goes out at once
   * and the connection closes; a request of the same packet that was not forwarded yet never is, and
   * one whose response already started is cut.
   */
  parseError(err: ParseError): void {
    const reply = replyForParserError(err.code);
    const d = this.deferred;
    this.deferred = null;
    this.stopReading();
    this.parsing = null;
    for (const w of this.waitingList) if (!w.done) w.finishSilently();
    this.waitingList.length = 0;
    const ex = this.active;
    this.active = null;
    if (ex !== null && !ex.done) {
      if (ex.chunked && !ex.tried) {
        // a chunked request is never forwarded before the parser accepted what followed its head
        ex.status = 400;
        ex.error = 'bad_request';
        ex.dropUpstream();
        ex.finish();
      } else if (ex.responded && ex.pendingHead === null) {
        ex.cut();
        return;
      } else ex.clientGone();
    } else if (ex !== null && ex.done && ex.responded === false && ex.status !== 0) {
      // answered locally in this packet: the answer is already written
    }
    if (reply === null || this.socket.destroyed || !this.socket.writable) {
      this.socket.destroy();
      return;
    }
    if (this.answeredNow) {
      // an answer written in this same packet is still node:http's "message in flight": it closes
      // the connection without appending the error answer; so do we
      this.socket.end();
      return;
    }
    this.socket.end(reply.bytes);
    this.socket.once('finish', destroyAfterAnswer);
  }

  stopReading(): void {
    this.stopped = true;
    this.socket.removeListener('data', connOnData);
    this.socket.pause();
    // a consumed handle goes back to the (paused) socket stream, so the peer's FIN is still seen and
    // the connection closes as on 'data' events; inside a parse, once the read is handled
    if (this.consumed) {
      if (this.executing) this.unconsumeAfter = true;
      else this.unconsume();
    }
  }

  /** A consumed handle: stop reading (what net.Socket's pause() does for its own handle reads). */
  readStop(): void {
    const h = (this.socket as unknown as { _handle?: StreamHandle | null })._handle;
    if (h != null && h.reading !== false) {
      h.reading = false;
      h.readStop();
    }
  }

  readStart(): void {
    const h = (this.socket as unknown as { _handle?: StreamHandle | null })._handle;
    if (h != null && h.reading === false) {
      h.reading = true;
      h.readStart();
    }
  }

  /** Give the handle back to the socket's stream (reading stopped, or piping it raw after an upgrade). */
  unconsume(): void {
    if (!this.consumed) return;
    this.consumed = false;
    try {
      this.parser.unconsume();
    } catch {
      /* the handle is gone */
    }
    const h = (this.socket as unknown as { _handle?: StreamHandle | null })._handle;
    if (h != null) h._consumed = false;
    // reads resume into the paused stream (net stops them itself once its buffer is full)
    if (!this.closed) this.readStart();
  }

  // ---- flow control

  queue(n: number): void {
    this.queuedBytes += n;
    if (this.queuedBytes > MAX_QUEUED_BYTES) this.flow();
  }

  unqueue(n: number): void {
    this.queuedBytes -= n;
  }

  upstreamFull(): void {
    this.upstreamBlocked = true;
    this.flow();
  }

  upstreamDrained(): void {
    this.upstreamBlocked = false;
    this.flow();
  }

  /** Pause reading while the upstream is full or too much is queued; resume otherwise. */
  flow(): void {
    if (this.stopped || this.closed) return;
    const block = this.upstreamBlocked || this.queuedBytes > MAX_QUEUED_BYTES || this.waitingList.length >= MAX_QUEUED_REQUESTS;
    if (this.consumed) {
      if (block) this.readStop();
      else this.readStart();
      return;
    }
    const s = this.socket;
    if (block) {
      if (!s.isPaused()) s.pause();
    } else if (s.isPaused()) s.resume();
  }

  /** The client can take more: let the active exchange's upstream flow again. */
  onDrain(): void {
    const up = this.active?.up;
    if (up != null && up.socket.isPaused()) up.socket.resume();
  }

  /**
   * The client half-closed. As node:http (httpAllowHalfOpen false): an unfinished message is a parse
   * error (400); otherwise requests in flight are abandoned and the connection is closed.
   */
  onEnd(): void {
    this.ended = true;
    if (this.stopped) return;
    let ret: unknown;
    try {
      ret = this.parser.finish();
    } catch (err) {
      ret = err;
    }
    if (ret instanceof Error) {
      this.parseError(ret as ParseError);
      return;
    }
    this.stopReading();
    const ex = this.active;
    this.active = null;
    if (ex !== null && !ex.done) ex.clientGone();
    for (const w of this.waitingList) if (!w.done) w.finishSilently();
    this.waitingList.length = 0;
    this.parsing = null;
    if (this.socket.writable) this.socket.end();
  }

  onClose(): void {
    this.closed = true;
    const ex = this.active;
    this.active = null;
    if (ex !== null && !ex.done) ex.clientGone();
    const p = this.parsing;
    if (p !== null && !p.done && p !== ex) p.finishSilently();
    for (const w of this.waitingList) if (!w.done) w.finishSilently();
    this.waitingList.length = 0;
    this.parsing = null;
    this.fast.release(this);
  }

  /** Close when idle (drain); true when it was idle. */
  closeIfIdle(): boolean {
    if (this.active !== null || this.waitingList.length > 0 || this.parsing !== null || this.headStart !== 0) return false;
    this.socket.end();
    return true;
  }

  /** The sweep: idle keep-alive and header timeouts (as node:http's keepAliveTimeout / headersTimeout). */
  sweep(now: number, idleMs: number, headersMs: number, requestMs: number): void {
    const p = this.parsing;
    if (p !== null && requestMs > 0 && now - this.requestStart > requestMs) {
      // the whole request (body included) did not arrive in time: 408 when nothing was answered yet
      this.parsing = null;
      this.stopReading();
      if (!p.responded && !p.done && (this.active === p || this.active === null)) {
        p.dropUpstream();
        p.status = 408;
        p.error = 'request_timeout';
        p.finish();
        this.active = null;
        this.socket.end(ProtocolReplies.timeout.bytes);
        this.socket.once('finish', destroyAfterAnswer);
      } else {
        if (!p.done) p.clientGone();
        this.socket.destroy();
      }
      return;
    }
    if (this.headStart !== 0 && now - this.headStart > headersMs && this.parsing === null) {
      if (this.active === null && this.waitingList.length === 0) {
        this.stopReading();
        this.socket.end(ProtocolReplies.timeout.bytes);
        this.socket.once('finish', destroyAfterAnswer);
      } else this.socket.destroy();
      return;
    }
    if (this.active === null && this.waitingList.length === 0 && this.parsing === null && this.headStart === 0 && now - this.lastActive > idleMs) {
      this.socket.destroy();
    }
  }
}


// ---- socket listeners (this = socket)

function destroyAfterAnswer(this: Socket): void {
  // do not wait for the peer: the connection is closed once the answer is flushed
  this.destroy();
}

function connOnData(this: ConnSocket, chunk: Buffer): void {
  const c = this[kConn];
  if (c === undefined) return;
  try {
    c.onData(chunk);
  } catch (err) {
    c.fast.logger.error('fast engine: connection failed', { error: (err as Error).message });
    this.destroy();
  }
}
function connOnEnd(this: ConnSocket): void {
  this[kConn]?.onEnd();
}
function connOnDrain(this: ConnSocket): void {
  this[kConn]?.onDrain();
}
function connOnError(this: ConnSocket): void {
  // 'close' follows and does the cleanup
}
function connOnClose(this: ConnSocket): void {
  this[kConn]?.onClose();
}

// ---- parser callbacks (this = parser); installed once per parser object

export function onHeaders(this: ConnParser, headers: string[], url: string): void {
  const c = this[kConn];
  if (c == null) return;
  c.enter();
  if (c.extraHeaders === null) c.extraHeaders = headers.slice();
  else for (let i = 0; i < headers.length; i++) c.extraHeaders.push(headers[i]);
  if (typeof url === 'string') c.extraUrl += url;
}

export function makeOnHeadersComplete(methods: readonly string[]) {
  return function onHeadersComplete(
    this: ConnParser,
    major: number,
    minor: number,
    headers: string[] | undefined,
    method: number,
    url: string | undefined,
    _status: number,
    _statusText: string,
    upgrade: boolean,
    keepAlive: boolean,
  ): number {
    const c = this[kConn];
    if (c == null) return 0;
    c.enter();
    try {
      let raw = headers;
      if (c.extraHeaders !== null) {
        raw = raw === undefined ? c.extraHeaders : c.extraHeaders.concat(raw);
        c.extraHeaders = null;
      }
      let u = url;
      if (c.extraUrl !== '') {
        u = c.extraUrl + (u ?? '');
        c.extraUrl = '';
      }
      c.onHead(major, minor, raw ?? [], methods[method] ?? 'GET', u ?? '/', upgrade, keepAlive);
    } catch (err) {
      c.fast.logger.error('fast engine: request head failed', { error: (err as Error).message });
    }
    return 0;
  };
}

export function onBody(this: ConnParser, chunk: Buffer): void {
  const c = this[kConn];
  if (c == null) return;
  c.enter();
  try {
    c.onBody(chunk);
  } catch (err) {
    c.fast.logger.error('fast engine: request body failed', { error: (err as Error).message });
  }
}

export function onMessageComplete(this: ConnParser): void {
  const c = this[kConn];
  if (c == null) return;
  c.enter();
  // kOnHeaders also delivers a chunked body's trailers: they belong to this message (dropped, as the
  // node engine does), never to the next request's head
  c.extraHeaders = null;
  c.extraUrl = '';
  try {
    c.onComplete();
  } catch (err) {
    c.fast.logger.error('fast engine: request end failed', { error: (err as Error).message });
  }
}

/** kOnExecute (consumed handles): one read was parsed. */
export function onExecute(this: ConnParser, ret: number | ParseError): void {
  const c = this[kConn];
  if (c == null) return;
  try {
    c.onConsumedRead(ret);
  } catch (err) {
    c.fast.logger.error('fast engine: connection failed', { error: (err as Error).message });
    c.socket.destroy();
  }
}

/** The connection is gone: the parser lets go of its handle and of the connection. */
export function detachParser(p: ConnParser): void {
  const c = p[kConn];
  if (c != null && c.consumed) c.unconsume();
  p[kConn] = null;
}
