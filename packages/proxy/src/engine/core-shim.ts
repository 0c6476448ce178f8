/**
 * The matcher, path normalisation and balancer come from @gatehouse/core. This shim binds them once
 * (and carries a small linear fallback while the core ones are still being written in parallel).
 */
import * as core from '@gatehouse/core';
import type { HttpMatchResult, PortIR, PortMatcher, RequestHead, StringMatchIR, TlsRouteIR } from '@gatehouse/core';

type Core = Record<string, unknown>;
const c = core as unknown as Core;

export interface Balancer {
  next(): number;
}

function fallbackNormalizePath(path: string): string | null {
  if (path.length === 0 || path.charCodeAt(0) !== 47) return null;
  if (/[\x00-\x1f\x7f\\]/.test(path) || /%2f/i.test(path)) return null;
  const out: string[] = [];
  const segs = path.split('/');
  for (let i = 1; i < segs.length; i++) {
    const s = segs[i];
    if (s === '' && i < segs.length - 1) continue;
    if (s === '.') continue;
    if (s === '..') {
      out.pop();
      continue;
    }
    out.push(s);
  }
  return '/' + out.join('/');
}

function fallbackNormalizeHost(raw: string | undefined | null): string {
  if (raw == null) return '';
  let h = raw;
  if (h.startsWith('[')) h = h.slice(0, h.indexOf(']') + 1);
  else if (h.includes(':')) h = h.slice(0, h.indexOf(':'));
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h.toLowerCase();
}

class FallbackSwrr implements Balancer {
  readonly #w: number[];
  readonly #cur: number[];
  readonly #total: number;
  constructor(weights: readonly number[]) {
    this.#w = weights.map((w) => (w > 0 ? w : 0));
    this.#cur = this.#w.map(() => 0);
    this.#total = this.#w.reduce((a, b) => a + b, 0);
  }
  next(): number {
    if (this.#total === 0) return -1;
    let best = -1;
    for (let i = 0; i < this.#w.length; i++) {
      if (this.#w[i] === 0) continue;
      this.#cur[i] += this.#w[i];
      if (best === -1 || this.#cur[i] > this.#cur[best]) best = i;
    }
    this.#cur[best] -= this.#total;
    return best;
  }
}

function covers(pattern: string | null, host: string): boolean {
  if (pattern === null || pattern === '*') return true;
  if (pattern.startsWith('*.')) return host.length > pattern.length - 1 && host.endsWith(pattern.slice(1));
  return pattern === host;
}

function strMatch(m: StringMatchIR, v: string | undefined): boolean {
  if (v === undefined) return false;
  return m.type === 'Exact' ? v === m.value : new RegExp('^(?:' + m.value + ')$').test(v);
}

/** A literal reading of the spec order over precedence-ordered entries (test fallback only). */
class LinearMatcher implements PortMatcher {
  constructor(readonly port: PortIR) {}
  selectGroup(host: string): number {
    const gs = this.port.httpGroups;
    let best = -1;
    let bestScore = -1;
    for (let i = 0; i < gs.length; i++) {
      const h = gs[i].hostname;
      if (!covers(h, host)) continue;
      const score = h === null || h === '*' ? 0 : h.startsWith('*.') ? h.length : 1e6;
      if (score > bestScore) {
        best = i;
        bestScore = score;
      }
    }
    return best;
  }
  match(group: number, req: RequestHead): HttpMatchResult | null {
    const g = this.port.httpGroups[group];
    if (g === undefined) return null;
    const ct = req.headers['content-type'];
    const grpc = typeof ct === 'string' && ct.startsWith('application/grpc');
    let query: URLSearchParams | null = null;
    for (const e of g.entries) {
      if (!covers(e.hostname, req.host)) continue;
      if (e.grpc && !grpc) continue;
      const p = e.path;
      if (p.type === 'Exact' ? req.path !== p.value : p.type === 'PathPrefix' ? !prefixMatch(p.value, req.path) : !new RegExp('^(?:' + p.value + ')$').test(req.path)) continue;
      if (e.method !== null && e.method !== req.method) continue;
      let ok = true;
      for (const h of e.headers) {
        const v = req.headers[h.name];
        if (!strMatch(h, Array.isArray(v) ? v.join(',') : v)) ok = false;
      }
      if (!ok) continue;
      if (e.queryParams.length > 0) {
        query ??= new URLSearchParams(req.query);
        for (const q of e.queryParams) if (!strMatch(q, query.get(q.name) ?? undefined)) ok = false;
        if (!ok) continue;
      }
      return { group: g, entry: e, rule: g.rules[e.rule] };
    }
    return null;
  }
  matchSni(_sni: string): TlsRouteIR | null {
    return null;
  }
}

function prefixMatch(prefix: string, path: string): boolean {
  const p = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (p === '') return true;
  return path === p || (path.startsWith(p) && path.charCodeAt(p.length) === 47);
}

function probeSwrr(): boolean {
  try {
    const Ctor = c['SmoothWeightedRoundRobin'] as new (w: number[]) => Balancer;
    new Ctor([1]).next();
    return true;
  } catch {
    return false;
  }
}

export const normalizePath: (path: string) => string | null =
  (c['normalizePath'] as ((p: string) => string | null) | undefined) ?? fallbackNormalizePath;
export const normalizeHost: (raw: string | undefined | null) => string =
  (c['normalizeHost'] as ((h: string | undefined | null) => string) | undefined) ?? fallbackNormalizeHost;
export const buildPortMatcher: (port: PortIR) => PortMatcher =
  (c['buildPortMatcher'] as ((p: PortIR) => PortMatcher) | undefined) ?? ((p) => new LinearMatcher(p));

const swrrCtor: new (w: readonly number[]) => Balancer = probeSwrr()
  ? (c['SmoothWeightedRoundRobin'] as new (w: readonly number[]) => Balancer)
  : FallbackSwrr;

export function newBalancer(weights: readonly number[]): Balancer {
  return new swrrCtor(weights);
}
