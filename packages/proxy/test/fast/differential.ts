/**
 * Differential fuzzing of the two HTTP/1.1 engines: generated and mutated raw requests (smuggling
 * classes, random header case / order / whitespace, pipelining, bodies in every framing), each split at
 * random byte boundaries, go to a node-engine gateway and a fast-engine gateway in front of the same
 * recording backend. Both must give the same client answer (status line, key headers, body per
 * response) and the backend must see the same requests (method, target, header list, body).
 *
 * Used by differential.test.ts (bounded, CI) and for long runs:
 *   FUZZ_COUNT=1000000 FUZZ_SEED=42 npx tap test/fast/differential.test.ts --timeout=0
 */
import http from 'node:http';
import net from 'node:net';
import type { RoutingTable } from '@gatehouse/core';
import { GatehouseRuntime } from '../../src/runtime.js';
import { loadBinding, type LlParser } from '../../src/fast/binding.js';
import { HOSTILE } from '../hardening/hostile-table.js';
import { backend, emptyStatus, freePort, table } from '../helpers/ir.js';

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

export interface Answer {
  responses: string[];
  seen: string[];
}

export interface Pair {
  nodePort: number;
  fastPort: number;
  seen: Seen[];
  close(): Promise<void>;
}

export async function startPair(): Promise<Pair> {
  const seen: Seen[] = [];
  const be = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    const headers: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (SKIP_UP.has(req.rawHeaders[i].toLowerCase())) continue;
      headers.push(req.rawHeaders[i] + ': ' + req.rawHeaders[i + 1]);
    }
    // recorded when the head arrives (a request cut by the gateway still counts as forwarded)
    const rec: Seen = { method: req.method ?? '', url: req.url ?? '', headers, body: '', complete: false };
    seen.push(rec);
    req.on('data', (c: Buffer) => {
      chunks.push(c);
      rec.body = Buffer.concat(chunks).toString('latin1');
    });
    req.on('end', () => {
      rec.complete = true;
      const body = `${req.method} ${req.url}`;
      res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': '1' });
      res.end(body);
    });
  });
  const sockets = new Set<net.Socket>();
  be.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => be.listen(0, '127.0.0.1', () => r()));
  const bePort = (be.address() as net.AddressInfo).port;
  const mk = async (engine: 'fast' | 'node'): Promise<{ rt: GatehouseRuntime; port: number }> => {
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
    return { rt, port: rt.boundPorts().get(tbl.ports[0].key)! };
  };
  const n = await mk('node');
  const f = await mk('fast');
  if (f.rt.httpEngine !== 'fast') throw new Error('the fast engine is not available on this Node');
  return {
    nodePort: n.port,
    fastPort: f.port,
    seen,
    close: async () => {
      await n.rt.close(50);
      await f.rt.close(50);
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => be.close(() => r()));
    },
  };
}

/** Ends most cases: a last request that closes the connection (so the client knows when to stop reading). */
const SENTINEL = Buffer.from('GET /__end HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n', 'latin1');

/** Send the bytes in pieces, then half-close (or not), and read until the gateway closes (bounded). */
export function exchange(port: number, bytes: Buffer, cuts: number[], halfClose: boolean, waitMs = 400): Promise<Buffer> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.setNoDelay(true);
    const out: Buffer[] = [];
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve(Buffer.concat(out));
    };
    const timer = setTimeout(finish, waitMs);
    s.on('data', (c: Buffer) => out.push(c));
    s.on('end', finish);
    s.on('close', finish);
    s.on('error', finish);
    s.once('connect', async () => {
      let at = 0;
      for (const c of [...cuts, bytes.length]) {
        if (c <= at) continue;
        if (!s.writable) break;
        s.write(bytes.subarray(at, c));
        at = c;
        await new Promise((r) => setImmediate(r));
      }
      if (!s.writable) return;
      if (halfClose) s.end();
      else s.write(SENTINEL);
    });
  });
}

/** The client-visible answers: one line per response (status, key headers, body), via llhttp. */
export function describeResponses(data: Buffer, methods: string[]): string[] {
  const b = loadBinding()!;
  const H = b.HTTPParser;
  const p = new H() as LlParser;
  const out: string[] = [];
  let cur = '';
  let body: Buffer[] = [];
  let i = 0;
  p[H.kOnHeadersComplete] = (_maj: number, _min: number, headers: string[], _m: number, _u: string, status: number) => {
    const keys: string[] = [];
    for (let k = 0; k < headers.length; k += 2) if (KEY_HEADERS.has(headers[k].toLowerCase())) keys.push(headers[k].toLowerCase() + '=' + headers[k + 1]);
    keys.sort();
    cur = `${status} ${keys.join(' ')}`;
    body = [];
    return status >= 200 && methods[i] === 'HEAD' ? 1 : 0;
  };
  p[H.kOnBody] = (c: Buffer) => void body.push(c);
  p[H.kOnMessageComplete] = () => {
    if (cur.startsWith('1')) return;
    out.push(cur + ' | ' + Buffer.concat(body).toString('latin1'));
    i++;
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

/**
 * The one documented difference: node:http hands every request of a packet to the engine at once, so a
 * request pipelined behind one the gateway refuses with `Connection: close` is still forwarded (its
 * answer is never delivered). The fast engine answers in order and forwards nothing after a closing
 * answer. Same client answers, and the fast engine's backend requests a strict subset of the node one's.
 */
function knownDivergence(node: string[], fast: string[]): boolean {
  if (node.length <= fast.length) return false;
  const rest = node.slice();
  for (const f of fast) {
    const i = rest.indexOf(f);
    if (i === -1) return false;
    rest.splice(i, 1);
  }
  return true;
}

/**
 * The second documented difference: a connection that gets an answer and then a malformed request.
 * node:http skips the 400 when the earlier response has not emitted 'finish' yet (timing-dependent);
 * the fast engine skips it only when the answer was written in the same packet. Both forward the same
 * requests and give the same answers; one side has one trailing 400 before the close.
 */
function trailingErrorOnly(a: string[], b: string[]): boolean {
  const [short, long] = a.length < b.length ? [a, b] : [b, a];
  if (long.length !== short.length + 1 || !long[long.length - 1].startsWith('400 ')) return false;
  for (let i = 0; i < short.length; i++) if (short[i] !== long[i]) return false;
  return true;
}

/**
 * The third: node:http writes a pipelined answer only after the previous response emitted 'finish', and
 * a client half-close abandons what is still queued; the fast engine has already written answers it
 * could give at once. With a half-close, the node answers must be a prefix of the fast ones.
 */
function isPrefix(a: string[], b: string[]): boolean {
  if (a.length >= b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface Mismatch {
  index: number;
  bytes: string;
  cuts: number[];
  halfClose: boolean;
  node: Answer;
  fast: Answer;
}

/** Run `count` cases from `seed`; returns the mismatches (at most `maxMismatches`). */
export async function runDifferential(pair: Pair, seed: number, count: number, maxMismatches = 5, onProgress?: (n: number, known: number) => void): Promise<Mismatch[]> {
  const r = rng(seed);
  const bad: Mismatch[] = [];
  let known = 0;
  let ran = 0;
  for (let i = 0; i < count && bad.length < maxMismatches; i++) {
    const { bytes, cuts, halfClose } = genCase(r);
    ran++;
    const methods: string[] = []; // no HEAD requests are generated
    const run = async (port: number): Promise<Answer> => {
      pair.seen.length = 0;
      const data = await exchange(port, bytes, cuts, halfClose);
      // requests the gateway forwarded may still be in flight to the backend when the client is cut
      await new Promise((res) => setTimeout(res, 2));
      // sorted: node:http forwards pipelined requests concurrently, the fast engine one after the other
      const seen = pair.seen.filter((s) => s.complete).map((s) => `${s.method} ${s.url} [${s.headers.join(' | ')}] ${JSON.stringify(s.body)}`).sort();
      return { responses: describeResponses(data, methods), seen };
    };
    const node = await run(pair.nodePort);
    const fast = await run(pair.fastPort);
    if (JSON.stringify(node.responses) === JSON.stringify(fast.responses) && knownDivergence(node.seen, fast.seen)) known++;
    else if (JSON.stringify(node.seen) === JSON.stringify(fast.seen) && trailingErrorOnly(node.responses, fast.responses)) known++;
    else if (halfClose && JSON.stringify(node.seen) === JSON.stringify(fast.seen) && isPrefix(node.responses, fast.responses)) known++;
    else if (JSON.stringify(node) !== JSON.stringify(fast)) bad.push({ index: i, bytes: bytes.toString('latin1'), cuts, halfClose, node, fast });
    if (onProgress !== undefined && i % 1000 === 999) onProgress(i + 1, known);
  }
  if (onProgress !== undefined) onProgress(ran, known);
  return bad;
}
