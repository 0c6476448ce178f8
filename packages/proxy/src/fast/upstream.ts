/**
 * Upstream keep-alive pools of raw sockets for the fast engine: one pool per endpoint, idle sockets
 * reused last-in-first-out, a connection limit with a FIFO of waiting exchanges, and responses parsed by
 * the same llhttp binding as requests. A socket goes back to the pool only when its request was written
 * completely and its response was read completely with nothing after it; anything else closes it.
 *
 * HOT PATH — change with care: parser callbacks and socket listeners are shared functions that find
 * their UpConn through a symbol; nothing here allocates per request.
 */
import net from 'node:net';
import type { ResolvedEndpoint } from '../api.js';
import type { Deadlines, Expirable } from '../engine/deadlines.js';
import { sameName } from '../upstream/headers.js';
import type { LlBinding, LlParser, ParseError } from './binding.js';

/** What an UpConn reports to the exchange using it. Implemented by FastExchange. */
export interface UpstreamUser {
  /** A socket for this exchange (fresh or reused). */
  attach(up: UpConn): void;
  /** Connecting failed (nothing was sent). */
  connectFailed(err: Error): void;
  /** The final response head; returns true when the response has no body (HEAD). */
  onResHead(status: number, raw: string[], versionMinor: number, keepAlive: boolean): boolean;
  /**
   * Body bytes. `transient`: a view of the shared read buffer, valid only during the call (copy what
   * must outlive it, e.g. with `FastPools.keep`); otherwise the chunk is the caller's to keep.
   */
  onResBody(chunk: Buffer, transient: boolean): void;
  onResComplete(): void;
  /** The socket failed or closed before the response completed. `fresh`: no response byte yet. */
  onUpstreamError(err: Error, up: UpConn): void;
  /** The socket can take more request bytes again. */
  upstreamDrained(): void;
  /** The client socket. */
  readonly downstream: net.Socket;
  /** Whether the exchange still wants a socket (false once answered or abandoned). */
  readonly waiting: boolean;
}

const kUp = Symbol('gatehouse.fast.up');
type OwnedSocket = net.Socket & { [kUp]?: UpConn };
type OwnedParser = LlParser & { [kUp]?: UpConn };

const RESET = Object.assign(new Error('upstream closed the connection'), { code: 'ECONNRESET' });
const MALFORMED_BASE = 'malformed upstream response';

const READ_BUFFER_BYTES = 64 * 1024;
/** Recycled body buffers kept (4 MiB). */
const MAX_SPARE_BUFFERS = 64;

const CONNECT_TIMEOUT = Object.assign(new Error('upstream connect timeout'), { code: 'ETIMEDOUT' });

export class UpConn implements Expirable {
  readonly socket: OwnedSocket;
  readonly parser: OwnedParser;
  readonly pool: EndpointPool;
  user: UpstreamUser | null = null;
  connected = false;
  /** Served at least one exchange before (a failure may be a stale keep-alive close). */
  reused = false;
  /** A response byte arrived for the current exchange. */
  gotBytes = false;
  /** The final (non-1xx) response of the current exchange completed. */
  finalDone = false;
  /** The current response's head said keep-alive. */
  keepAlive = false;
  /** The current response is to a HEAD request. */
  head = false;
  interim = false;
  dead = false;
  idleSince = 0;
  /** Header pairs collected by kOnHeaders when a head has more than 32 fields. */
  extra: string[] | null = null;
  /** Connect deadline (the engine's shared deadlines sweep; Infinity once connected). */
  deadline = Infinity;
  /** Inside parser.execute() of a read of this socket. */
  executing = false;
  /** release() called during that execute: 1 = reusable, 2 = not; done once the read is handled. */
  deferredRelease: 0 | 1 | 2 = 0;
  /** The client socket, corked by corkDown() during the current read (uncorked when it is handled). */
  corked: net.Socket | null = null;
  /**
   * Body bytes of the current response still to come around the parser (a response with a
   * Content-Length whose head ended the parse: `rawBodies`); 0 when the parser reads the body.
   */
  rawLeft = 0;

  constructor(pool: EndpointPool, binding: LlBinding) {
    this.pool = pool;
    const ep = pool.ep;
    // responses are read into the pools' one shared buffer (net's `onread`): no allocation and no
    // stream machinery per read; llhttp copies body chunks out, so the buffer is free again on return
    const onread = { buffer: pool.owner.readBuffer, callback: upOnRead };
    const s = (ep.unix ? net.connect({ path: ep.address, onread }) : net.connect({ host: ep.address, port: ep.port, noDelay: true, onread })) as OwnedSocket;
    s[kUp] = this;
    this.socket = s;
    const H = binding.HTTPParser;
    const p = new H() as OwnedParser;
    p[kUp] = this;
    p[H.kOnHeaders] = upOnHeaders;
    p[H.kOnHeadersComplete] = upOnHeadersComplete;
    p[H.kOnBody] = upOnBody;
    p[H.kOnMessageComplete] = upOnComplete;
    p.initialize(H.RESPONSE, {}, 0, 0);
    this.parser = p;
    const timeout = pool.owner.connectTimeoutMs;
    if (timeout > 0 && pool.owner.deadlines !== null) {
      this.deadline = performance.now() + timeout;
      pool.owner.deadlines.add(this);
    }
    s.once('connect', upOnConnect);
    s.on('end', upOnEnd);
    s.on('drain', upOnDrain);
    s.on('error', upOnError);
    s.once('close', upOnClose);
  }

  /**
   * `chunk[from..]` continues a body of known length that the parser left to us: up to `rawLeft` bytes
   * go to the exchange as they are; at the end the parser is re-armed for the next response, and bytes
   * after the body in the same read (a response nobody asked for) make the socket unusable.
   */
  rawBody(chunk: Buffer, from: number): void {
    const n = Math.min(chunk.length - from, this.rawLeft);
    this.rawLeft -= n;
    const u = this.user;
    if (n > 0 && u !== null) {
      try {
        u.onResBody(chunk.subarray(from, from + n), true);
      } catch {
        this.dead = true;
      }
    }
    if (this.rawLeft > 0) return;
    const H = this.pool.owner.binding.HTTPParser;
    this.parser.initialize(H.RESPONSE, {}, 0, 0);
    if (from + n < chunk.length) this.dead = true;
    this.completed();
  }

  /** The final response has been read: the exchange gets it. */
  completed(): void {
    this.finalDone = true;
    const u = this.user;
    if (u === null) return;
    try {
      u.onResComplete();
    } catch {
      this.dead = true;
    }
  }

  /**
   * Called before a write to the client that may not be the only one this read produces (chunk framing,
   * a large body after its head): the client socket stays corked until the read is handled, so the
   * writes leave together. The usual small answer (head + body in one write) never corks.
   */
  corkDown(down: net.Socket): void {
    if (this.corked === null) {
      down.cork();
      this.corked = down;
    }
  }

  /** The read is handled: what it produced for the client leaves in one writev. */
  uncorkDown(): void {
    const c = this.corked;
    if (c !== null) {
      this.corked = null;
      c.uncork();
    }
  }

  /** Connect timeout (deadlines sweep). */
  expire(_now: number): void {
    this.pool.owner.deadlines?.delete(this);
    this.deadline = Infinity;
    if (!this.connected && !this.dead) this.fail(CONNECT_TIMEOUT);
  }

  /** Start an exchange on this socket (the caller then writes the request). */
  begin(user: UpstreamUser): void {
    this.user = user;
    this.gotBytes = false;
    this.finalDone = false;
    this.keepAlive = false;
    this.interim = false;
  }

  /** The exchange is over; `reusable` when its request was fully written and nothing is pending. */
  release(reusable: boolean): void {
    this.user = null;
    if (this.rawLeft > 0) reusable = false; // let go in the middle of a body
    if (this.executing) {
      // inside this socket's own parse: bytes after the response in the same read (a second,
      // unrequested message) must be seen first, so the socket goes back only when the read is done
      this.deferredRelease = reusable ? 1 : 2;
      return;
    }
    if (this.socket.isPaused()) this.socket.resume();
    if (!reusable || !this.keepAlive || !this.finalDone || this.dead) {
      this.destroy();
      return;
    }
    this.reused = true;
    this.pool.putBack(this);
  }

  destroy(): void {
    // `dead` may already be set (an unrequested message was seen): the socket still has to go
    this.dead = true;
    this.user = null;
    if (!this.socket.destroyed) this.socket.destroy();
  }

  fail(err: Error): void {
    const u = this.user;
    this.user = null;
    this.destroy();
    if (u !== null) {
      if (this.connected) u.onUpstreamError(err, this);
      else u.connectFailed(err);
    }
  }
}

// ---- socket listeners (this = socket)

function upOnConnect(this: OwnedSocket): void {
  const up = this[kUp]!;
  up.connected = true;
  if (up.deadline !== Infinity) {
    up.deadline = Infinity;
    up.pool.owner.deadlines?.delete(up);
  }
  up.pool.connected(up);
}

function upOnRead(this: OwnedSocket, nread: number, buf: Buffer): boolean {
  const up = this[kUp]!;
  if (up.user === null) {
    // bytes on an idle socket: never reuse it
    up.destroy();
    up.pool.forget(up);
    return false;
  }
  const chunk = buf.subarray(0, nread);
  up.gotBytes = true;
  if (up.rawLeft > 0) {
    // the rest of a body of known length: no parser, no copy
    up.rawBody(chunk, 0);
    up.uncorkDown();
    return true;
  }
  let ret: number | ParseError;
  up.executing = true;
  try {
    ret = up.parser.execute(chunk);
  } catch (err) {
    ret = err as ParseError;
  }
  up.executing = false;
  // the head ended the parse (kOnHeadersComplete returned 2): its body follows in this read or later
  if (up.rawLeft > 0 && typeof ret === 'number') up.rawBody(chunk, ret);
  const release = up.deferredRelease;
  if (release !== 0) {
    // the exchange finished during this read: reusable only if nothing followed its response (a whole
    // second message made the socket dead; the start of one leaves the parser inside a head)
    up.deferredRelease = 0;
    up.release(release === 1 && typeof ret === 'number' && up.parser.headersCompleted());
  }
  // what this chunk produced for the client beyond one write (UpConn.corkDown) leaves in one writev
  up.uncorkDown();
  if (typeof ret !== 'number') {
    const e = Object.assign(new Error(MALFORMED_BASE + ': ' + ((ret as ParseError).code ?? 'error')), { code: (ret as ParseError).code ?? 'HPE_USER' });
    up.fail(e);
  }
  return true;
}

function upOnDrain(this: OwnedSocket): void {
  this[kUp]!.user?.upstreamDrained();
}

function upOnEnd(this: OwnedSocket): void {
  const up = this[kUp]!;
  if (up.user !== null) {
    // close-delimited bodies complete at EOF (a body of known length cut short does not)
    if (up.rawLeft === 0) {
      try {
        up.parser.finish();
      } catch {
        /* reported below */
      }
    }
    up.uncorkDown();
  }
  up.keepAlive = false;
  if (up.user !== null) up.fail(RESET);
  else {
    up.destroy();
    up.pool.forget(up);
  }
}

function upOnError(this: OwnedSocket, err: Error): void {
  const up = this[kUp]!;
  up.fail(err);
  up.pool.forget(up);
}

function upOnClose(this: OwnedSocket): void {
  const up = this[kUp]!;
  up.dead = true;
  up.pool.closed(up);
  if (up.user !== null) up.fail(RESET);
  try {
    up.parser.close();
  } catch {
    /* already closed */
  }
}

// ---- parser callbacks (this = parser)

function upOnHeaders(this: OwnedParser, headers: string[]): void {
  const up = this[kUp]!;
  if (up.extra === null) up.extra = headers.slice();
  else for (let i = 0; i < headers.length; i++) up.extra.push(headers[i]);
}

function upOnHeadersComplete(
  this: OwnedParser,
  _major: number,
  minor: number,
  headers: string[] | undefined,
  _method: number,
  _url: string | undefined,
  status: number,
  _statusText: string,
  _upgrade: boolean,
  keepAlive: boolean,
): number {
  const up = this[kUp]!;
  let raw = headers;
  if (up.extra !== null) {
    raw = raw === undefined ? up.extra : up.extra.concat(raw);
    up.extra = null;
  }
  const u = up.user;
  if (u === null || up.dead) {
    // a message after the final response (the exchange let go of the socket): nobody asked for it
    up.dead = true;
    return 1;
  }
  if (status < 200) {
    // 1xx: llhttp resets for the final response; the node engine drops interim answers too
    up.interim = true;
    return 0;
  }
  up.interim = false;
  up.keepAlive = keepAlive;
  try {
    if (u.onResHead(status, raw ?? [], minor, keepAlive)) return 1;
  } catch {
    up.dead = true;
    return 1;
  }
  if (up.pool.owner.rawBodies && status !== 204 && status !== 304 && raw !== undefined) {
    // a body of known length is read around the parser: 2 ends the parse at the head (binding.ts)
    const length = contentLength(raw);
    if (length > 0) {
      up.rawLeft = length;
      return 2;
    }
  }
  return 0;
}

/** The Content-Length of a head llhttp accepted (so at most one, digits only), or -1. */
function contentLength(raw: string[]): number {
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 14 && sameName(raw[i], 'content-length')) {
      const n = Number(raw[i + 1]);
      return Number.isSafeInteger(n) ? n : -1;
    }
  }
  return -1;
}

function upOnBody(this: OwnedParser, chunk: Buffer): void {
  const up = this[kUp]!;
  const u = up.user;
  if (u === null) return;
  try {
    u.onResBody(chunk, false);
  } catch {
    up.dead = true;
  }
}

function upOnComplete(this: OwnedParser): void {
  const up = this[kUp]!;
  // a head that ended the parse: the response completes when its raw body has been read
  if (up.rawLeft > 0) return;
  up.extra = null; // trailers (kOnHeaders) belong to this message
  if (up.interim) {
    up.interim = false;
    return;
  }
  up.completed();
}

export interface FastPoolOptions {
  /** Connections per endpoint (default 1024); further exchanges wait in order. */
  maxConnections?: number;
  /** Idle keep-alive sockets are closed after this (default 4 s, undici's default). */
  idleMs?: number;
  /** Connect timeout (default 5 s; the engine passes limits.connectTimeoutMs). */
  connectTimeoutMs?: number;
  /** Read bodies of known length around the parser (default false; the engine passes the contract's answer). */
  rawBodies?: boolean;
}

/** One endpoint's sockets. */
export class EndpointPool {
  readonly idle: UpConn[] = [];
  readonly waiters: UpstreamUser[] = [];
  /** Sockets open or connecting. */
  total = 0;
  lastUsed = 0;
  /** `host: ...` for requests that came without one (what undici sends). */
  readonly hostLine: string;
  constructor(
    readonly key: string,
    readonly ep: ResolvedEndpoint,
    readonly owner: FastPools,
  ) {
    this.hostLine = 'host: ' + (ep.unix ? 'localhost' : ep.address.includes(':') ? `[${ep.address}]:${ep.port}` : `${ep.address}:${ep.port}`) + '\r\n';
  }

  acquire(user: UpstreamUser): void {
    this.lastUsed = this.owner.now;
    const idle = this.idle;
    while (idle.length > 0) {
      const up = idle.pop()!;
      if (up.dead || up.socket.destroyed) continue;
      up.begin(user);
      user.attach(up);
      return;
    }
    if (this.total < this.owner.maxConnections) {
      this.total++;
      const up = new UpConn(this, this.owner.binding);
      up.begin(user);
      return;
    }
    this.waiters.push(user);
  }

  /** A new socket connected: its exchange may have gone meanwhile, then another one takes it. */
  connected(up: UpConn): void {
    const u = up.user;
    if (u !== null && u.waiting) {
      u.attach(up);
      return;
    }
    up.user = null;
    up.keepAlive = true;
    up.finalDone = true;
    this.putBack(up);
  }

  putBack(up: UpConn): void {
    const w = this.waiters;
    while (w.length > 0) {
      const u = w.shift()!;
      if (!u.waiting) continue;
      up.begin(u);
      u.attach(up);
      return;
    }
    up.idleSince = this.owner.now;
    this.idle.push(up);
  }

  forget(up: UpConn): void {
    const i = this.idle.indexOf(up);
    if (i !== -1) this.idle.splice(i, 1);
  }

  closed(up: UpConn): void {
    this.total--;
    this.forget(up);
    // a waiter gets a fresh socket in place of the closed one
    const w = this.waiters;
    while (w.length > 0 && !w[0].waiting) w.shift();
    if (w.length > 0 && this.total < this.owner.maxConnections && !this.owner.closing) {
      this.total++;
      const u = w.shift()!;
      new UpConn(this, this.owner.binding).begin(u);
    }
  }

  sweep(limit: number): void {
    const idle = this.idle;
    for (let i = idle.length - 1; i >= 0; i--) {
      if (idle[i].idleSince < limit) {
        const up = idle[i];
        idle.splice(i, 1);
        up.destroy();
      }
    }
  }
}

/** Every endpoint pool of one fast engine, reused across table swaps like the undici pools. */
export class FastPools {
  readonly #pools = new Map<string, EndpointPool>();
  readonly maxConnections: number;
  readonly idleMs: number;
  readonly connectTimeoutMs: number;
  /** The engine's shared deadline sweep (connect timeouts). */
  deadlines: Deadlines | null = null;
  /** Cached clock (performance.now()), refreshed by the engine's sweep. */
  now = performance.now();
  closing = false;
  /** Every upstream socket reads into this one buffer (reads are handled synchronously, one at a time). */
  readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  /** Bodies of known length are read around the parser (the binding contract's `rawBodies`). */
  rawBodies: boolean;
  /** Copies of transient body chunks waiting for their client write, recycled when it is done. */
  readonly #spare: Buffer[] = [];

  constructor(
    readonly binding: LlBinding,
    opts: FastPoolOptions = {},
  ) {
    this.maxConnections = opts.maxConnections ?? 1024;
    this.idleMs = opts.idleMs ?? 4_000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
    this.rawBodies = opts.rawBodies ?? false;
  }

  /**
   * A copy of a transient body chunk for a write that outlives the read, and the write's callback that
   * recycles it: a body streams through a few reused 64 KiB buffers instead of one fresh allocation per
   * read (which made V8's major GC the largest cost of a 1 MiB response).
   */
  keep(chunk: Buffer): { copy: Buffer; done: () => void } {
    const spare = this.#spare;
    const whole = chunk.length <= READ_BUFFER_BYTES ? (spare.pop() ?? Buffer.allocUnsafeSlow(READ_BUFFER_BYTES)) : Buffer.allocUnsafeSlow(chunk.length);
    chunk.copy(whole, 0);
    const done = (): void => {
      if (whole.length === READ_BUFFER_BYTES && spare.length < MAX_SPARE_BUFFERS) spare.push(whole);
    };
    return { copy: whole.subarray(0, chunk.length), done };
  }

  get(ep: ResolvedEndpoint): EndpointPool {
    let p = this.#pools.get(ep.key);
    if (p === undefined) {
      p = new EndpointPool(ep.key, ep, this);
      this.#pools.set(ep.key, p);
    }
    return p;
  }

  /** Once a second: close idle sockets past the keep-alive time and pools nobody used for 2 min. */
  sweep(now: number): void {
    this.now = now;
    const limit = now - this.idleMs;
    for (const [key, p] of this.#pools) {
      p.sweep(limit);
      if (p.total === 0 && p.waiters.length === 0 && p.lastUsed < now - 120_000) this.#pools.delete(key);
    }
  }

  /** After a swap: drop the idle sockets of endpoints no table uses (as UpstreamPools.retain). */
  retain(keep: Set<string>, dynamic: (key: string) => boolean): void {
    for (const [key, p] of this.#pools) {
      if (keep.has(key) || dynamic(key)) continue;
      // nothing in use: the pool goes now (its idle sockets are closing), as an undici pool's close()
      const busy = p.total - p.idle.length + p.waiters.length;
      p.sweep(Infinity);
      if (busy === 0) this.#pools.delete(key);
    }
  }

  /** Close idle sockets now (shutdown); sockets in use close when their exchange ends. */
  close(): void {
    this.closing = true;
    for (const p of this.#pools.values()) p.sweep(Infinity);
  }

  get size(): number {
    return this.#pools.size;
  }

  /** Sockets and exchanges across every pool (leak checks; the shape of UpstreamPools.stats). */
  stats(): { pools: number; connected: number; free: number; pending: number; running: number } {
    const out = { pools: this.#pools.size, connected: 0, free: 0, pending: 0, running: 0 };
    for (const p of this.#pools.values()) {
      out.connected += p.total;
      out.free += p.idle.length;
      out.running += p.total - p.idle.length;
      for (const w of p.waiters) if (w.waiting) out.pending++;
    }
    return out;
  }
}
