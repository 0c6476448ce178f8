/**
 * Request-target normalisation, done once per request before matching (docs/path-normalisation.md).
 *
 * The normalised path is what the matcher sees AND what is forwarded upstream, so a route limited to
 * `/public` can never be used to reach `/admin` on the backend: whatever the upstream would resolve,
 * we resolve first, and whatever is ambiguous we refuse (null → the engine answers 400).
 *
 * Rules, in order:
 *  1. Split the target at the first `?` (path / raw query; the query is forwarded unchanged) and drop a
 *     `#fragment` (clients must not send one; it never reaches an origin).
 *  2. Origin-form `/…` is taken as is; absolute-form `http(s)://authority/path` keeps only the path
 *     (`http://h` → `/`), the authority is returned for the engine to use as Host (RFC 9112 §3.2.2).
 *     Anything else (`*`, authority-form, relative) → null.
 *  3. Refused (null): raw control characters (0x00–0x1F, 0x7F) and spaces, raw `\`, invalid percent-encoding
 *     (`%zz`, `%4`), encoded control characters (`%00`–`%1F`, `%7F`), encoded `/` and `\`
 *     (`%2F`, `%5C`): backends disagree on whether they are separators, so we never forward them.
 *     Also refused: a segment that is `.` or `..` followed by `;params` (`/..;/admin`): some servlet
 *     containers strip `;…` and then resolve the dot segment.
 *  4. `%XX` of an unreserved character (ALPHA DIGIT - . _ ~) is decoded; every other `%xx` is kept
 *     encoded with upper-case hex (RFC 3986 §6.2.2). Raw bytes ≥ 0x80 (Node hands the target over as
 *     latin1) are percent-encoded.
 *  5. Empty segments are merged (`//admin` → `/admin`, `/a//b` → `/a/b`), as nginx does by default:
 *     leaving them lets `//admin` dodge a `/admin` route and still reach `/admin` upstream.
 *  6. `.` and `..` segments are resolved (RFC 3986 §5.2.4); `..` never climbs above the root. A path
 *     ending in a dot segment ends with `/` (`/a/b/..` → `/a/`).
 *
 * Fast path: a path with no `%`, `\`, `//`, `/.`, control or non-ASCII character is returned
 * unchanged — the same string, no allocation. That is nearly every real request.
 */

const enum C {
  PERCENT = 37,
  DOT = 46,
  SLASH = 47,
  BACKSLASH = 92,
  QUESTION = 63,
  HASH = 35,
  SEMI = 59,
}

/** Needs the slow path: `%`, `\`, control chars, DEL and non-ASCII. `/` and `.` are checked by context. */
function isSpecial(c: number): boolean {
  return c === C.PERCENT || c === C.BACKSLASH || c < 0x21 || c >= 0x7f || c === C.HASH || c === C.QUESTION;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

function isUnreserved(c: number): boolean {
  return (
    (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 46 || c === 95 || c === 126
  );
}

const HEX = '0123456789ABCDEF';

/**
 * Normalise a request path (no query string). Returns the input itself when it is already normal, the
 * normalised path otherwise, or null when the path is refused (→ 400). Never throws.
 */
export function normalizePath(path: string): string | null {
  const len = path.length;
  if (len === 0 || path.charCodeAt(0) !== C.SLASH) return null;
  // ---- fast path (hot: change with care) — one scan, no allocation
  let prev = C.SLASH;
  for (let i = 1; i < len; i++) {
    const c = path.charCodeAt(i);
    if (isSpecial(c) || (prev === C.SLASH && (c === C.SLASH || c === C.DOT))) return normalizeSlow(path);
    prev = c;
  }
  return path;
}

function normalizeSlow(path: string): string | null {
  // Pass 1: percent-decoding of unreserved characters, hex case, refusals. Output as a string.
  let s = '';
  const len = path.length;
  for (let i = 0; i < len; i++) {
    const c = path.charCodeAt(i);
    if (c === C.PERCENT) {
      if (i + 2 >= len) return null;
      const h = hexValue(path.charCodeAt(i + 1));
      const l = hexValue(path.charCodeAt(i + 2));
      if (h < 0 || l < 0) return null;
      const v = h * 16 + l;
      if (v < 0x20 || v === 0x7f || v === C.SLASH || v === C.BACKSLASH) return null;
      s += isUnreserved(v) ? String.fromCharCode(v) : '%' + HEX[h] + HEX[l];
      i += 2;
    } else if (c <= 0x20 || c === 0x7f || c === C.BACKSLASH) {
      return null; // control characters, and a raw space (never valid in a request-target)
    } else if (c === C.HASH || c === C.QUESTION) {
      break; // fragment (or a query the caller did not split off): not part of the path
    } else if (c >= 0x80) {
      if (c > 0xff) return null; // cannot come off the wire as latin1: refuse rather than guess
      s += '%' + HEX[c >> 4] + HEX[c & 15];
    } else {
      s += path[i];
    }
  }
  // Pass 2: segments. Empty segments merge; dot segments resolve; `..` stops at the root.
  const out: string[] = [];
  let trailingSlash = false;
  let start = 1;
  const n = s.length;
  while (start <= n) {
    let end = s.indexOf('/', start);
    if (end < 0) end = n;
    const seg = s.slice(start, end);
    const last = end >= n;
    if (seg === '') {
      if (last) trailingSlash = out.length > 0;
    } else if (seg === '.') {
      if (last) trailingSlash = out.length > 0;
    } else if (seg === '..') {
      out.pop();
      if (last) trailingSlash = out.length > 0;
    } else {
      if (seg.charCodeAt(0) === C.DOT && isDotWithParams(seg)) return null;
      out.push(seg);
      if (last) trailingSlash = false;
    }
    start = end + 1;
  }
  const result = out.length === 0 ? '/' : '/' + out.join('/') + (trailingSlash ? '/' : '');
  return result === path ? path : result;
}

/** `.;x`, `..;x`, `.%3Bx`, `..%3Bx`: a dot segment once a servlet container strips its `;params`. */
function isDotWithParams(seg: string): boolean {
  const i = seg.charCodeAt(1) === C.DOT ? 2 : 1;
  return seg.charCodeAt(i) === C.SEMI || seg.startsWith('%3B', i);
}

/** The parts of a request target the engine needs. */
export interface RequestTarget {
  /** Normalised path (what is matched and forwarded). */
  path: string;
  /** Raw query string without `?` ('' when none): forwarded unchanged. */
  query: string;
  /** Authority of an absolute-form target (`http://host:8080/x` → `host:8080`), else null. */
  authority: string | null;
}

/**
 * Split and normalise a request target (`req.url`). Null when it is refused (→ 400). Never throws.
 * Allocates the result object; the path itself follows `normalizePath`'s no-allocation fast path.
 */
export function parseRequestTarget(target: string): RequestTarget | null {
  let authority: string | null = null;
  let rest = target;
  if (target.charCodeAt(0) !== C.SLASH) {
    // absolute-form: scheme "://" authority [path-abempty] [ "?" query ]
    const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(target);
    if (m === null) return null;
    authority = m[1]!;
    if (authority === '') return null;
    rest = target.slice(m[0].length);
    if (rest === '' || rest.charCodeAt(0) === C.QUESTION) rest = '/' + rest;
    else if (rest.charCodeAt(0) !== C.SLASH) return null; // '#'
  }
  const q = rest.indexOf('?');
  let rawPath = q < 0 ? rest : rest.slice(0, q);
  let query = q < 0 ? '' : rest.slice(q + 1);
  const hash = query.indexOf('#');
  if (hash >= 0) query = query.slice(0, hash);
  for (let i = 0; i < query.length; i++) {
    const c = query.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return null;
  }
  const path = normalizePath(rawPath);
  if (path === null) return null;
  rawPath = path;
  return { path: rawPath, query, authority };
}

/**
 * A configured Exact/PathPrefix value in the form requests are compared in: normalised like a request
 * path (so `/%7Euser` matches a request for `/~user`), and for PathPrefix without its trailing `/`
 * (`/foo/` ≡ `/foo`; `/` stays `/`). Null when no normalised request could ever equal it.
 */
export function normalizeMatchValue(type: 'Exact' | 'PathPrefix', value: string): string | null {
  const v = normalizePath(value);
  if (v === null || type === 'Exact' || v.length === 1 || !v.endsWith('/')) return v;
  return v.slice(0, -1);
}
