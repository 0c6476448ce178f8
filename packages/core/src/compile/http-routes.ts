/**
 * HTTPRoute and GRPCRoute rules → HttpRuleIR plus match templates. The templates become
 * HttpMatchEntries once the route's listeners and intersected hostnames are known (routing.ts): one
 * entry per match per rule per intersected hostname.
 *
 * A rule that cannot be honoured (unsupported filter, invalid regex, ReplacePrefixMatch without a
 * single PathPrefix match: UnsupportedValue; URLRewrite combined with a backendRef's RequestRedirect:
 * IncompatibleFilters) is DROPPED: the route reports PartiallyInvalid (or, when every rule is dropped,
 * Accepted=False with the first dropped rule's reason). An unresolvable backendRef never drops a rule: its
 * share of traffic answers 500 (`backend: -1`) and the route reports ResolvedRefs=False.
 */
import { RE2JS } from 're2js';
import type { BackendRefIR, FilterIR, HttpMatchEntry, HttpRuleIR, StringMatchIR } from '../ir/types.js';
import type {
  GRPCRoute,
  GRPCRouteMatch,
  HTTPBackendRef,
  HTTPHeaderMatch,
  HTTPQueryParamMatch,
  HTTPRoute,
  HTTPRouteFilter,
  HTTPRouteMatch,
} from '../resources/types.js';
import { backendRefName, resolveBackendRef, type BackendPurpose, type BackendRegistry } from './backends.js';
import { isProblem, type Problem } from './conditions.js';
import type { CompileContext } from './context.js';
import { addStatus, compileFilters, type FilterScope, type RefReport } from './filters.js';
import { nsName } from './rank.js';

/** An entry before hostname, rule index and listener are known. */
export type MatchTemplate = Omit<HttpMatchEntry, 'hostname' | 'rule' | 'listener'>;

export interface CompiledRule {
  ruleIndex: number;
  ir: HttpRuleIR;
  matches: MatchTemplate[];
}

export interface CompiledRoute {
  route: HTTPRoute | GRPCRoute;
  rules: CompiledRule[];
  /** Rules left out, with why (PartiallyInvalid / UnsupportedValue). */
  dropped: { ruleIndex: number; problem: Problem }[];
  refs: RefReport;
}

export function compileHttpRoute(ctx: CompileContext, route: HTTPRoute | GRPCRoute, registry: BackendRegistry): CompiledRoute {
  const out: CompiledRoute = { route, rules: [], dropped: [], refs: { problems: [], statuses: [] } };
  const purpose: BackendPurpose = route.kind === 'GRPCRoute' ? 'grpc' : 'http';
  const routeName = nsName(route); // one string shared by every rule
  route.spec.rules.forEach((rule, ruleIndex) => {
    const rulePath = `spec.rules[${ruleIndex}]`;
    // GRPCRoute matches are turned into HTTP-shaped ones first; ReplacePrefixMatch never applies to them.
    const httpMatches: HTTPRouteMatch[] = route.kind === 'HTTPRoute' ? (rule.matches as HTTPRouteMatch[]) : [];
    const templates =
      route.kind === 'HTTPRoute'
        ? compileHttpMatches(rule.matches as HTTPRouteMatch[])
        : compileGrpcMatches(rule.matches as GRPCRouteMatch[]);
    if (isProblem(templates)) {
      out.dropped.push({ ruleIndex, problem: templates });
      return;
    }
    const scope: FilterScope = {
      ctx,
      owner: route,
      registry,
      report: out.refs,
      purpose,
      matches: httpMatches,
      path: `${rulePath}.filters`,
    };
    const filters = compileFilters(scope, rule.filters as HTTPRouteFilter[]);
    if (isProblem(filters)) {
      out.dropped.push({ ruleIndex, problem: filters });
      return;
    }
    const backendRefs: BackendRefIR[] = [];
    let backendProblem: Problem | null = null;
    (rule.backendRefs as HTTPBackendRef[]).forEach((ref, refIndex) => {
      // Most backendRefs have no filters: no scope copy and no field path for them.
      const refFilters =
        ref.filters.length === 0
          ? []
          : compileFilters({ ...scope, path: `${rulePath}.backendRefs[${refIndex}].filters` }, ref.filters as HTTPRouteFilter[]);
      if (isProblem(refFilters)) {
        backendProblem = refFilters;
        return;
      }
      const resolution = resolveBackendRef(ctx, route, ref, purpose);
      addStatus(out.refs, resolution.status);
      if (!resolution.ok) out.refs.problems.push(resolution.problem);
      backendRefs.push({
        name: backendRefName(ref, route.metadata.namespace),
        weight: ref.weight,
        backend: resolution.ok ? registry.intern(resolution.backend) : -1,
        invalidReason: resolution.ok ? null : resolution.problem.reason,
        filters: refFilters,
      });
    });
    if (backendProblem) {
      out.dropped.push({ ruleIndex, problem: backendProblem });
      return;
    }
    const incompatible = incompatibleFilters(filters, backendRefs);
    if (incompatible) {
      out.dropped.push({ ruleIndex, problem: incompatible });
      return;
    }
    const ir: HttpRuleIR = {
      route: routeName,
      routeKind: route.kind,
      ruleIndex,
      ruleName: rule.name ?? null,
      filters,
      backendRefs,
      timeouts: { requestMs: null, backendRequestMs: null },
      retry: null,
    };
    if (route.kind === 'HTTPRoute') {
      const r = route.spec.rules[ruleIndex];
      ir.timeouts = {
        requestMs: r.timeouts?.requestMs ? r.timeouts.requestMs : null,
        backendRequestMs: r.timeouts?.backendRequestMs ? r.timeouts.backendRequestMs : null,
      };
      if (r.retry) ir.retry = { codes: [...r.retry.codes], attempts: r.retry.attempts, backoffMs: r.retry.backoffMs ?? 0 };
    }
    out.rules.push({ ruleIndex, ir, matches: templates });
  });
  return out;
}

/**
 * URLRewrite and RequestRedirect "may not be combined" (HTTPRouteRule.filters). The CRD's CEL rejects
 * both in one filter list (decode does too), but not a rule-level URLRewrite with a RequestRedirect in a
 * backendRef's filters: the redirect would answer and the rewrite be silently ignored. Such a rule is
 * dropped with IncompatibleFilters, the spec's reason for it.
 */
function incompatibleFilters(ruleFilters: readonly FilterIR[], backendRefs: readonly BackendRefIR[]): Problem | null {
  const ruleRewrite = ruleFilters.some((f) => f.type === 'URLRewrite');
  const ruleRedirect = ruleFilters.some((f) => f.type === 'RequestRedirect');
  for (const ref of backendRefs) {
    const redirect = ruleRedirect || ref.filters.some((f) => f.type === 'RequestRedirect');
    const rewrite = ruleRewrite || ref.filters.some((f) => f.type === 'URLRewrite');
    if (redirect && rewrite) {
      return {
        reason: 'IncompatibleFilters',
        message: `URLRewrite and RequestRedirect cannot be combined (rule filters plus the filters of backendRef ${ref.name}): a request is either redirected or forwarded`,
      };
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------- HTTP matches

function compileHttpMatches(matches: readonly HTTPRouteMatch[]): MatchTemplate[] | Problem {
  const out: MatchTemplate[] = [];
  for (let i = 0; i < matches.length; i++) {
    const m = matches[i];
    if (m.path.type !== 'Exact' && m.path.type !== 'PathPrefix' && m.path.type !== 'RegularExpression') {
      return { reason: 'UnsupportedValue', message: `path match type ${String(m.path.type)} is not supported` };
    }
    if (m.path.type === 'RegularExpression') {
      const bad = regexProblem(m.path.value, 'path');
      if (bad) return bad;
    }
    const headers = stringMatches(m.headers, true);
    if (isProblem(headers)) return headers;
    const queryParams = stringMatches(m.queryParams, false);
    if (isProblem(queryParams)) return queryParams;
    out.push({
      path: { type: m.path.type, value: m.path.value },
      method: m.method ? m.method.toUpperCase() : null,
      headers,
      queryParams,
      grpc: false,
      grpcMethod: null,
      matchIndex: i,
    });
  }
  return out;
}

/**
 * Header (case-insensitive names, lowercased here) and query-param (case-sensitive) matches. When a
 * name repeats, only the first entry counts (spec).
 */
function stringMatches(
  list: readonly (HTTPHeaderMatch | HTTPQueryParamMatch)[],
  lowercaseNames: boolean,
): StringMatchIR[] | Problem {
  const out: StringMatchIR[] = [];
  for (const m of list) {
    const name = lowercaseNames ? m.name.toLowerCase() : m.name;
    if (out.some((x) => x.name === name)) continue;
    if (m.type !== 'Exact' && m.type !== 'RegularExpression') {
      return { reason: 'UnsupportedValue', message: `match type ${String(m.type)} for ${m.name} is not supported` };
    }
    if (m.type === 'RegularExpression') {
      const bad = regexProblem(m.value, m.name);
      if (bad) return bad;
    }
    out.push({ type: m.type, name, value: m.value });
  }
  return out;
}

function regexProblem(pattern: string, what: string): Problem | null {
  try {
    RE2JS.compile(pattern);
    return null;
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return { reason: 'UnsupportedValue', message: `invalid regular expression for ${what} ${JSON.stringify(pattern)}: ${detail}` };
  }
}

// ---------------------------------------------------------------------------------------------- gRPC matches

/**
 * A gRPC method match becomes a path match on `/<service>/<method>`:
 *  - Exact service + method → Exact `/svc/method`;
 *  - Exact service only     → PathPrefix `/svc/` (any method of the service);
 *  - Exact method only      → RegularExpression `/[^/]+/method`;
 *  - RegularExpression      → RegularExpression `/(?:svc)/(?:method)`, a missing side being `[^/]+`.
 * No method match (and a rule without matches) → PathPrefix `/`: every gRPC request.
 */
function compileGrpcMatches(matches: readonly GRPCRouteMatch[]): MatchTemplate[] | Problem {
  const list = matches.length > 0 ? matches : [{ headers: [] } as GRPCRouteMatch];
  const out: MatchTemplate[] = [];
  for (let i = 0; i < list.length; i++) {
    const m = list[i];
    const headers = stringMatches(m.headers, true);
    if (isProblem(headers)) return headers;
    const path = grpcPath(m);
    if (isProblem(path)) return path;
    out.push({
      path,
      method: null,
      headers,
      queryParams: [],
      grpc: true,
      grpcMethod: { service: m.method?.service || null, method: m.method?.method || null },
      matchIndex: i,
    });
  }
  return out;
}

function grpcPath(m: GRPCRouteMatch): MatchTemplate['path'] | Problem {
  const service = m.method?.service || '';
  const method = m.method?.method || '';
  if (!m.method || (!service && !method)) return { type: 'PathPrefix', value: '/' };
  if (m.method.type === 'RegularExpression') {
    const pattern = `/(?:${service || '[^/]+'})/(?:${method || '[^/]+'})`;
    const bad = regexProblem(pattern, 'gRPC method');
    if (bad) return bad;
    return { type: 'RegularExpression', value: pattern };
  }
  if (m.method.type !== 'Exact') {
    return { reason: 'UnsupportedValue', message: `gRPC method match type ${String(m.method.type)} is not supported` };
  }
  if (service.includes('/') || method.includes('/')) {
    return { reason: 'UnsupportedValue', message: 'an Exact gRPC service or method must not contain "/"' };
  }
  if (service && method) return { type: 'Exact', value: `/${service}/${method}` };
  if (service) return { type: 'PathPrefix', value: `/${service}/` };
  return { type: 'RegularExpression', value: `/[^/]+/${RE2JS.quote(method)}` };
}
