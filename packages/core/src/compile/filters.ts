/**
 * HTTPRoute / GRPCRoute filters → FilterIR, in the order written (the spec asks filters to run in
 * order). A filter that cannot be compiled either drops its rule (a Problem: UnsupportedValue) or,
 * for an unresolvable mirror backend, is left out while the route reports ResolvedRefs=False.
 * ExtensionRef filters are never skipped: they compile to `Unsupported`, which answers 500.
 */
import type { FilterIR, HeaderOps, PathModifierIR } from '../ir/types.js';
import type { HTTPHeaderFilter, HTTPPathModifier, HTTPRouteFilter, HTTPRouteMatch } from '../resources/types.js';
import { resolveBackendRef, type BackendPurpose, type BackendRegistry, type RefOwner } from './backends.js';
import { isProblem, type Problem } from './conditions.js';
import type { CompileContext } from './context.js';
import type { BackendStatus } from './status.js';

/** Collects what the filters and backendRefs of one route report for its status. */
export interface RefReport {
  problems: Problem[];
  statuses: BackendStatus[];
}

export interface FilterScope {
  ctx: CompileContext;
  owner: RefOwner;
  registry: BackendRegistry;
  report: RefReport;
  purpose: BackendPurpose;
  /** The rule's matches (for ReplacePrefixMatch). */
  matches: readonly HTTPRouteMatch[];
  /** Field path of the filter list, for diagnostics. */
  path: string;
}

export function compileFilters(scope: FilterScope, filters: readonly HTTPRouteFilter[]): FilterIR[] | Problem {
  const out: FilterIR[] = [];
  for (let i = 0; i < filters.length; i++) {
    const f = filters[i];
    const compiled = compileFilter(scope, f, `${scope.path}[${i}]`);
    if (compiled === null) continue;
    if (isProblem(compiled)) return compiled;
    out.push(compiled);
  }
  return out;
}

function compileFilter(scope: FilterScope, f: HTTPRouteFilter, path: string): FilterIR | Problem | null {
  switch (f.type) {
    case 'RequestHeaderModifier':
      return { type: 'RequestHeaderModifier', ops: headerOps(f.requestHeaderModifier) };
    case 'ResponseHeaderModifier':
      return { type: 'ResponseHeaderModifier', ops: headerOps(f.responseHeaderModifier) };
    case 'RequestRedirect': {
      const r = f.requestRedirect;
      const modifier = pathModifier(r.path, scope.matches);
      if (modifier !== null && isProblem(modifier)) return modifier;
      return {
        type: 'RequestRedirect',
        scheme: r.scheme ?? null,
        hostname: r.hostname ?? null,
        port: r.port ?? null,
        path: modifier,
        statusCode: r.statusCode,
      };
    }
    case 'URLRewrite': {
      const modifier = pathModifier(f.urlRewrite.path, scope.matches);
      if (modifier !== null && isProblem(modifier)) return modifier;
      return { type: 'URLRewrite', hostname: f.urlRewrite.hostname ?? null, path: modifier };
    }
    case 'RequestMirror': {
      const m = f.requestMirror;
      // Mirrors speak the route's protocol family but never gRPC-only h2c negotiation differences.
      const resolution = resolveBackendRef(scope.ctx, scope.owner, m.backendRef, scope.purpose);
      addStatus(scope.report, resolution.status);
      if (!resolution.ok) {
        scope.report.problems.push(resolution.problem);
        return null; // spec: the mirror is dropped, the route reports ResolvedRefs=False
      }
      return { type: 'RequestMirror', backend: scope.registry.intern(resolution.backend), fraction: mirrorFraction(m) };
    }
    case 'CORS': {
      const c = f.cors;
      return {
        type: 'CORS',
        allowOrigins: [...c.allowOrigins],
        allowCredentials: c.allowCredentials ?? false,
        allowMethods: [...c.allowMethods],
        allowHeaders: [...c.allowHeaders],
        exposeHeaders: [...c.exposeHeaders],
        maxAge: c.maxAge,
      };
    }
    case 'ExtensionRef': {
      const e = f.extensionRef;
      const what = `ExtensionRef ${e.kind}${e.group ? `.${e.group}` : ''} ${e.name}`;
      scope.ctx.diagnose('warning', 'UNSUPPORTED_FILTER', `${what} is not supported: matching requests are answered 500`, scope.owner, path);
      return { type: 'Unsupported', reason: `${what} is not supported` };
    }
    default: {
      const type = (f as { type: string }).type;
      return { reason: 'UnsupportedValue', message: `filter type ${type} is not supported` };
    }
  }
}

export function addStatus(report: RefReport, status: BackendStatus): void {
  if (!report.statuses.some((s) => s.name === status.name)) report.statuses.push(status);
}

function headerOps(h: HTTPHeaderFilter): HeaderOps {
  return {
    set: h.set.map((x): [string, string] => [x.name, x.value]),
    add: h.add.map((x): [string, string] => [x.name, x.value]),
    remove: [...h.remove],
  };
}

/** `percent` (0–100) or `fraction` numerator/denominator; neither = every request. */
function mirrorFraction(m: { percent?: number; fraction?: { numerator: number; denominator: number } }): number {
  if (m.percent !== undefined) return clamp01(m.percent / 100);
  if (m.fraction) return m.fraction.denominator > 0 ? clamp01(m.fraction.numerator / m.fraction.denominator) : 0;
  return 1;
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/**
 * ReplacePrefixMatch replaces the rule's matched prefix, so the rule must have exactly one match and
 * it must be a PathPrefix (CEL in the CRD; checked again here). The prefix is stored without its
 * trailing slash (`/` becomes ``).
 */
function pathModifier(m: HTTPPathModifier | undefined, matches: readonly HTTPRouteMatch[]): PathModifierIR | Problem | null {
  if (!m) return null;
  if (m.type === 'ReplaceFullPath') return { type: 'ReplaceFullPath', value: m.replaceFullPath ?? '/' };
  if (m.type === 'ReplacePrefixMatch') {
    if (matches.length !== 1 || matches[0].path.type !== 'PathPrefix') {
      return { reason: 'UnsupportedValue', message: 'ReplacePrefixMatch needs a rule with exactly one PathPrefix match' };
    }
    const prefix = matches[0].path.value.replace(/\/+$/, '');
    return { type: 'ReplacePrefixMatch', value: m.replacePrefixMatch ?? '/', prefix };
  }
  return { reason: 'UnsupportedValue', message: `path modifier type ${String((m as { type: string }).type)} is not supported` };
}
