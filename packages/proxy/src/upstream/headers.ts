/**
 * Header lists as flat `[name, value, name, value, ...]` string arrays: the shape of `req.rawHeaders`,
 * of undici's `headers` option and of `res.writeHead(status, array)`. Keeping this one shape end to end
 * preserves the client's header case and order and never builds a header object twice.
 */

/** Hop-by-hop headers (RFC 9110 §7.6.1) plus the ones a proxy must never forward. Lowercased. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** True for a lowercased name that is hop-by-hop (including any `proxy-*`). */
export function isHopByHop(lower: string): boolean {
  return HOP_BY_HOP.has(lower) || (lower.length > 6 && lower.startsWith('proxy-'));
}

/**
 * Cheap pre-check: only names whose length is that of a hop-by-hop header (te 2, trailer/upgrade 7,
 * connection/keep-alive 10, transfer-encoding 17) or that start with `p` (proxy-*) can be one, so
 * other names are never lowercased.
 */
export function maybeHop(name: string): boolean {
  const n = name.length;
  if (n === 2 || n === 7 || n === 10 || n === 17) return true;
  const c = name.charCodeAt(0);
  return n > 6 && (c === 112 || c === 80);
}

/**
 * `name` equals the already-lowercased `lower` (letters, digits and `-`), ignoring case, without
 * allocating: a character matches when it is the same or its ASCII upper-case form. (`c | 0x20` maps
 * only `A`-`Z` onto `a`-`z`; the one other code it maps onto `-` is CR, which no parsed name holds.)
 */
export function sameName(name: string, lower: string): boolean {
  const n = lower.length;
  if (name.length !== n) return false;
  if (name === lower) return true;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    const l = lower.charCodeAt(i);
    if (c !== l && (c | 0x20) !== l) return false;
  }
  return true;
}

/**
 * What a header name is for a proxy, without lowercasing it: 1 = `connection`, 2 = another hop-by-hop
 * header (isHopByHop), 0 = an end-to-end header.
 */
export function hopKind(name: string): 0 | 1 | 2 {
  switch (name.length) {
    case 2:
      return sameName(name, 'te') ? 2 : 0;
    case 7:
      return sameName(name, 'trailer') || sameName(name, 'upgrade') ? 2 : 0;
    case 10:
      if (sameName(name, 'connection')) return 1;
      if (sameName(name, 'keep-alive')) return 2;
      break;
    case 17:
      if (sameName(name, 'transfer-encoding')) return 2;
      break;
  }
  const c = name.charCodeAt(0);
  return name.length > 6 && (c === 112 || c === 80) && sameName(name.slice(0, 6), 'proxy-') ? 2 : 0;
}

/** Tokens of a `Connection` header (lowercased), or null when it names nothing beyond keep-alive/close. */
export function connectionTokens(value: string | string[] | undefined): Set<string> | null {
  if (value === undefined) return null;
  if (typeof value === 'string' && value.length <= 10) {
    const v = value.toLowerCase();
    if (v === 'keep-alive' || v === 'close') return null;
  }
  const text = Array.isArray(value) ? value.join(',') : value;
  let out: Set<string> | null = null;
  for (const part of text.split(',')) {
    const t = part.trim().toLowerCase();
    if (t === '' || t === 'close' || t === 'keep-alive') continue;
    (out ??= new Set()).add(t);
  }
  return out;
}

/** Index of the first header named `lower` in a flat list, or -1. */
export function findHeader(list: string[], lower: string): number {
  for (let i = 0; i < list.length; i += 2) if (sameName(list[i], lower)) return i;
  return -1;
}

/** Remove every header named `lower` from a flat list (in place). */
export function removeHeader(list: string[], lower: string): void {
  let w = 0;
  for (let r = 0; r < list.length; r += 2) {
    if (sameName(list[r], lower)) continue;
    if (w !== r) {
      list[w] = list[r];
      list[w + 1] = list[r + 1];
    }
    w += 2;
  }
  list.length = w;
}

/** Replace (or append) the header named `lower`, keeping its position; later duplicates removed. */
export function setHeader(list: string[], name: string, lower: string, value: string): void {
  const i = findHeader(list, lower);
  if (i === -1) {
    list.push(name, value);
    return;
  }
  list[i + 1] = value;
  // remove later duplicates
  let w = i + 2;
  for (let r = i + 2; r < list.length; r += 2) {
    if (sameName(list[r], lower)) continue;
    if (w !== r) {
      list[w] = list[r];
      list[w + 1] = list[r + 1];
    }
    w += 2;
  }
  list.length = w;
}

/** Append a value: joined to the first existing header as `old,new` (no space), else a new header. */
export function addHeader(list: string[], name: string, lower: string, value: string): void {
  const i = findHeader(list, lower);
  if (i === -1) list.push(name, value);
  else list[i + 1] = list[i + 1] + ',' + value;
}

/**
 * Response headers from undici's raw Buffer pairs → a flat string list without hop-by-hop headers
 * (and without the headers the upstream's `Connection` names).
 */
export function responseHeaders(raw: Buffer[] | string[] | null): string[] {
  const out: string[] = [];
  if (raw === null) return out;
  let conn: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toString('latin1');
    const hop = hopKind(name);
    if (hop === 1) {
      conn = connectionTokens(raw[i + 1].toString('latin1'));
      continue;
    }
    if (hop === 2) continue;
    out.push(name, raw[i + 1].toString('latin1'));
  }
  if (conn !== null) for (const t of conn) removeHeader(out, t);
  return out;
}

/** `x-request-id` in any case (callers checked the length, 12). */
export function isRequestIdName(name: string): boolean {
  const c = name.charCodeAt(0);
  return (c === 120 || c === 88) && sameName(name, 'x-request-id');
}
