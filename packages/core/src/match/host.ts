/**
 * Hostnames: request Host normalisation and hostname tables (exact, `*.suffix` wildcards, catch-all).
 *
 * Wildcards follow Gateway API (features.md §9.1): `*.example.com` covers ONE OR MORE labels
 * (`a.example.com`, `a.b.example.com`, not `example.com`). The most specific pattern wins: exact, then
 * the longest wildcard suffix, then the catch-all.
 *
 * Lookups cost O(length of the host), not O(patterns), and allocate nothing: wildcard suffixes are found
 * through a hash of the host's suffixes computed right-to-left in one pass (no `slice`), then confirmed
 * with `startsWith` at that offset.
 */

/**
 * Host header → matching form: lowercase, port stripped (`example.com:8080`, `[::1]:80` → `[::1]`),
 * trailing dot stripped. Returns the input itself when nothing changes. Never throws; '' for none.
 */
export function normalizeHost(raw: string | undefined | null): string {
  if (raw == null) return '';
  const len = raw.length;
  let end = len;
  if (len > 0 && raw.charCodeAt(0) === 91 /* [ */) {
    const close = raw.indexOf(']');
    if (close > 0) end = close + 1;
  } else {
    const colon = raw.indexOf(':');
    if (colon >= 0) end = colon;
  }
  if (end > 0 && raw.charCodeAt(end - 1) === 46 /* . */) end--;
  let upper = false;
  for (let i = 0; i < end; i++) {
    const c = raw.charCodeAt(i);
    if (c >= 65 && c <= 90) {
      upper = true;
      break;
    }
  }
  if (end === len && !upper) return raw;
  const s = end === len ? raw : raw.slice(0, end);
  return upper ? s.toLowerCase() : s;
}

/** Whether a hostname pattern (`*`, `*.suffix`, exact; null = any) covers a normalised host. */
export function hostnameCovers(pattern: string | null, host: string): boolean {
  if (pattern === null || pattern === '*') return true;
  if (pattern.startsWith('*.')) {
    const suffix = pattern.slice(1);
    return host.length > suffix.length && host.endsWith(suffix);
  }
  return pattern === host;
}

/** 30-bit so Map keys stay small integers (no heap numbers on lookup). */
const HASH_MASK = 0x3fffffff;

/** Hash of `s` read right-to-left — the same value `HostTable` computes incrementally over a host. */
function suffixHash(s: string): number {
  let h = 0;
  for (let i = s.length - 1; i >= 0; i--) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h & HASH_MASK;
}

interface Wild<T> {
  /** `.example.com` for `*.example.com`. */
  suffix: string;
  value: T;
}

/**
 * A table from hostname patterns to values. Build with `add` (first value for a pattern wins), then
 * query with `best` / `collect`. Queries never throw and allocate nothing.
 */
export class HostTable<T> {
  private readonly exact = new Map<string, T>();
  private readonly wild = new Map<number, Wild<T>[]>();
  private wildCount = 0;
  /** wildLength[n] = 1 when some wildcard suffix has n chars: most dots are rejected without a Map probe. */
  private readonly wildLength = new Uint8Array(256);
  private anyValue: T | undefined = undefined;
  private hasAny = false;

  /** `pattern`: null or `*` = catch-all, `*.suffix`, or an exact (lowercased) name. */
  add(pattern: string | null, value: T): void {
    if (pattern === null || pattern === '*') {
      if (!this.hasAny) {
        this.hasAny = true;
        this.anyValue = value;
      }
    } else if (pattern.startsWith('*.')) {
      const suffix = pattern.slice(1);
      const h = suffixHash(suffix);
      let list = this.wild.get(h);
      if (list === undefined) this.wild.set(h, (list = []));
      if (!list.some((w) => w.suffix === suffix)) {
        list.push({ suffix, value });
        this.wildCount++;
        if (suffix.length < 256) this.wildLength[suffix.length] = 1;
      }
    } else if (!this.exact.has(pattern)) {
      this.exact.set(pattern, value);
    }
  }

  /** Value of an exact pattern, a wildcard pattern or the catch-all (not a lookup by host). */
  get(pattern: string | null): T | undefined {
    if (pattern === null || pattern === '*') return this.anyValue;
    if (pattern.startsWith('*.')) {
      const suffix = pattern.slice(1);
      return this.wild.get(suffixHash(suffix))?.find((w) => w.suffix === suffix)?.value;
    }
    return this.exact.get(pattern);
  }

  /** The most specific pattern covering `host` (hot: change with care). */
  best(host: string): T | undefined {
    const e = this.exact.get(host);
    if (e !== undefined) return e;
    if (this.wildCount > 0) {
      // Right-to-left: shorter suffixes are seen first, so the last hit is the longest.
      let found: T | undefined = undefined;
      let h = 0;
      for (let i = host.length - 1; i > 0; i--) {
        const c = host.charCodeAt(i);
        h = (Math.imul(h, 31) + c) | 0;
        if (c === 46) {
          const w = this.wildAt(host, i, h & HASH_MASK);
          if (w !== undefined) found = w.value;
        }
      }
      if (found !== undefined) return found;
    }
    return this.hasAny ? this.anyValue : undefined;
  }

  /**
   * Every pattern covering `host`, most specific first, written into `out`; returns how many.
   * `out` is caller-owned scratch (the matchers keep one), so this allocates nothing.
   */
  collect(host: string, out: T[]): number {
    let n = 0;
    const e = this.exact.get(host);
    if (e !== undefined) out[n++] = e;
    if (this.wildCount > 0) {
      const first = n;
      let h = 0;
      for (let i = host.length - 1; i > 0; i--) {
        const c = host.charCodeAt(i);
        h = (Math.imul(h, 31) + c) | 0;
        if (c === 46) {
          const w = this.wildAt(host, i, h & HASH_MASK);
          if (w !== undefined) out[n++] = w.value;
        }
      }
      // found shortest-first: reverse in place so the longest suffix comes first
      for (let a = first, b = n - 1; a < b; a++, b--) {
        const t = out[a]!;
        out[a] = out[b]!;
        out[b] = t;
      }
    }
    if (this.hasAny) out[n++] = this.anyValue as T;
    return n;
  }

  private wildAt(host: string, i: number, h: number): Wild<T> | undefined {
    const rest = host.length - i;
    if (rest < 256 && this.wildLength[rest] === 0) return undefined;
    const list = this.wild.get(h);
    if (list === undefined) return undefined;
    for (let k = 0; k < list.length; k++) {
      const w = list[k]!;
      if (w.suffix.length === rest && host.startsWith(w.suffix, i)) return w;
    }
    return undefined;
  }
}
