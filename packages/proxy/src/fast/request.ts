/**
 * The request-side decisions of the fast engine that do not depend on sockets: the RequestHead built
 * from llhttp's raw header list, Host and target validation, and the upstream header list. They follow
 * engine/exchange.ts rule for rule (the node engine) so both engines answer alike; the differential
 * fuzzer (test/fast/differential.test.ts) checks that they do.
 */
import type { RequestHead } from '@gatehouse/core';
import type { FilterPlan } from '../filters/plan.js';
import { connectionTokens, hopKind, isRequestIdName, removeHeader, sameName, setHeader } from '../upstream/headers.js';

/** Header names whose duplicates Node's `req.headers` drops (first wins), as node:http does. */
const FIRST_WINS = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
]);

/** Node's `req.headers` object from a raw list, built only when a matcher or filter reads it. */
export function headersObject(raw: readonly string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    const value = raw[i + 1];
    const have = out[name];
    if (have === undefined) {
      out[name] = name === 'set-cookie' ? [value] : value;
      continue;
    }
    if (name === 'set-cookie') (have as string[]).push(value);
    else if (name === 'cookie') out[name] = have + '; ' + value;
    else if (!FIRST_WINS.has(name)) out[name] = have + ', ' + value;
  }
  return out;
}

/** The one request model (core's RequestHead); `headers` is lazy. */
export class FastHead implements RequestHead {
  method = '';
  host = '';
  path = '';
  query = '';
  raw: string[] = [];
  #headers: Record<string, string | string[]> | null = null;
  get headers(): Record<string, string | string[]> {
    return (this.#headers ??= headersObject(this.raw));
  }
}



// What a request field is for the upstream request (classify()).
const PLAIN = 0;
const HOST = 1;
const DROP = 2; // Expect, the client's x-request-id when ids are on, hop-by-hop fields
const XFF = 3;
const XFH = 4;
const XFP = 5;
const CONNECTION = 6;

/** One request field name, compared without lowercasing it (sameName). */
function classify(name: string, ids: boolean): number {
  switch (name.length) {
    case 4:
      if (sameName(name, 'host')) return HOST;
      break;
    case 6:
      if (sameName(name, 'expect')) return DROP;
      break;
    case 12:
      // the client's x-request-id is replaced by the kept/generated one (appended at the end)
      if (ids && isRequestIdName(name)) return DROP;
      break;
    case 15:
      if (sameName(name, 'x-forwarded-for')) return XFF;
      break;
    case 16:
      if (sameName(name, 'x-forwarded-host')) return XFH;
      break;
    case 17:
      if (sameName(name, 'x-forwarded-proto')) return XFP;
      break;
  }
  const hop = hopKind(name);
  return hop === 1 ? CONNECTION : hop === 2 ? DROP : PLAIN;
}

/** X-Forwarded-For/-Proto/-Host values: the client's (when trusted) extended with this hop's. */
let fwdFor = '';
let fwdProto = '';
let fwdHost = '';
function forwarded(raw: readonly string[], trust: boolean, client: string, secure: boolean, rawHost: string): void {
  let xff: string | null = null;
  let xfp: string | null = null;
  let xfh: string | null = null;
  if (trust) {
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i];
      const n = name.length;
      if (n < 15 || n > 17) continue;
      const kind = classify(name, false);
      if (kind === XFF) xff = xff === null ? raw[i + 1] : xff + ', ' + raw[i + 1];
      else if (kind === XFP) xfp ??= raw[i + 1];
      else if (kind === XFH) xfh ??= raw[i + 1];
    }
  }
  if (client.startsWith('::ffff:')) client = client.slice(7);
  fwdFor = xff === null ? client : xff + ', ' + client;
  fwdProto = xfp ?? (secure ? 'https' : 'http');
  fwdHost = xfh ?? rawHost;
}

/**
 * The header list sent upstream: hop-by-hop headers and those the client's Connection names removed,
 * Host (possibly rewritten), X-Forwarded-For/-Proto/-Host, then the RequestHeaderModifiers — the same
 * list, in the same order, as the node engine's `Exchange.buildHeaders`.
 */
export function upstreamHeaders(
  raw: readonly string[],
  plan: FilterPlan,
  rawHost: string,
  client: string,
  secure: boolean,
  trust: boolean,
  requestId: string | null,
  ids: boolean,
): string[] {
  const out: string[] = [];
  const hostValue = plan.hostRewrite ?? rawHost;
  let conn: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    switch (classify(name, ids)) {
      case PLAIN:
        out.push(name, raw[i + 1]);
        break;
      case HOST:
        out.push(name, hostValue);
        break;
      case CONNECTION:
        conn = connectionTokens(raw[i + 1]);
        break;
    }
  }
  if (conn !== null) for (const t of conn) if (t !== 'host') removeHeader(out, t);
  forwarded(raw, trust, client, secure, rawHost);
  out.push('x-forwarded-for', fwdFor, 'x-forwarded-proto', fwdProto, 'x-forwarded-host', fwdHost);
  if (requestId !== null) out.push('x-request-id', requestId);
  const mods = plan.request;
  for (let i = 0; i < mods.length; i++) mods[i].apply(out);
  if (plan.hostRewrite !== null && mods.length > 0) setHeader(out, 'host', 'host', plan.hostRewrite);
  return out;
}

/**
 * The same fields as upstreamHeaders() without the Host field, as head text (`name: value\r\n`...), for
 * a request no filter edits: no list is built. Null when the client's Connection names further fields
 * (upstreamHeaders() then removes them).
 */
export function upstreamFieldsText(raw: readonly string[], rawHost: string, client: string, secure: boolean, trust: boolean, requestId: string | null, ids: boolean): string | null {
  let text = '';
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const kind = classify(name, ids);
    if (kind === PLAIN) text += name + ': ' + raw[i + 1] + '\r\n';
    else if (kind === CONNECTION && connectionTokens(raw[i + 1]) !== null) return null;
  }
  forwarded(raw, trust, client, secure, rawHost);
  text += 'x-forwarded-for: ' + fwdFor + '\r\nx-forwarded-proto: ' + fwdProto + '\r\nx-forwarded-host: ' + fwdHost + '\r\n';
  if (requestId !== null) text += 'x-request-id: ' + requestId + '\r\n';
  return text;
}

export { isRequestIdName, sameName };

