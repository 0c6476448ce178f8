/**
 * A defensive parser for the TLS ClientHello, used to route TLS connections by SNI before (or without)
 * terminating them. Pure: it works on the bytes received so far and never throws, so the data plane can
 * call it after every TCP segment and get one of three answers:
 *
 * - `need-more`: the bytes so far are a valid prefix of a ClientHello; read more (the caller bounds how
 *   many bytes and how long).
 * - `ok`: the ClientHello is complete; `sni` is the `host_name` of the server_name extension (lowercased,
 *   trailing dot removed) or null when the client sent none; `alpn` is the offered protocol list.
 * - `invalid`: not a TLS ClientHello (plain HTTP on a TLS port, SSLv2, garbage, malformed lengths).
 *
 * A ClientHello may span several TCP segments (the caller re-parses the growing buffer) and several TLS
 * records (a handshake message may be fragmented across consecutive handshake records; large post-quantum
 * key shares make this common), so the handshake bytes are reassembled from consecutive records first.
 *
 * Wire format (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2, RFC 6066 §3, RFC 7301 §3.1):
 *   record    = type(1)=22 | version(2) | length(2) | fragment
 *   handshake = msg_type(1)=1 | length(3) | body
 *   body      = legacy_version(2) | random(32) | session_id<0..32> | cipher_suites<2..2^16-2>
 *               | compression_methods<1..2^8-1> | [ extensions<0..2^16-1> ]
 */

export type ClientHelloResult =
  | { status: 'need-more' }
  | { status: 'ok'; sni: string | null; alpn: string[] }
  | { status: 'invalid'; reason: string };

const RECORD_HEADER = 5;
const RECORD_HANDSHAKE = 22;
/** Plaintext records carry at most 2^14 bytes (RFC 8446 §5.1); anything larger is not a sane peer. */
const MAX_RECORD = 16384;
/**
 * Real clients send the ClientHello in one or a few records. Capping the count keeps each re-parse cheap
 * (the walk is linear in records) against a peer that fragments into 1-byte records on purpose.
 */
const MAX_RECORDS = 256;
const HANDSHAKE_CLIENT_HELLO = 1;
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
const NAME_TYPE_HOST = 0;

const NEED_MORE: ClientHelloResult = Object.freeze({ status: 'need-more' }) as ClientHelloResult;

function invalid(reason: string): ClientHelloResult {
  return { status: 'invalid', reason };
}

/**
 * Parse the first TLS handshake message of a connection. `buf` is every byte received so far, from the
 * first byte of the connection. Extra bytes after the ClientHello are ignored.
 */
export function parseClientHello(buf: Uint8Array): ClientHelloResult {
  try {
    return parse(buf);
  } catch {
    // Every access below is bounds-checked; this is a last line of defence so the hot path can rely on
    // "never throws" even if a future edit misses a check.
    return invalid('internal parser error');
  }
}

function parse(buf: Uint8Array): ClientHelloResult {
  const n = buf.length;
  if (n === 0) return NEED_MORE;
  // Check the first bytes as soon as they arrive, so a plain-text client is rejected without waiting.
  if (buf[0] !== RECORD_HANDSHAKE) {
    return invalid(buf[0]! & 0x80 ? 'SSLv2-style record (not supported)' : 'not a TLS handshake record');
  }
  if (n >= 2 && buf[1] !== 3) return invalid('unsupported record version');

  // Pass 1: walk the records until the complete records hold the whole handshake message. Its 4-byte
  // header may itself be split across records, so header bytes are gathered record by record.
  let off = 0;
  let hsLen = -1; // handshake message length including its 4-byte header, once known
  let gathered = 0; // bytes of the 4-byte handshake header seen so far
  let covered = 0; // handshake bytes in complete records
  const header = [0, 0, 0, 0];
  for (let records = 0; ; records++) {
    if (records >= MAX_RECORDS) return invalid('ClientHello spread over too many records');
    if (off + RECORD_HEADER > n) {
      // Validate what we can of a partial record header, so garbage is rejected early.
      if (off < n && buf[off] !== RECORD_HANDSHAKE) return invalid('non-handshake record inside ClientHello');
      if (off + 1 < n && buf[off + 1] !== 3) return invalid('unsupported record version');
      return NEED_MORE;
    }
    if (buf[off] !== RECORD_HANDSHAKE) return invalid('non-handshake record inside ClientHello');
    if (buf[off + 1] !== 3) return invalid('unsupported record version');
    const recLen = (buf[off + 3]! << 8) | buf[off + 4]!;
    if (recLen === 0) return invalid('empty handshake record');
    if (recLen > MAX_RECORD) return invalid('record too long');
    const start = off + RECORD_HEADER;
    const avail = Math.min(recLen, n - start);
    for (let i = 0; i < avail && gathered < 4; i++) header[gathered++] = buf[start + i]!;
    if (gathered >= 1 && header[0] !== HANDSHAKE_CLIENT_HELLO) {
      return invalid('first handshake message is not a ClientHello');
    }
    if (hsLen < 0 && gathered >= 4) {
      const bodyLen = (header[1]! << 16) | (header[2]! << 8) | header[3]!;
      // legacy_version + random + session_id<> + one cipher suite + one compression method
      if (bodyLen < 2 + 32 + 1 + 2 + 2 + 1 + 1) return invalid('ClientHello too short');
      hsLen = 4 + bodyLen;
    }
    if (avail < recLen) return NEED_MORE; // this record is still arriving
    covered += recLen;
    if (hsLen >= 0 && covered >= hsLen) break;
    off = start + recLen;
  }

  // Pass 2: reassemble exactly hsLen handshake bytes from the records.
  const msg = new Uint8Array(hsLen);
  let filled = 0;
  off = 0;
  while (filled < hsLen) {
    const recLen = (buf[off + 3]! << 8) | buf[off + 4]!;
    const take = Math.min(recLen, hsLen - filled);
    msg.set(buf.subarray(off + RECORD_HEADER, off + RECORD_HEADER + take), filled);
    filled += take;
    off += RECORD_HEADER + recLen;
  }
  return parseBody(msg, 4, hsLen);
}

/** A bounds-checked reader over `msg[pos, end)`. */
class Reader {
  constructor(
    readonly b: Uint8Array,
    public pos: number,
    readonly end: number,
  ) {}
  left(): number {
    return this.end - this.pos;
  }
  u8(): number {
    if (this.pos + 1 > this.end) return -1;
    return this.b[this.pos++]!;
  }
  u16(): number {
    if (this.pos + 2 > this.end) return -1;
    const v = (this.b[this.pos]! << 8) | this.b[this.pos + 1]!;
    this.pos += 2;
    return v;
  }
  skip(len: number): boolean {
    if (len < 0 || this.pos + len > this.end) return false;
    this.pos += len;
    return true;
  }
  /** A sub-reader over the next `len` bytes (and advance past them), or null when they are not there. */
  sub(len: number): Reader | null {
    if (len < 0 || this.pos + len > this.end) return null;
    const r = new Reader(this.b, this.pos, this.pos + len);
    this.pos += len;
    return r;
  }
}

function parseBody(msg: Uint8Array, start: number, end: number): ClientHelloResult {
  const r = new Reader(msg, start, end);
  const version = r.u16();
  if (version >>> 8 !== 3) return invalid('unsupported ClientHello version');
  if (!r.skip(32)) return invalid('truncated random');
  const sidLen = r.u8();
  if (sidLen < 0 || sidLen > 32 || !r.skip(sidLen)) return invalid('bad session id');
  const csLen = r.u16();
  if (csLen < 2 || csLen % 2 !== 0 || !r.skip(csLen)) return invalid('bad cipher suites');
  const cmLen = r.u8();
  if (cmLen < 1 || !r.skip(cmLen)) return invalid('bad compression methods');
  // Extensions are optional (a bare TLS 1.0-style hello has none): then there is no SNI and no ALPN.
  if (r.left() === 0) return { status: 'ok', sni: null, alpn: [] };
  const extLen = r.u16();
  if (extLen < 0) return invalid('truncated extensions length');
  const exts = r.sub(extLen);
  if (!exts) return invalid('extensions overrun the ClientHello');
  // Trailing bytes after the extensions are tolerated (as most TLS stacks do).

  let sni: string | null = null;
  let alpn: string[] = [];
  let sawSni = false;
  let sawAlpn = false;
  while (exts.left() > 0) {
    const type = exts.u16();
    const len = exts.u16();
    if (type < 0 || len < 0) return invalid('truncated extension header');
    const data = exts.sub(len);
    if (!data) return invalid('extension overruns the extensions block');
    if (type === EXT_SERVER_NAME) {
      if (sawSni) return invalid('duplicate server_name extension');
      sawSni = true;
      const res = parseServerName(data);
      if (typeof res !== 'string' && res !== null) return res;
      sni = res;
    } else if (type === EXT_ALPN) {
      if (sawAlpn) return invalid('duplicate ALPN extension');
      sawAlpn = true;
      const res = parseAlpn(data);
      if (!Array.isArray(res)) return res;
      alpn = res;
    }
  }
  return { status: 'ok', sni, alpn };
}

/** server_name extension → the lowercased host name, null when no host_name entry, or an invalid result. */
function parseServerName(r: Reader): string | null | ClientHelloResult {
  // A server may receive an empty server_name extension (in a ServerHello); from a client, the list
  // must be present. Treat an empty extension as "no SNI" rather than rejecting the connection.
  if (r.left() === 0) return null;
  const listLen = r.u16();
  const list = listLen < 0 ? null : r.sub(listLen);
  if (!list || r.left() !== 0) return invalid('bad server_name list length');
  let host: string | null = null;
  while (list.left() > 0) {
    const nameType = list.u8();
    const nameLen = list.u16();
    if (nameType < 0 || nameLen < 0) return invalid('truncated server_name entry');
    const name = list.sub(nameLen);
    if (!name) return invalid('server_name entry overruns the list');
    // Only host_name (0) is defined; other types are skipped. The first host_name wins (RFC 6066 forbids
    // more than one of the same type).
    if (nameType !== NAME_TYPE_HOST || host !== null) continue;
    const decoded = decodeHostName(name.b, name.pos, name.end);
    if (decoded === null) return invalid('server_name is not a valid DNS host name');
    host = decoded;
  }
  return host;
}

/**
 * ASCII host name → lowercased, without a trailing dot. Only letters, digits, `-`, `_`, `.` are accepted
 * (RFC 6066 says the name is an ASCII DNS host name, IDNs as A-labels); anything else — NUL bytes,
 * spaces, UTF-8 — would let a client confuse hostname matching, so it is rejected.
 */
function decodeHostName(b: Uint8Array, start: number, end: number): string | null {
  let stop = end;
  if (stop > start && b[stop - 1] === 0x2e) stop--; // trailing dot: `example.com.` is `example.com`
  const len = stop - start;
  if (len <= 0 || len > 253) return null;
  let s = '';
  let labelLen = 0;
  for (let i = start; i < stop; i++) {
    let c = b[i]!;
    if (c === 0x2e) {
      if (labelLen === 0) return null; // empty label
      labelLen = 0;
    } else {
      if (c >= 0x41 && c <= 0x5a) c += 0x20; // A-Z → a-z
      const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f;
      if (!ok) return null;
      if (++labelLen > 63) return null;
    }
    s += String.fromCharCode(c);
  }
  return s;
}

/** ALPN extension → protocol names (decoded as latin1 so every byte maps to one char), or invalid. */
function parseAlpn(r: Reader): string[] | ClientHelloResult {
  const listLen = r.u16();
  const list = listLen < 2 ? null : r.sub(listLen);
  if (!list || r.left() !== 0) return invalid('bad ALPN list length');
  const out: string[] = [];
  while (list.left() > 0) {
    const len = list.u8();
    if (len <= 0) return invalid('empty ALPN protocol name');
    const name = list.sub(len);
    if (!name) return invalid('ALPN protocol name overruns the list');
    let s = '';
    for (let i = name.pos; i < name.end; i++) s += String.fromCharCode(name.b[i]!);
    out.push(s);
  }
  return out;
}
