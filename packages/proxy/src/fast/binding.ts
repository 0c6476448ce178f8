/**
 * Node's own llhttp binding (`process.binding('http_parser')`, the parser behind node:http), and the
 * contract the fast engine relies on. The binding is internal: its shape may change between Node
 * releases, so `checkBinding()` exercises every part the engine uses (constructor, `initialize`,
 * `execute`, `finish`, callback slot indices and argument order, body Buffers, strict defaults) on
 * known inputs. Gatehouse runs it once at start-up (and CI runs it as a test); when anything differs
 * the runtime falls back to the node:http engine and says why, once.
 */

/** The callback slots and methods of the binding's parser object, as the engine uses them. */
export interface LlParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  /** Bytes parsed, or an Error with `code` (`HPE_*`) and `bytesParsed`. */
  execute(data: Buffer): number | ParseError;
  /** Signals EOF (completes close-delimited messages). */
  finish(): undefined | ParseError;
  free(): void;
  close(): void;
  /** Read a stream handle directly (node:http's path): each read is parsed and reported to kOnExecute. */
  consume(handle: object): void;
  unconsume(): void;
  /** A copy of the read being reported to kOnExecute. */
  getCurrentBuffer(): Buffer;
  /** The current message's head was complete (false from a message's first byte until its head ends). */
  headersCompleted(): boolean;
  [slot: number]: unknown;
}

export interface ParseError extends Error {
  code: string;
  bytesParsed: number;
  reason?: string;
}

export interface LlBinding {
  HTTPParser: {
    new (): LlParser;
    REQUEST: number;
    RESPONSE: number;
    kOnMessageBegin: number;
    kOnHeaders: number;
    kOnHeadersComplete: number;
    kOnBody: number;
    kOnMessageComplete: number;
    kOnExecute: number;
  };
  /** Method names by the index llhttp reports. */
  methods: string[];
}

export interface BindingCheck {
  ok: boolean;
  /** Why it is not usable (first failed check). */
  reason: string;
  binding: LlBinding | null;
  /**
   * Whether a response body of known length can be read around the parser: returning 2 from
   * kOnHeadersComplete ends the message at its head (execute returns the head's length) and
   * `initialize()` re-arms the parser for the next response. When false, bodies go through kOnBody.
   */
  rawBodies?: boolean;
}

/** The binding, or null when this Node has none (never throws, never prints the deprecation warning). */
export function loadBinding(): LlBinding | null {
  try {
    const p = process as unknown as { binding?: (name: string) => unknown };
    if (typeof p.binding !== 'function') return null;
    // process.binding may warn (DEP0111) under --pending-deprecation; keep start-up output clean.
    const emit = process.emitWarning;
    process.emitWarning = () => undefined;
    try {
      return p.binding('http_parser') as LlBinding;
    } finally {
      process.emitWarning = emit;
    }
  } catch {
    return null;
  }
}

interface Seen {
  begins: number;
  heads: unknown[][];
  bodies: Buffer[];
  completes: number;
}

function probe(b: LlBinding, type: number, text: string, onHead?: (args: unknown[]) => number): { ret: number | ParseError; seen: Seen; parser: LlParser } {
  const H = b.HTTPParser;
  const parser = new H();
  const seen: Seen = { begins: 0, heads: [], bodies: [], completes: 0 };
  parser[H.kOnMessageBegin] = () => {
    seen.begins++;
  };
  parser[H.kOnHeaders] = () => undefined;
  parser[H.kOnHeadersComplete] = (...args: unknown[]) => {
    seen.heads.push(args);
    return onHead?.(args) ?? 0;
  };
  parser[H.kOnBody] = (...args: unknown[]) => {
    seen.bodies.push(args[0] as Buffer);
  };
  parser[H.kOnMessageComplete] = () => {
    seen.completes++;
  };
  parser.initialize(type, {}, 0, 0);
  const ret = parser.execute(Buffer.from(text, 'latin1'));
  return { ret, seen, parser };
}

/** Runs the contract. Never throws. */
export function checkBinding(binding: LlBinding | null = loadBinding()): BindingCheck {
  const fail = (reason: string): BindingCheck => ({ ok: false, reason, binding: null });
  if (binding === null || typeof binding !== 'object') return fail('process.binding("http_parser") is not available');
  try {
    const H = binding.HTTPParser;
    if (typeof H !== 'function') return fail('HTTPParser is not a constructor');
    const slots = ['kOnMessageBegin', 'kOnHeaders', 'kOnHeadersComplete', 'kOnBody', 'kOnMessageComplete', 'kOnExecute'] as const;
    for (let i = 0; i < slots.length; i++) if (H[slots[i]] !== i) return fail(`callback slot ${slots[i]} is not ${i}`);
    if (typeof H.REQUEST !== 'number' || typeof H.RESPONSE !== 'number' || H.REQUEST === H.RESPONSE) return fail('REQUEST/RESPONSE constants');
    for (const m of ['initialize', 'execute', 'finish', 'free', 'close', 'consume', 'unconsume', 'getCurrentBuffer', 'headersCompleted'] as const) {
      if (typeof (H.prototype as Record<string, unknown>)[m] !== 'function') return fail(`HTTPParser.prototype.${m} is missing`);
    }
    if (!Array.isArray(binding.methods) || binding.methods.indexOf('GET') < 0) return fail('methods table');
    // 1. two pipelined requests: argument order of kOnHeadersComplete, body as a Buffer, completes
    const req = 'POST /a?b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.0\r\nhost: y\r\n\r\n';
    const r1 = probe(binding, H.REQUEST, req);
    r1.parser.close();
    if (r1.ret !== req.length) return fail('execute did not parse two pipelined requests');
    if (r1.seen.begins !== 2 || r1.seen.completes !== 2 || r1.seen.heads.length !== 2) return fail('callback counts for pipelined requests');
    const [maj, min, headers, method, url, , , upgrade, keepAlive] = r1.seen.heads[0];
    if (maj !== 1 || min !== 1) return fail('kOnHeadersComplete: version arguments');
    if (!Array.isArray(headers) || headers.join('|') !== 'Host|x|Content-Length|3') return fail('kOnHeadersComplete: raw header list');
    if (typeof method !== 'number' || binding.methods[method] !== 'POST') return fail('kOnHeadersComplete: method index');
    if (url !== '/a?b' || upgrade !== false || keepAlive !== true) return fail('kOnHeadersComplete: url / upgrade / keep-alive');
    if (r1.seen.heads[1][8] !== false || r1.seen.heads[1][1] !== 0) return fail('HTTP/1.0 keep-alive default');
    const body = r1.seen.bodies[0];
    if (r1.seen.bodies.length !== 1 || !Buffer.isBuffer(body) || body.toString() !== 'abc') return fail('kOnBody(buffer) signature');
    // 2. strict defaults: request smuggling samples are refused
    const smuggle = [
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd',
      'GET / HTTP/1.1\r\nHost: x\r\n folded: header\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;\x01\r\nabc\r\n0\r\n\r\n',
    ];
    for (const s of smuggle) {
      const r = probe(binding, H.REQUEST, s);
      r.parser.close();
      if (!(r.ret instanceof Error) || typeof (r.ret as ParseError).code !== 'string' || !(r.ret as ParseError).code.startsWith('HPE_')) {
        return fail('strict parser accepted a smuggling sample: ' + JSON.stringify(s.slice(0, 60)));
      }
    }
    // 3. upgrade: execute stops after the head
    const up = 'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nRAW';
    const r3 = probe(binding, H.REQUEST, up);
    r3.parser.close();
    if (r3.ret !== up.length - 3 || r3.seen.heads[0]?.[7] !== true) return fail('upgrade: execute must stop after the head');
    // 4. responses: status argument, 1xx then final, return 1 skips the body, finish() ends close-delimited
    const res = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n';
    const r4 = probe(binding, H.RESPONSE, res, (a) => (a[5] === 200 ? 1 : 0));
    r4.parser.close();
    if (r4.ret !== res.length || r4.seen.heads.length !== 2 || r4.seen.heads[0][5] !== 100 || r4.seen.completes !== 2) {
      return fail('response: 1xx, status argument or skip-body return value');
    }
    const r5 = probe(binding, H.RESPONSE, 'HTTP/1.1 200 OK\r\n\r\nhello');
    const fin = r5.parser.finish();
    r5.parser.close();
    if (fin instanceof Error || r5.seen.completes !== 1 || r5.seen.bodies[0]?.toString() !== 'hello') return fail('response: finish() on a close-delimited body');
    return { ok: true, reason: '', binding, rawBodies: rawBodiesHold(binding) };
  } catch (err) {
    return fail('probe threw: ' + (err as Error).message);
  }
}

/** The part of the contract behind `rawBodies`; false on any difference. */
function rawBodiesHold(binding: LlBinding): boolean {
  const H = binding.HTTPParser;
  const head = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n';
  const next = 'HTTP/1.1 204 No Content\r\nX: y\r\n\r\n';
  const r = probe(binding, H.RESPONSE, head + 'hello' + next, () => 2);
  try {
    if (r.ret !== head.length || r.seen.heads.length !== 1 || r.seen.bodies.length !== 0 || r.seen.completes !== 1) return false;
    // re-armed, the parser reads the next response as usual
    r.parser.initialize(H.RESPONSE, {}, 0, 0);
    const ret = r.parser.execute(Buffer.from(next, 'latin1'));
    const seen: Seen = r.seen; // (counts changed under the callbacks)
    return ret === next.length && seen.heads.length === 2 && seen.heads[1][5] === 204 && seen.completes === 2;
  } catch {
    return false;
  } finally {
    r.parser.close();
  }
}

let cached: BindingCheck | null = null;

/** The contract result for this process (computed once). */
export function bindingContract(): BindingCheck {
  cached ??= checkBinding();
  return cached;
}
