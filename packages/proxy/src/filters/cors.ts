import type { FilterIR } from '@gatehouse/core';

type CorsIR = Extract<FilterIR, { type: 'CORS' }>;

interface OriginPattern {
  any: boolean;
  scheme: string;
  /** Exact lowercased host, or null when `hostRe` applies. */
  host: string | null;
  hostRe: RegExp | null;
  port: number;
}

/**
 * CORS (features.md §9.8), prepared once: origin patterns parsed and wildcard hosts compiled here.
 * Preflights (OPTIONS + Origin + Access-Control-Request-Method) are answered 200 by the gateway and never
 * forwarded; simple requests go to the backend and get Allow-Origin (+ Credentials, Expose) added.
 */
export class Cors {
  readonly patterns: OriginPattern[];
  readonly anyOrigin: boolean;
  readonly credentials: boolean;
  readonly methods: string;
  readonly anyMethod: boolean;
  readonly headers: string;
  readonly anyHeader: boolean;
  readonly expose: string;
  readonly maxAge: string;

  constructor(ir: CorsIR) {
    this.patterns = ir.allowOrigins.map(parsePattern).filter((p): p is OriginPattern => p !== null);
    this.anyOrigin = this.patterns.some((p) => p.any);
    this.credentials = ir.allowCredentials;
    this.anyMethod = ir.allowMethods.includes('*');
    this.methods = ir.allowMethods.join(', ');
    this.anyHeader = ir.allowHeaders.includes('*');
    this.headers = ir.allowHeaders.join(', ');
    this.expose = ir.exposeHeaders.join(', ');
    this.maxAge = String(ir.maxAge || 5);
  }

  allowed(origin: string): boolean {
    if (this.anyOrigin) return true;
    const o = parseOrigin(origin);
    if (o === null) return false;
    for (const p of this.patterns) {
      if (p.scheme !== o.scheme || p.port !== o.port) continue;
      if (p.host !== null ? p.host === o.host : p.hostRe!.test(o.host)) return true;
    }
    return false;
  }

  /** Headers for a preflight answer (empty when the origin is not allowed). */
  preflightHeaders(origin: string, reqMethod: string, reqHeaders: string | undefined): string[] {
    if (!this.allowed(origin)) return ['vary', 'Origin'];
    // the request Origin is echoed (never `*`), which is valid with and without credentials
    const out = ['access-control-allow-origin', origin];
    if (this.credentials) out.push('access-control-allow-credentials', 'true');
    const methods = this.anyMethod ? (this.credentials ? reqMethod : '*') : this.methods;
    if (methods !== '') out.push('access-control-allow-methods', methods);
    const headers = this.anyHeader ? (this.credentials ? (reqHeaders ?? '') : '*') : this.headers;
    if (headers !== '') out.push('access-control-allow-headers', headers);
    if (this.expose !== '') out.push('access-control-expose-headers', this.expose);
    out.push('access-control-max-age', this.maxAge, 'vary', 'Origin');
    return out;
  }

  /** Adds the simple-request headers to a response header list when the origin is allowed. */
  decorate(list: string[], origin: string): void {
    if (!this.allowed(origin)) return;
    list.push('access-control-allow-origin', origin);
    if (this.credentials) list.push('access-control-allow-credentials', 'true');
    if (this.expose !== '') list.push('access-control-expose-headers', this.expose);
  }
}

function defaultPort(scheme: string): number {
  return scheme === 'https' ? 443 : scheme === 'http' ? 80 : -1;
}

function parseOrigin(origin: string): { scheme: string; host: string; port: number } | null {
  const sep = origin.indexOf('://');
  if (sep <= 0) return null;
  const scheme = origin.slice(0, sep).toLowerCase();
  let rest = origin.slice(sep + 3).toLowerCase();
  const slash = rest.indexOf('/');
  if (slash !== -1) rest = rest.slice(0, slash);
  let port = defaultPort(scheme);
  const colon = rest.lastIndexOf(':');
  if (colon !== -1 && rest.indexOf(']', colon) === -1) {
    port = Number(rest.slice(colon + 1));
    if (!Number.isInteger(port)) return null;
    rest = rest.slice(0, colon);
  }
  return { scheme, host: rest, port };
}

function parsePattern(text: string): OriginPattern | null {
  if (text === '*') return { any: true, scheme: '', host: null, hostRe: null, port: 0 };
  const o = parseOrigin(text);
  if (o === null) return null;
  if (!o.host.includes('*')) return { any: false, scheme: o.scheme, host: o.host, hostRe: null, port: o.port };
  // `*` matches greedily to the left across any number of labels.
  const source = o.host
    .split('*')
    .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.+');
  return { any: false, scheme: o.scheme, host: null, hostRe: new RegExp('^' + source + '$'), port: o.port };
}
