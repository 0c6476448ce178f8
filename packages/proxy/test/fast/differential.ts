/**
 * Differential fuzzing of the two HTTP/1.1 engines: generated and mutated raw requests (smuggling
 * classes, random header case / order / whitespace, pipelining, bodies in every framing), each split at
 * random byte boundaries, go to a node-engine gateway and a fast-engine gateway in front of the same
 * recording backend. Both must give the same client answer (status line, key headers, body per
 * response) and the backend must see the same requests (method, target, header list, body).
 *
 * Cases run on independent slots side by side (each a recording backend with one gateway per engine);
 * every piece of a case is read by the gateway, and the gateway idle, before the next is sent. The
 * tolerated classes (all node-side) are matched in their exact shape by classify().
 *
 * Used by differential.test.ts (bounded, CI) and for long runs, split into ranges:
 *   FUZZ_SEED=20261127 FUZZ_FROM=0 FUZZ_COUNT=500000 FUZZ_SLOTS=16 npx tap test/fast/differential.test.ts --timeout=0
 */
import dc from 'node:diagnostics_channel';
import http from 'node:http';
import net from 'node:net';
import type { RoutingTable } from '@gatehouse/core';
import { GatehouseRuntime } from '../../src/runtime.js';
import { loadBinding, type LlParser } from '../../src/fast/binding.js';
import { HOSTILE } from '../hardening/hostile-table.js';
import { backend, emptyStatus, freePort, table } from '../helpers/ir.js';
import { DEFAULT_LIMITS, replyForParserError } from '../../src/limits.js';
import { declinedUpgradeHead } from '../../src/listeners/http-server.js';

/** mulberry32: small, seedable, good enough to pick cases. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type R = () => number;
const pick = <T>(r: R, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

function randomCase(r: R, s: string): string {
  const mode = r();
  if (mode < 0.5) return s;
  if (mode < 0.7) return s.toUpperCase();
  let out = '';
  for (const c of s) out += r() < 0.5 ? c.toUpperCase() : c.toLowerCase();
  return out;
}

const METHODS = ['GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'get', 'G ET', 'CONNECT', 'TRACE'];
const PATHS = [
  '/',
  '/a',
  '/a/b?x=1&y=2',
  '/mod/x',
  '/r',
  '/r?q=1',
  '/missing',
  '/a/../b',
  '/a/./b//c',
  '/%2e%2e/x',
  '/a%2fb',
  '/a%zz',
  '/caf%C3%A9',
  '//double',
  '/a?b=%20c',
  '*',
  'http://example.com/abs',
  'http://EXAMPLE.com:80/abs?x',
  'http://other.com/abs',
  'https://example.com/x',
  'example.com/x',
  '/sp ace',
  '/' + 'x'.repeat(200),
  '/\x7f',
];
const VERSIONS = ['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.2', 'HTTP/0.9', 'http/1.1'];
const HOSTS = ['example.com', 'example.com', 'EXAMPLE.com:8080', 'a.b.c', '127.0.0.1', '[::1]:80', 'bad host', 'x:12y', '', 'example.com.'];
const EXTRA = [
  ['X-Custom', 'v'],
  ['x-empty', ''],
  ['X-Forwarded-For', '1.2.3.4'],
  ['X-Forwarded-Proto', 'https'],
  ['X-Forwarded-Host', 'front.example'],
  ['x-request-id', 'abc-123'],
  ['Connection', 'keep-alive'],
  ['Connection', 'close'],
  ['Connection', 'x-drop, keep-alive'],
  ['x-drop', 'secret'],
  ['Keep-Alive', 'timeout=5'],
  ['TE', 'trailers'],
  ['Trailer', 'x-t'],
  ['Proxy-Authorization', 'Basic eA=='],
  ['Proxy-Connection', 'keep-alive'],
  ['Upgrade', 'h2c'],
  ['Expect', '100-continue'],
  ['Expect', 'something-else'],
  ['Accept', '*/*'],
  ['Cookie', 'a=1'],
  ['Cookie', 'b=2'],
  ['User-Agent', 'fuzz/1'],
  ['Origin', 'http://o.example'],
  ['Content-Type', 'text/plain'],
  ['Content-Type', 'application/grpc'],
  ['X-Tab', '\tv\t'],
  ['X-Obs', 'a\r\n b'],
  ['X-Utf8', 'caf\xe9'],
  ['X-Nul', 'a\x00b'],
  ['Bad Name', 'v'],
  ['X-Colon', 'a:b'],
] as const;

/** One request's bytes. */
function genRequest(r: R): string {
  const method = pick(r, METHODS);
  const path = pick(r, PATHS);
  const version = pick(r, VERSIONS);
  const lines: string[] = [];
  const hostMode = r();
  if (hostMode < 0.85) lines.push(`${randomCase(r, 'Host')}:${pick(r, [' ', '', '  ', '\t'])}${pick(r, HOSTS)}`);
  else if (hostMode < 0.92) lines.push(`Host: ${pick(r, HOSTS)}`, `Host: ${pick(r, HOSTS)}`);
  const n = Math.floor(r() * 5);
  for (let i = 0; i < n; i++) {
    const [name, value] = pick(r, EXTRA);
    const ws = pick(r, [' ', '', '  ', ' \t']);
    const tail = pick(r, ['', '', ' ', '\t']);
    lines.push(`${randomCase(r, name)}:${ws}${value}${tail}`);
  }
  // body framing
  let body = '';
  const b = r();
  const payload = 'x'.repeat(Math.floor(r() * 40)) + pick(r, ['', 'GET /smuggled HTTP/1.1\r\nHost: example.com\r\n\r\n']);
  if (b < 0.4) {
    // none
  } else if (b < 0.65) {
    lines.push(`${randomCase(r, 'Content-Length')}: ${payload.length}`);
    body = payload;
  } else if (b < 0.85) {
    lines.push(`${randomCase(r, 'Transfer-Encoding')}: ${pick(r, ['chunked', 'chunked', 'Chunked', 'gzip, chunked', 'chunked, identity', 'xchunked'])}`);
    const chunks = payload.length === 0 ? [] : [payload.slice(0, 7), payload.slice(7)].filter((c) => c.length > 0);
    for (const c of chunks) body += c.length.toString(16) + pick(r, ['', '', ';ext=1', ' ']) + '\r\n' + c + '\r\n';
    body += '0\r\n' + pick(r, ['', '', 'X-Trailer: t\r\n']) + '\r\n';
  } else if (b < 0.95) {
    // smuggling shapes
    const s = pick(r, [
      `Content-Length: ${payload.length}\r\nTransfer-Encoding: chunked`,
      `Transfer-Encoding: chunked\r\nContent-Length: 3`,
      `Content-Length: 3\r\nContent-Length: 4`,
      `Content-Length: ${payload.length}, ${payload.length}`,
      `Content-Length : ${payload.length}`,
      `Content-Length: +${payload.length}`,
      `Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked`,
      `Transfer-Encoding:\x0bchunked`,
      ` Transfer-Encoding: chunked`,
    ]);
    lines.push(s);
    body = payload.length + '\r\n' + payload;
  } else {
    lines.push(`Content-Length: ${payload.length + 5}`);
    body = payload; // short body: the connection is half-closed before it completes
  }
  const eol = r() < 0.97 ? '\r\n' : pick(r, ['\n', '\r']);
  return `${method} ${path} ${version}${eol}${lines.map((l) => l + eol).join('')}${eol}${body}`;
}

function mutate(r: R, s: string): string {
  const ops = 1 + Math.floor(r() * 3);
  let out = s;
  for (let i = 0; i < ops; i++) {
    const at = Math.floor(r() * (out.length + 1));
    const op = r();
    if (op < 0.33) out = out.slice(0, at) + out.slice(at + 1);
    else if (op < 0.66) out = out.slice(0, at) + pick(r, [' ', '\t', '\r', '\n', ':', '\x00', 'a', '0', ';', ',', '\x80']) + out.slice(at);
    else out = out.slice(0, at) + String.fromCharCode(Math.floor(r() * 256)) + out.slice(at + 1);
  }
  return out;
}

/** One case: the bytes (1–3 requests, maybe mutated or a hostile sample) and where to split them. */
export function genCase(r: R): { bytes: Buffer; cuts: number[]; halfClose: boolean } {
  let text: string;
  const k = r();
  if (k < 0.1) {
    const h = pick(r, HOSTILE)[1];
    text = typeof h === 'string' ? h : Buffer.isBuffer(h) ? h.toString('latin1') : h.join('');
  } else {
    const n = r() < 0.8 ? 1 : 2 + Math.floor(r() * 2);
    text = '';
    for (let i = 0; i < n; i++) text += genRequest(r);
    if (r() < 0.2) text = mutate(r, text);
  }
  const bytes = Buffer.from(text, 'latin1');
  const cuts: number[] = [];
  const nc = Math.floor(r() * 4);
  for (let i = 0; i < nc; i++) cuts.push(1 + Math.floor(r() * Math.max(1, bytes.length - 1)));
  cuts.sort((a, b) => a - b);
  return { bytes, cuts, halfClose: r() < 0.1 };
}

/** The seed of case `index` of run `seed` (a bijection of the index for a fixed seed). */
export function caseSeed(seed: number, index: number): number {
  let h = Math.imul(seed >>> 0, 0x9e3779b1) ^ index;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Case `index` of run `seed`: depends on nothing else, so any case replays alone (FUZZ_CASE). */
export function caseAt(seed: number, index: number): { bytes: Buffer; cuts: number[]; halfClose: boolean } {
  return genCase(rng(caseSeed(seed, index)));
}

// ------------------------------------------------------------------------------------ harness

/** What the recording backend saw of one request. */
interface Seen {
  method: string;
  url: string;
  headers: string[];
  body: string;
  /** The whole request arrived (its body completed). Requests cut mid-body are not compared. */
  complete: boolean;
}

/** Response headers compared between engines (framing, dates and connection management excluded). */
const KEY_HEADERS = new Set(['content-type', 'location', 'grpc-status', 'grpc-message', 'x-resp', 'x-backend', 'access-control-allow-origin', 'vary']);
/** Upstream headers that legitimately differ (framing, the pool's own connection management). */
const SKIP_UP = new Set(['connection', 'content-length', 'transfer-encoding', 'keep-alive']);

/** A backend that records every request head it gets (and whether its body completed). */
interface Recorder {
  port: number;
  /** The current side's requests; replaced (not cleared) between sides. */
  seen: Seen[];
  /** Requests whose head arrived and which have neither ended nor been aborted. */
  open: number;
  /** Bumped on every head, body chunk, end and abort: idle() waits until it stops moving. */
  events: number;
  close(): Promise<void>;
}

async function startRecorder(): Promise<Recorder> {
  const rec: Recorder = { port: 0, seen: [], open: 0, events: 0, close: async () => undefined };
  const be = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    const headers: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (SKIP_UP.has(req.rawHeaders[i].toLowerCase())) continue;
      headers.push(req.rawHeaders[i] + ': ' + req.rawHeaders[i + 1]);
    }
    // recorded when the head arrives (a request cut by the gateway still counts as forwarded)
    const s: Seen = { method: req.method ?? '', url: req.url ?? '', headers, body: '', complete: false };
    rec.seen.push(s);
    rec.open++;
    rec.events++;
    let open = true;
    const done = (): void => {
      rec.events++;
      if (!open) return;
      open = false;
      rec.open--;
    };
    req.on('data', (c: Buffer) => {
      rec.events++;
      chunks.push(c);
      s.body = Buffer.concat(chunks).toString('latin1');
    });
    req.on('end', () => {
      s.complete = true;
      done();
      res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': '1' });
      res.end(`${req.method} ${req.url}`);
    });
    req.on('close', done);
    req.on('error', done);
  });
  const sockets = new Set<net.Socket>();
  be.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => be.listen(0, '127.0.0.1', () => r()));
  rec.port = (be.address() as net.AddressInfo).port;
  rec.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => be.close(() => r()));
  };
  return rec;
}

async function startGateway(engine: 'fast' | 'node', bePort: number): Promise<{ rt: GatehouseRuntime; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const tbl: RoutingTable = table(
      [
        {
          port,
          groups: [
            {
              hostname: null,
              rules: [
                { path: '/r', pathType: 'Exact', refs: [{ backend: 0 }], filters: [{ type: 'RequestRedirect', scheme: 'https', hostname: null, port: null, path: null, statusCode: 301 }] },
                {
                  path: '/mod',
                  refs: [{ backend: 0 }],
                  filters: [
                    { type: 'RequestHeaderModifier', ops: { set: [['X-Gw', '1']], add: [['X-Custom', 'added']], remove: ['x-empty'] } },
                    { type: 'ResponseHeaderModifier', ops: { set: [['X-Resp', 'yes']], add: [], remove: ['x-backend'] } },
                  ],
                },
                { path: '/missing', refs: [{ backend: 1, invalid: 'BackendNotFound' }] },
                { path: '/', refs: [{ backend: 0 }] },
              ],
            },
          ],
        },
      ],
      [backend('be', [{ address: '127.0.0.1', port: bePort }])],
    );
    const quiet = { debug() {}, info() {}, warn() {}, error() {} };
    const rt = new GatehouseRuntime({ bindAddress: '127.0.0.1', logger: quiet, httpEngine: engine, limits: { requestId: 'off', headersTimeoutMs: 2_000 } });
    await rt.apply(tbl, emptyStatus);
    const bound = rt.boundPorts().get(tbl.ports[0].key);
    if (bound !== undefined) {
      if (engine === 'fast' && rt.httpEngine !== 'fast') throw new Error('the fast engine is not available on this Node');
      return { rt, port: bound };
    }
    await rt.close(0); // the free port was taken in between: another one
    if (attempt >= 5) throw new Error('no free port for a gateway');
  }
}

/**
 * One independent slot: a recording backend with a node-engine gateway and a fast-engine gateway in
 * front of it. A slot runs one case at a time (node side, settle, fast side, settle), so everything its
 * backend sees belongs to the side being run; slots run side by side.
 */
export interface Slot {
  node: { rt: GatehouseRuntime; port: number };
  fast: { rt: GatehouseRuntime; port: number };
  rec: Recorder;
  close(): Promise<void>;
}

export async function startSlot(): Promise<Slot> {
  const rec = await startRecorder();
  const node = await startGateway('node', rec.port);
  const fast = await startGateway('fast', rec.port);
  return {
    node,
    fast,
    rec,
    close: async () => {
      await node.rt.close(50);
      await fast.rt.close(50);
      await rec.close();
    },
  };
}

export async function startSlots(k: number): Promise<Slot[]> {
  const slots: Slot[] = [];
  for (let i = 0; i < k; i++) slots.push(await startSlot()); // one at a time: freePort() races itself
  return slots;
}

/** Ends most cases: a last request that closes the connection (so the client knows when to stop reading). */
const SENTINEL = Buffer.from('GET /__end HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n', 'latin1');

const immediate = (): Promise<void> => new Promise((r) => setImmediate(r));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The gateway side of every loopback connection accepted in this process, by the client's port. The
 * client sends a case's pieces one at a time and waits until the gateway has read each one (and is
 * idle) before the next: loopback would otherwise merge writes the gateway did not read in between,
 * differently on each run, and both engines act on what one read holds.
 */
const accepted = new Map<number, net.Socket>();
dc.subscribe('net.server.socket', (msg) => {
  const s = (msg as { socket: net.Socket }).socket;
  const port = s.remotePort;
  if (port === undefined) return;
  accepted.set(port, s);
  s.once('close', () => {
    if (accepted.get(port) === s) accepted.delete(port);
  });
});

/** How the waits between pieces ended, over the whole process (reported with the results). */
export const waits = { read: 0, stopped: 0, readBound: 0, idle: 0, idleBound: 0, settleBound: 0 };

interface Wire {
  client: net.Socket;
  server: net.Socket | undefined;
  received: number;
}

/** Wait until the gateway has read `sent` bytes of this connection, stopped reading, or closed (bounded). */
async function gatewayRead(w: Wire, sent: number): Promise<void> {
  const until = Date.now() + 200;
  for (let turn = 0; ; turn++) {
    const server = w.server;
    if (server === undefined || server.destroyed || w.client.destroyed) return;
    if (server.bytesRead >= sent) {
      waits.read++;
      return;
    }
    if (server.isPaused() || server.readableFlowing === false) {
      waits.stopped++;
      return;
    }
    if (Date.now() > until) {
      waits.readBound++;
      return;
    }
    if (turn < 20) await immediate();
    else await sleep(1);
  }
}

/**
 * Wait until what the last piece started is over: nothing waits for an upstream connection, every
 * upstream request in use is one the backend holds open (waiting for more body), and neither the
 * backend nor the client saw anything for three event-loop turns (each turn polls I/O). `final`: the
 * connection is over, so no upstream request may be left at all. Bounded (2 s final, 200 ms between
 * pieces); false when the bound ended it.
 */
async function idle(rt: GatehouseRuntime, rec: Recorder, w: Wire | null, final: boolean): Promise<boolean> {
  const until = Date.now() + (final ? 2_000 : 200);
  let quiet = 0;
  let mark = -1;
  for (;;) {
    const u = rt.upstreamStats();
    const busy = final ? u.running + u.pending + rec.open > 0 : u.pending > 0 || u.running > rec.open;
    const m = rec.events + (w === null ? 0 : w.received);
    if (!busy && m === mark) {
      if (++quiet >= 3) return true;
    } else quiet = 0;
    mark = m;
    if (Date.now() > until) return false;
    if (busy) await sleep(1);
    else await immediate();
  }
}

/**
 * One side of a case: send the pieces (each read by the gateway, and the gateway idle, before the next
 * goes), then half-close or send the sentinel, and read until the gateway closes (bounded).
 */
async function exchange(side: { rt: GatehouseRuntime; port: number }, rec: Recorder, c: { bytes: Buffer; cuts: number[]; halfClose: boolean }, waitMs = 2_000): Promise<{ data: Buffer; timedOut: boolean }> {
  const client = net.connect(side.port, '127.0.0.1');
  client.setNoDelay(true);
  const w: Wire = { client, server: undefined, received: 0 };
  const out: Buffer[] = [];
  let timedOut = false;
  const closed = new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      timedOut = true;
      client.destroy();
    }, waitMs);
    client.on('data', (d: Buffer) => {
      out.push(d);
      w.received += d.length;
    });
    client.on('error', () => undefined);
    client.once('end', () => client.destroy());
    client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  await new Promise<void>((r) => {
    client.once('connect', () => r());
    client.once('close', () => r());
  });
  w.server = accepted.get(client.localPort ?? -1);
  let at = 0;
  for (const cut of [...c.cuts, c.bytes.length]) {
    if (cut <= at) continue;
    if (!client.writable) break;
    client.write(c.bytes.subarray(at, cut));
    at = cut;
    await gatewayRead(w, at);
    if (await idle(side.rt, rec, w, false)) waits.idle++;
    else waits.idleBound++;
  }
  if (client.writable) {
    if (c.halfClose) client.end();
    else client.write(SENTINEL);
  }
  await closed;
  return { data: Buffer.concat(out), timedOut };
}

let binding: ReturnType<typeof loadBinding> | undefined;

/** The client-visible answers: one line per response (status, key headers, body), via llhttp. */
export function describeResponses(data: Buffer): string[] {
  binding ??= loadBinding();
  const H = binding!.HTTPParser;
  const p = new H() as LlParser;
  const out: string[] = [];
  let cur = '';
  let body: Buffer[] = [];
  p[H.kOnHeadersComplete] = (_maj: number, _min: number, headers: string[], _m: number, _u: string, status: number) => {
    const keys: string[] = [];
    for (let k = 0; k < headers.length; k += 2) if (KEY_HEADERS.has(headers[k].toLowerCase())) keys.push(headers[k].toLowerCase() + '=' + headers[k + 1]);
    keys.sort();
    cur = `${status} ${keys.join(' ')}`;
    body = [];
    return 0; // no HEAD requests are generated
  };
  p[H.kOnBody] = (c: Buffer) => void body.push(c);
  p[H.kOnMessageComplete] = () => {
    if (cur.startsWith('1')) return;
    out.push(cur + ' | ' + Buffer.concat(body).toString('latin1'));
  };
  p.initialize(H.RESPONSE, {}, 0, 0);
  const ret = p.execute(data);
  if (typeof ret !== 'number') out.push('<unparsable response: ' + (ret as { code?: string }).code + '>');
  else {
    const fin = p.finish();
    if (fin instanceof Error) out.push('<truncated>');
  }
  p.close();
  return out;
}

export interface Answer {
  /** One line per response the client got. */
  responses: string[];
  /** The complete requests the backend got, one line each, sorted. */
  seen: string[];
  /** Method and body of each `seen` line, in the same order. */
  seenParts: [string, string][];
  /** The raw bytes the client got (latin1). */
  raw: string;
  /** The gateway did not close within the exchange's bound / did not settle upstream. */
  timedOut: boolean;
  unsettled: boolean;
}

/** One case on one slot: the node side, then the fast side. */
export async function runCase(slot: Slot, c: { bytes: Buffer; cuts: number[]; halfClose: boolean }): Promise<{ node: Answer; fast: Answer }> {
  const node = await runSide(slot, 'node', c);
  const fast = await runSide(slot, 'fast', c);
  return { node, fast };
}

async function runSide(slot: Slot, engine: 'node' | 'fast', c: { bytes: Buffer; cuts: number[]; halfClose: boolean }): Promise<Answer> {
  const side = slot[engine];
  const seen: Seen[] = [];
  slot.rec.seen = seen;
  const { data, timedOut } = await exchange(side, slot.rec, c);
  const settled = await idle(side.rt, slot.rec, null, true);
  if (!settled) waits.settleBound++;
  // sorted: node:http forwards pipelined requests concurrently, the fast engine one after the other
  const done = seen.filter((s) => s.complete).map((s) => ({ line: `${s.method} ${s.url} [${s.headers.join(' | ')}] ${JSON.stringify(s.body)}`, method: s.method, body: s.body }));
  done.sort((a, b) => (a.line < b.line ? -1 : a.line > b.line ? 1 : 0));
  return {
    responses: describeResponses(data),
    seen: done.map((d) => d.line),
    seenParts: done.map((d) => [d.method, d.body]),
    raw: data.toString('latin1'),
    timedOut,
    unsettled: !settled,
  };
}

// ------------------------------------------------------------------------------------ verdicts

const same = (a: string[], b: string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** `a` is a strict prefix of `b`. */
const prefix = (a: string[], b: string[]): boolean => a.length < b.length && a.every((x, i) => x === b[i]);

/** A request as the strict parser both engines use reads it from the case. */
interface RefRequest {
  method: string;
  body: string;
  complete: boolean;
  /** The piece its head completed in. */
  piece: number;
}

/** What llhttp (strict, the engines' head limit) makes of a case's bytes, piece by piece. */
interface RefParse {
  requests: RefRequest[];
  /** The llhttp code that ended the stream (`HPE_*`), 'CONNECT' (node:http closes), or null. */
  error: string | null;
  /** The piece the error came in (the sentinel is the last piece; the end of the stream one more). */
  errorPiece: number;
}

/**
 * The case as both engines parse it: the pieces (then the sentinel, or the end of the stream after a
 * half-close) through one strict llhttp parser; an `Upgrade` other than websocket is declined and the
 * request parsed again from a fresh parser (as both engines do); CONNECT and websocket end it.
 */
export function referenceParse(c: { bytes: Buffer; cuts: number[]; halfClose: boolean }): RefParse {
  binding ??= loadBinding();
  const b = binding!;
  const H = b.HTTPParser;
  const requests: RefRequest[] = [];
  let cur: RefRequest | null = null;
  let extra: string[] = [];
  let up: { method: string; url: string; minor: number; headers: string[] } | null = null;
  const p = new H() as LlParser;
  p[H.kOnHeaders] = (headers: string[]) => void extra.push(...headers);
  p[H.kOnHeadersComplete] = (_maj: number, minor: number, headers: string[] | undefined, method: number, url: string | undefined, _s: number, _t: string, upgrade: boolean) => {
    const all = extra.concat(headers ?? []);
    extra = [];
    const m = b.methods[method] ?? 'GET';
    if (upgrade) {
      up = { method: m, url: url ?? '/', minor, headers: all };
      return 0;
    }
    cur = { method: m, body: '', complete: false, piece };
    requests.push(cur);
    return 0;
  };
  p[H.kOnBody] = (chunk: Buffer) => {
    if (cur !== null) cur.body += chunk.toString('latin1');
  };
  p[H.kOnMessageComplete] = () => {
    extra = [];
    if (cur !== null) cur.complete = true;
    cur = null;
  };
  p.initialize(H.REQUEST, {}, DEFAULT_LIMITS.maxHeaderBytes, 0);
  const pieces: Buffer[] = [];
  let at = 0;
  for (const cut of [...c.cuts, c.bytes.length]) {
    if (cut <= at) continue;
    pieces.push(c.bytes.subarray(at, cut));
    at = cut;
  }
  if (!c.halfClose) pieces.push(SENTINEL);
  let error: string | null = null;
  let piece = 0;
  const run = (chunk: Buffer): boolean => {
    const ret = p.execute(chunk) as number | { code?: string };
    if (typeof ret !== 'number') {
      error = ret.code ?? 'HPE_UNKNOWN';
      return false;
    }
    const u = up as { method: string; url: string; minor: number; headers: string[] } | null;
    if (u === null) return true;
    up = null;
    const value = headerValue(u.headers, 'upgrade');
    if (u.method === 'CONNECT' || (value ?? '').toLowerCase() === 'websocket') {
      error = u.method === 'CONNECT' ? 'CONNECT' : 'UPGRADE';
      return false;
    }
    p.initialize(H.REQUEST, {}, DEFAULT_LIMITS.maxHeaderBytes, 0);
    return run(Buffer.concat([Buffer.from(declinedUpgradeHead(u.method, u.url, u.minor, u.headers), 'latin1'), chunk.subarray(ret)]));
  };
  let ok = true;
  for (; piece < pieces.length; piece++) if (!(ok = run(pieces[piece]))) break;
  if (ok && c.halfClose) {
    const fin = p.finish() as unknown;
    if (fin instanceof Error) error = (fin as { code?: string }).code ?? 'HPE_UNKNOWN';
  }
  p.close();
  return { requests, error, errorPiece: piece };
}

function headerValue(raw: string[], name: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === name) return raw[i + 1];
  return undefined;
}


/** The gateway's reply to the parse error that ended the stream (null: none, or no reply). */
function errorReply(ref: RefParse): Buffer | null {
  if (ref.error === null) return null;
  return replyForParserError(ref.error)?.bytes ?? null;
}

/** The client's last answer is the reply to the parse error, byte for byte (it has no Date, unlike the others). */
const endsWithError = (a: Answer, reply: Buffer | null): boolean => reply !== null && a.raw.endsWith(reply.toString('latin1'));

/**
 * node-forwards-unanswered: the extra requests the node engine forwarded are requests of the case the
 * client got no answer for (the answers go in order; a parse error's reply answers no request).
 */
function forwardedUnanswered(ref: RefParse, node: Answer, fast: Answer, nodeAnswers: string[]): boolean {
  if (node.seen.length <= fast.seen.length) return false;
  const rest = node.seen.map((l, i) => ({ l, part: node.seenParts[i] }));
  for (const f of fast.seen) {
    const i = rest.findIndex((r) => r.l === f);
    if (i === -1) return false;
    rest.splice(i, 1);
  }
  const answered = nodeAnswers.length - (endsWithError(node, errorReply(ref)) ? 1 : 0);
  const unanswered = ref.requests.slice(answered).filter((r) => r.complete);
  for (const { part } of rest) {
    const i = unanswered.findIndex((r) => r.method === part[0] && r.body === part[1]);
    if (i === -1) return false;
    unanswered.splice(i, 1);
  }
  return true;
}

/** A gateway answer (not relayed from the backend). */
const local = (line: string): boolean => !line.includes('x-backend=1') && !line.includes('x-resp=yes');

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

/**
 * node-continue-inside-answer: taking one `100 Continue` out of the node bytes makes them equal the
 * fast answers. An interim response between two responses parses as one and changes nothing, so this
 * only matches one written inside another response (node:http's writeContinue does not wait for the
 * responses before it).
 */
function continueInside(node: Answer, fast: Answer): boolean {
  for (let at = node.raw.indexOf(CONTINUE); at !== -1; at = node.raw.indexOf(CONTINUE, at + 1)) {
    const cut = node.raw.slice(0, at) + node.raw.slice(at + CONTINUE.length);
    if (same(describeResponses(Buffer.from(cut, 'latin1')), fast.responses)) return true;
  }
  return false;
}

/**
 * How the two answers to one case compare: 'same', one of the tolerated classes (docs/architecture.md
 * §3, docs/reliability.md "Differential fuzzing"), or 'mismatch'.
 */
export function classify(c: { bytes: Buffer; cuts: number[]; halfClose: boolean }, node: Answer, fast: Answer): string {
  // one gateway closed the connection and the other left it open until the client gave up (2 s)
  if (node.timedOut !== fast.timedOut) return 'mismatch';
  const sameSeen = same(node.seen, fast.seen);
  const sameAnswers = same(node.responses, fast.responses);
  if (sameSeen && sameAnswers) return 'same';
  const ref = referenceParse(c);
  const repaired = !sameAnswers && continueInside(node, fast);
  // the backend: the same requests, or the node engine's extra requests are ones never answered
  const classes: string[] = [];
  if (!sameSeen) {
    if (!forwardedUnanswered(ref, node, fast, repaired ? fast.responses : node.responses)) return 'mismatch';
    classes.push('node-forwards-unanswered');
  }
  // the client: the same answers, or one of the answer classes (a combination counts as its own class)
  if (!sameAnswers) {
    const a = repaired ? 'node-continue-inside-answer' : answerClass(ref, node, fast);
    if (a === null) return 'mismatch';
    classes.push(a);
  }
  return classes.join(' + ');
}

function answerClass(ref: RefParse, node: Answer, fast: Answer): string | null {
  const reply = errorReply(ref);
  // the request of the n-th answer had its head in the piece the parse error came in
  const inErrorPiece = (n: number): boolean => n >= 1 && ref.requests[n - 1]?.piece === ref.errorPiece;
  if (reply !== null) {
    // node:http adds the parse error's reply after an answer of the same read: its nextTicks ran in
    // between and that answer emitted 'finish' (the fast engine treats it as still in flight)
    if (node.responses.length === fast.responses.length + 1 && endsWithError(node, reply) && prefix(fast.responses, node.responses) && inErrorPiece(fast.responses.length))
      return 'trailing-parse-error';
  }
  if (reply !== null || ref.error === 'CONNECT') {
    // node:http lost the gateway's answers to requests of the read that failed (or that ended in a
    // CONNECT, on which node:http destroys the socket), queued behind an answer of the same read that
    // had not emitted 'finish' yet
    const n = node.responses.length;
    if (prefix(node.responses, fast.responses) && inErrorPiece(n) && fast.responses.slice(n).every((l, i) => local(l) && inErrorPiece(n + 1 + i)))
      return 'node-drops-queued-answer';
  }
  return null;
}

export interface Mismatch {
  index: number;
  bytes: string;
  cuts: number[];
  halfClose: boolean;
  node: Answer;
  fast: Answer;
}

export interface RunOptions {
  seed: number;
  /** First case index (default 0). */
  from?: number;
  count: number;
  slots: Slot[];
  /** Stop after this many mismatches (default 5). */
  maxMismatches?: number;
  /** Called every `progressEvery` cases (default 10,000) and at the end. */
  onProgress?: (r: RunResult) => void;
  progressEvery?: number;
  /** Every case that is not 'same' (to look at the tolerated classes). */
  onDifference?: (m: Mismatch, verdict: string) => void;
}

export interface RunResult {
  /** Cases run (indices from .. from + ran - 1, all of them). */
  ran: number;
  /** Cases per verdict ('same', the tolerated classes, 'mismatch'). */
  classes: Record<string, number>;
  mismatches: Mismatch[];
  /**
   * Sides whose gateway did not close within 2 s (both sides alike, e.g. a body shorter than its
   * Content-Length: a case where only one side does is a mismatch), or whose upstream did not settle.
   */
  timedOut: number;
  unsettled: number;
  /** The first few cases that did not settle (to replay them). */
  slow: number[];
  ms: number;
}

/** Run cases from..from+count-1 of `seed` on the slots, one case per slot at a time. */
export async function runDifferential(o: RunOptions): Promise<RunResult> {
  const from = o.from ?? 0;
  const end = from + o.count;
  const max = o.maxMismatches ?? 5;
  const every = o.progressEvery ?? 10_000;
  const started = Date.now();
  const res: RunResult = { ran: 0, classes: {}, mismatches: [], timedOut: 0, unsettled: 0, slow: [], ms: 0 };
  let next = from;
  const worker = async (slot: Slot): Promise<void> => {
    while (next < end && res.mismatches.length < max) {
      const index = next++;
      const c = caseAt(o.seed, index);
      const { node, fast } = await runCase(slot, c);
      for (const a of [node, fast]) {
        if (a.timedOut) res.timedOut++;
        if (a.unsettled) res.unsettled++;
      }
      if ((node.unsettled || fast.unsettled) && res.slow.length < 20) res.slow.push(index);
      const v = classify(c, node, fast);
      res.classes[v] = (res.classes[v] ?? 0) + 1;
      if (v !== 'same') {
        const m: Mismatch = { index, bytes: c.bytes.toString('latin1'), cuts: c.cuts, halfClose: c.halfClose, node, fast };
        if (v === 'mismatch') res.mismatches.push(m);
        o.onDifference?.(m, v);
      }
      res.ran++;
      if (o.onProgress !== undefined && res.ran % every === 0) o.onProgress({ ...res, ms: Date.now() - started });
    }
  };
  await Promise.all(o.slots.map(worker));
  res.ms = Date.now() - started;
  res.mismatches.sort((a, b) => a.index - b.index);
  o.onProgress?.(res);
  return res;
}
