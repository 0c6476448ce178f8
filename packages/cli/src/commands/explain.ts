/**
 * `gatehouse explain DIR METHOD URL [-H 'k: v']... [-o json]`: which gateway, listener, route and rule
 * a request would reach, with which backends and shares — and why every other candidate lost.
 *
 * It runs the same steps as the proxy, offline: the port from the URL (default 80 / 443 by scheme),
 * the request target normalised as the proxy does it (a refused target is a 400), the listener group by
 * Host (listener isolation), then the linear reference matcher (`explainHttp`), which the proxy's trie
 * matcher is checked against. On a TLS port an SNI that selects a TLS listener is answered by its
 * TLSRoute (passthrough/terminate), like the proxy does.
 *
 * Exit 0 whether or not something matched; 1 when DIR does not load; 2 on usage errors.
 * `-o json` prints at least {gateway, listener, route: "ns/name" | null, rule, backends: [{name, weight, share}]}.
 */
import {
  backendShares,
  buildPortMatcher,
  describeFilter,
  explainHttp,
  normalizeHost,
  parseRequestTarget,
  type CompileOptions,
  type HttpMatchEntry,
  type HttpRuleIR,
  type ListenerIR,
  type PortIR,
  type RequestHead,
  type RoutingTable,
} from '@gatehouse/core';
import { loadAndCompile } from './routes.js';

export const usage = "explain DIR METHOD URL [-H 'name: value']... [-o json] [--gateway-class NAME]... [--backend-resolution default|strict]";

interface Args {
  dir: string;
  method: string;
  url: string;
  headers: [string, string][];
  output: 'text' | 'json';
  options: CompileOptions;
}

function parseArgs(argv: readonly string[]): Args | string {
  const positional: string[] = [];
  const headers: [string, string][] = [];
  let output: 'text' | 'json' = 'text';
  const options: CompileOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const value = (): string | undefined => (eq > 0 ? a.slice(eq + 1) : argv[++i]);
    if (flag === '-H' || flag === '--header') {
      const v = value();
      const colon = v === undefined ? -1 : v.indexOf(':');
      if (v === undefined || colon <= 0) return `${flag} expects 'name: value'`;
      headers.push([v.slice(0, colon).trim().toLowerCase(), v.slice(colon + 1).trim()]);
    } else if (flag === '-o' || flag === '--output') {
      const v = value();
      if (v !== 'json' && v !== 'text') return `${flag} expects "json" or "text"`;
      output = v;
    } else if (flag === '--gateway-class') {
      const v = value();
      if (!v) return '--gateway-class expects a GatewayClass name';
      (options.gatewayClasses ??= []).push(v);
    } else if (flag === '--backend-resolution') {
      const v = value();
      if (v !== 'default' && v !== 'strict') return '--backend-resolution expects "default" or "strict"';
      options.backendResolution = v;
    } else if (a.startsWith('-') && a !== '-') {
      return `unknown flag ${a}`;
    } else {
      positional.push(a);
    }
  }
  if (positional.length < 3) return `missing ${['DIR', 'METHOD', 'URL'].slice(positional.length).join(' ')}`;
  if (positional.length > 3) return `unexpected argument ${positional[3]}`;
  const [dir, method, url] = positional as [string, string, string];
  if (!/^[A-Za-z]+$/.test(method)) return `METHOD must be a word like GET, got ${JSON.stringify(method)}`;
  return { dir, method: method.toUpperCase(), url, headers, output, options };
}

interface ParsedUrl {
  scheme: 'http' | 'https';
  /** Host as in the URL (for the Host header), with its port if any. */
  authority: string;
  port: number;
  /** Everything from the first `/` on (origin-form target), `/` when absent. */
  target: string;
}

function parseUrl(url: string): ParsedUrl | string {
  const m = /^(https?):\/\/([^/?#]+)(.*)$/i.exec(url);
  if (m === null) return `URL must look like http://host[:port]/path, got ${JSON.stringify(url)}`;
  const scheme = m[1]!.toLowerCase() as 'http' | 'https';
  const authority = m[2]!;
  let rest = m[3]!;
  if (rest === '' || rest.startsWith('?') || rest.startsWith('#')) rest = '/' + rest;
  const portMatch = /:(\d+)$/.exec(authority);
  const port = portMatch ? Number(portMatch[1]) : scheme === 'https' ? 443 : 80;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `bad port in ${JSON.stringify(url)}`;
  return { scheme, authority, port, target: rest };
}

// ---------------------------------------------------------------------------------------------- the report

export type { BackendShare } from '@gatehouse/core';
import type { BackendShare } from '@gatehouse/core';

export interface ExplainCandidateReport {
  /** Precedence rank in the listener group (0 = tried first). */
  rank: number;
  route: string;
  routeKind: string;
  rule: number;
  match: number;
  hostname: string;
  path: string;
  method: string | null;
  headers: string[];
  queryParams: string[];
  matched: boolean;
  /** null for the winner. */
  reason: string | null;
}

export interface ExplainReport {
  request: { method: string; url: string; host: string; path: string | null; query: string; headers: Record<string, string> };
  /** `address:port/tcp` of the socket, or null when nothing listens on the port. */
  port: string | null;
  gateway: string | null;
  listener: string | null;
  /** `namespace/gateway/listener` of the listener. */
  listenerId: string | null;
  route: string | null;
  routeKind: string | null;
  /** 0-based rule index inside the route. */
  rule: number | null;
  ruleName: string | null;
  match: number | null;
  backends: BackendShare[];
  filters: string[];
  /** What the proxy answers when there is no route (404, 400…), or why; null when a route wins. */
  outcome: string | null;
  notes: string[];
  candidates: ExplainCandidateReport[];
}

function candidate(rank: number, entry: HttpMatchEntry, rule: HttpRuleIR | undefined, matched: boolean, reason: string | null): ExplainCandidateReport {
  return {
    rank,
    route: rule?.route ?? '?',
    routeKind: rule?.routeKind ?? '?',
    rule: rule?.ruleIndex ?? -1,
    match: entry.matchIndex,
    hostname: entry.hostname,
    path: `${entry.path.type} ${entry.path.value}`,
    method: entry.method,
    headers: entry.headers.map((h) => `${h.name}${h.type === 'Exact' ? '=' : '~'}${h.value}`),
    queryParams: entry.queryParams.map((q) => `${q.name}${q.type === 'Exact' ? '=' : '~'}${q.value}`),
    matched,
    reason,
  };
}

/** The whole explanation for a compiled table, without printing. */
export function explainRequest(table: RoutingTable, method: string, url: string, extraHeaders: [string, string][]): ExplainReport | string {
  const u = parseUrl(url);
  if (typeof u === 'string') return u;
  const headers: Record<string, string> = {};
  for (const [k, v] of extraHeaders) headers[k] = headers[k] === undefined ? v : `${headers[k]},${v}`;
  headers.host ??= u.authority;
  const host = normalizeHost(headers.host);
  const target = parseRequestTarget(u.target);
  const report: ExplainReport = {
    request: { method, url, host, path: target?.path ?? null, query: target?.query ?? '', headers },
    port: null,
    gateway: null,
    listener: null,
    listenerId: null,
    route: null,
    routeKind: null,
    rule: null,
    ruleName: null,
    match: null,
    backends: [],
    filters: [],
    outcome: null,
    notes: [],
    candidates: [],
  };
  const ports = table.ports.filter((p) => p.port === u.port && p.transport === 'tcp');
  const port: PortIR | undefined = ports.find((p) => p.protocol === 'HTTP' || p.protocol === 'TLS') ?? ports[0];
  if (port === undefined) {
    report.outcome = `no listener on port ${u.port}: the connection is refused`;
    return report;
  }
  report.port = port.key;
  if (ports.length > 1) report.notes.push(`${ports.length} sockets listen on port ${u.port}; explaining ${port.key}`);
  if (port.protocol === 'TCP') {
    report.outcome = `port ${u.port} is a TCP port (${port.l4Route ? `TCPRoute ${port.l4Route.route}` : 'no route'}): no HTTP routing`;
    return report;
  }
  const setListener = (l: ListenerIR | undefined): void => {
    if (l === undefined) return;
    report.gateway = l.gateway;
    report.listener = l.name;
    report.listenerId = l.id;
  };
  const matcher = buildPortMatcher(port);
  if (port.protocol === 'TLS') {
    if (u.scheme === 'http') report.notes.push(`port ${u.port} expects TLS; explaining as if the client used https`);
    // The client sends the URL's host as SNI; a -H Host header may differ from it.
    const sni = normalizeHost(u.authority);
    const tls = matcher.matchSni(sni);
    if (tls !== null) {
      setListener(port.listeners[tls.listener]);
      report.route = tls.route;
      report.routeKind = tls.routeKind;
      report.rule = 0;
      report.backends = backendShares(tls.backendRefs);
      report.notes.push(`SNI ${host} selects a TLS listener (${tls.mode}): the connection is forwarded as TLS/TCP, no HTTP routing`);
      return report;
    }
  } else if (u.scheme === 'https') {
    report.notes.push(`port ${u.port} serves plain HTTP; explaining as if the client used http`);
  }
  if (target === null) {
    report.outcome = `400: the request target ${JSON.stringify(u.target)} is refused (see docs/path-normalisation.md)`;
    return report;
  }
  if (port.protocol === 'TLS') {
    // GEP-3567 (features.md §9.3): a Host that belongs to another listener than the SNI's → 421.
    const sni = normalizeHost(u.authority);
    const bySni = matcher.selectGroup(sni), byHost = matcher.selectGroup(host);
    if (sni !== host && bySni !== byHost) {
      report.outcome =
        byHost === -1
          ? `404: no listener covers host ${JSON.stringify(host)}`
          : `421 Misdirected Request: host ${JSON.stringify(host)} belongs to another listener than SNI ${JSON.stringify(sni)}`;
      return report;
    }
  }
  const head: RequestHead = { method, host, path: target.path, query: target.query, headers };
  const ex = explainHttp(port, head);
  if (ex.group < 0) {
    report.outcome = `404: no listener on port ${u.port} covers host ${JSON.stringify(host)}`;
    return report;
  }
  const group = port.httpGroups[ex.group]!;
  report.candidates = ex.candidates.map((c) => candidate(c.index, c.entry, group.rules[c.entry.rule], c.matched, c.reason));
  if (ex.winner === null) {
    setListener(ex.listeners[0]);
    report.outcome = `404: no route of listener hostname ${group.hostname ?? '*'} matches (listener isolation: no fallback to another listener)`;
    if (ex.candidates.some((c) => c.entry.grpc)) report.notes.push('gRPC requests get status UNIMPLEMENTED instead of 404');
    return report;
  }
  const { entry, rule } = ex.winner;
  setListener(port.listeners[entry.listener] ?? ex.listeners[0]);
  report.route = rule.route;
  report.routeKind = rule.routeKind;
  report.rule = rule.ruleIndex;
  report.ruleName = rule.ruleName;
  report.match = entry.matchIndex;
  report.backends = backendShares(rule.backendRefs);
  report.filters = rule.filters.map(describeFilter);
  if (rule.backendRefs.length === 0 && !rule.filters.some((f) => f.type === 'RequestRedirect')) report.notes.push('the rule has no backendRefs: 500');
  return report;
}

// ---------------------------------------------------------------------------------------------- text

export function formatReport(r: ExplainReport): string {
  const out: string[] = [];
  out.push(`request   ${r.request.method} ${r.request.url}`);
  out.push(`          host ${r.request.host || '(none)'}  path ${r.request.path ?? '(refused)'}${r.request.query ? `  query ${r.request.query}` : ''}`);
  if (r.port) out.push(`port      ${r.port}`);
  if (r.listenerId) out.push(`listener  ${r.listenerId}  (gateway ${r.gateway}, listener ${r.listener})`);
  for (const n of r.notes) out.push(`note      ${n}`);
  out.push('');
  if (r.route !== null) {
    out.push(`winner    ${r.routeKind} ${r.route} rule ${r.rule}${r.ruleName ? ` (${r.ruleName})` : ''}${r.match !== null ? ` match ${r.match}` : ''}`);
    const w = r.candidates.find((c) => c.reason === null && c.matched);
    if (w) out.push(`          ${describeCandidate(w)}`);
    if (r.filters.length) out.push(`filters   ${r.filters.join('; ')}`);
    if (r.backends.length === 0) out.push('backends  none');
    r.backends.forEach((b, i) =>
      out.push(`${i === 0 ? 'backends  ' : '          '}${b.name}  weight ${b.weight}  (${b.share}%)${b.invalid ? `  → 500 (${b.invalid})` : ''}`),
    );
  } else {
    out.push(`no route  ${r.outcome ?? 'nothing matches'}`);
  }
  if (r.candidates.length) {
    out.push('');
    out.push('candidates, in precedence order:');
    for (const c of r.candidates) {
      const mark = c.reason === null && c.matched ? '✓ WINNER' : c.matched ? '~ lost  ' : '✗       ';
      out.push(`  ${mark} #${c.rank} ${c.routeKind} ${c.route} rule ${c.rule} match ${c.match}  ${describeCandidate(c)}`);
      if (c.reason) out.push(`             ${c.reason}`);
    }
  }
  return out.join('\n') + '\n';
}

function describeCandidate(c: ExplainCandidateReport): string {
  const parts = [`host ${c.hostname}`, c.path];
  if (c.method) parts.push(`method ${c.method}`);
  if (c.headers.length) parts.push(`headers ${c.headers.join(' ')}`);
  if (c.queryParams.length) parts.push(`query ${c.queryParams.join(' ')}`);
  return parts.join('  ');
}

// ---------------------------------------------------------------------------------------------- command

function usageError(msg: string): number {
  process.stderr.write(`gatehouse explain: ${msg}\nusage: gatehouse ${usage}\n`);
  return 2;
}

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(`usage: gatehouse ${usage}\n`);
    return 0;
  }
  const args = parseArgs(argv);
  if (typeof args === 'string') return usageError(args);
  const url = parseUrl(args.url);
  if (typeof url === 'string') return usageError(url);
  let result;
  try {
    result = await loadAndCompile('explain', args.dir, args.options);
  } catch (e) {
    process.stderr.write(`gatehouse explain: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  if (typeof result === 'number') return result;
  const report = explainRequest(result.table, args.method, args.url, args.headers);
  if (typeof report === 'string') return usageError(report);
  process.stdout.write(args.output === 'json' ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
  return 0;
}
