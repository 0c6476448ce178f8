/**
 * `gatehouse routes DIR [-o json]`: the compiled routing table, in precedence order — per port, its
 * listeners, then each HTTP listener group with its match entries (route, rule, match, filters,
 * backends with weights and traffic shares), the SNI routes of TLS ports and the route of TCP/UDP
 * ports. `-o json` prints the table exactly as `serializeTable` writes it (golden files use the same).
 * Exit 0, 1 when the directory does not load (diagnostics printed), 2 on usage errors.
 */
import {
  compile,
  formatDiagnostic,
  hasErrors,
  serializeTable,
  type BackendRefIR,
  type CompileOptions,
  type CompileResult,
  type FilterIR,
  type HttpGroupIR,
  type HttpMatchEntry,
  type PortIR,
  type RoutingTable,
  type StringMatchIR,
} from '@gatehouse/core';
import { LoadError, loadResources } from '../load/index.js';

export const usage = 'routes DIR [-o json] [--gateway-class NAME]... [--backend-resolution default|strict]';

export interface DirArgs {
  dir: string;
  output: 'text' | 'json';
  options: CompileOptions;
  /** Arguments this parser does not know (a command may take more flags). */
  rest: string[];
}

/**
 * Shared by `routes` and `status`: DIR, `-o json|text`, `--gateway-class NAME` (repeatable) and
 * `--backend-resolution default|strict`. Unknown flags are returned in `rest` for the caller.
 */
export function parseDirArgs(command: string, argv: readonly string[]): DirArgs | string {
  const out: DirArgs = { dir: '', output: 'text', options: {}, rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    if (flag === '-o' || flag === '--output') {
      const v = value();
      if (v !== 'json' && v !== 'text') return `${flag} expects "json" or "text"`;
      out.output = v;
    } else if (flag === '--gateway-class') {
      const v = value();
      if (!v) return '--gateway-class expects a GatewayClass name';
      (out.options.gatewayClasses ??= []).push(v);
    } else if (flag === '--backend-resolution') {
      const v = value();
      if (v !== 'default' && v !== 'strict') return '--backend-resolution expects "default" or "strict"';
      out.options.backendResolution = v;
    } else if (a.startsWith('-') && a !== '-') {
      out.rest.push(a);
    } else if (!out.dir) {
      out.dir = a;
    } else {
      return `unexpected argument ${a} (gatehouse ${command} takes one DIR)`;
    }
  }
  return out;
}

/**
 * Load DIR and compile it. Returns the exit code instead when the directory cannot be loaded or has
 * errors (the diagnostics are printed to stderr).
 */
export async function loadAndCompile(command: string, dir: string, options: CompileOptions): Promise<CompileResult | number> {
  let loaded;
  try {
    loaded = await loadResources(dir, { hash: false }); // one-shot: no reload to compare with
  } catch (e) {
    if (e instanceof LoadError) {
      process.stderr.write(`gatehouse ${command}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  if (hasErrors(loaded.diagnostics)) {
    process.stderr.write(loaded.diagnostics.map(formatDiagnostic).join('\n') + '\n');
    process.stderr.write(`gatehouse ${command}: ${dir} has errors\n`);
    return 1;
  }
  return compile(loaded.resources, options);
}

export async function run(argv: string[]): Promise<number> {
  const args = parseDirArgs('routes', argv);
  if (typeof args === 'string') return usageError(args);
  if (args.rest.includes('-h') || args.rest.includes('--help')) {
    process.stdout.write(`usage: gatehouse ${usage}\n`);
    return 0;
  }
  if (args.rest.length > 0) return usageError(`unknown flag ${args.rest[0]}`);
  if (!args.dir) return usageError('missing DIR');
  const result = await loadAndCompile('routes', args.dir, args.options);
  if (typeof result === 'number') return result;
  process.stdout.write(args.output === 'json' ? serializeTable(result.table) : formatTable(result.table));
  return 0;
}

function usageError(msg: string): number {
  process.stderr.write(`gatehouse routes: ${msg}\nusage: gatehouse ${usage}\n`);
  return 2;
}

// ---------------------------------------------------------------------------------------------- text

/** The human view of a table. */
export function formatTable(table: RoutingTable): string {
  const lines: string[] = [];
  if (table.ports.length === 0) lines.push('no ports: nothing is served');
  table.ports.forEach((port, i) => {
    if (i > 0) lines.push('');
    formatPort(table, port, lines);
  });
  lines.push('', 'backends:');
  if (table.backends.length === 0) lines.push('  (none)');
  table.backends.forEach((b, i) => {
    const endpoints = b.endpoints.map((e) => (e.unix ? `unix:${e.address}` : `${e.address}:${e.port}${e.dns ? ' (dns)' : ''}`));
    lines.push(`  [${i}] ${b.id}  ${b.resolution}  ${b.protocol}  ${endpoints.length ? endpoints.join(', ') : 'no ready endpoints (503)'}`);
  });
  if (table.certificates.length > 0) {
    lines.push('', 'certificates:');
    table.certificates.forEach((c, i) => lines.push(`  [${i}] Secret ${c.secret}  ${c.hostnames.join(', ') || '(no hostname)'}`));
  }
  lines.push('', `hash ${table.hash}`);
  return lines.join('\n') + '\n';
}

function formatPort(table: RoutingTable, port: PortIR, lines: string[]): void {
  lines.push(`port ${port.key}  ${port.protocol}`);
  for (const l of port.listeners) {
    const tls = l.tls ? `  tls ${l.tls.mode}${l.tls.certificates.length ? ` certs [${l.tls.certificates.join(', ')}]` : ''}` : '';
    lines.push(`  listener ${l.id}  ${l.protocol}  hostname ${l.hostname ?? '(any)'}${tls}`);
  }
  port.httpGroups.forEach((g, gi) => formatGroup(table, port, g, gi, lines));
  if (port.tlsRoutes.length > 0) {
    lines.push('  SNI routes:');
    port.tlsRoutes.forEach((r, i) => {
      lines.push(`    ${i + 1}. sni ${r.hostname}  ${r.mode}  TLSRoute ${r.route}  via ${port.listeners[r.listener]?.id}`);
      lines.push(`       backends: ${formatBackends(table, r.backendRefs)}`);
    });
  }
  if (port.protocol === 'TCP' || port.protocol === 'UDP') {
    if (port.l4Route) {
      lines.push(`  route ${port.l4Route.routeKind} ${port.l4Route.route}  via ${port.listeners[port.l4Route.listener]?.id}`);
      lines.push(`    backends: ${formatBackends(table, port.l4Route.backendRefs)}`);
    } else {
      lines.push(`  no route attached: ${port.protocol === 'TCP' ? 'connections are refused' : 'datagrams are dropped'}`);
    }
  }
}

function formatGroup(table: RoutingTable, port: PortIR, g: HttpGroupIR, gi: number, lines: string[]): void {
  const listeners = g.listeners.map((i) => port.listeners[i]?.id).join(', ');
  lines.push(`  group ${gi} hostname ${g.hostname ?? '(any)'}${g.secure ? '  https' : ''}  listeners ${listeners}`);
  if (g.entries.length === 0) lines.push('    (no routes: every request answers 404)');
  g.entries.forEach((e, i) => {
    const rule = g.rules[e.rule];
    const name = rule.ruleName ? ` (${rule.ruleName})` : '';
    lines.push(`    ${i + 1}. ${formatMatch(e)}`);
    lines.push(`       → ${rule.routeKind} ${rule.route} rule ${rule.ruleIndex}${name} match ${e.matchIndex}`);
    if (rule.filters.length > 0) lines.push(`       filters: ${rule.filters.map((f) => formatFilter(table, f)).join('; ')}`);
    const t = rule.timeouts;
    if (t.requestMs !== null || t.backendRequestMs !== null) {
      lines.push(`       timeouts: request ${formatMs(t.requestMs)}, backendRequest ${formatMs(t.backendRequestMs)}`);
    }
    if (rule.retry) lines.push(`       retry: ${rule.retry.attempts} attempts on ${rule.retry.codes.join(',') || 'connection errors'}, backoff ${rule.retry.backoffMs}ms`);
    lines.push(`       backends: ${formatBackends(table, rule.backendRefs)}`);
  });
}

function formatMs(ms: number | null): string {
  return ms === null ? 'off' : `${ms}ms`;
}

function formatMatch(e: HttpMatchEntry): string {
  const parts = [`host ${e.hostname}`, `${e.path.type} ${e.path.value}`];
  if (e.grpc) parts.push('grpc');
  if (e.method) parts.push(`method ${e.method}`);
  if (e.headers.length) parts.push(`headers ${e.headers.map(formatStringMatch).join(', ')}`);
  if (e.queryParams.length) parts.push(`query ${e.queryParams.map(formatStringMatch).join(', ')}`);
  return parts.join('  ');
}

function formatStringMatch(m: StringMatchIR): string {
  return m.type === 'Exact' ? `${m.name}=${m.value}` : `${m.name}~/${m.value}/`;
}

function formatBackends(table: RoutingTable, refs: readonly BackendRefIR[]): string {
  if (refs.length === 0) return 'none (500)';
  const total = refs.reduce((s, r) => s + r.weight, 0);
  return refs
    .map((r) => {
      const share = total > 0 ? `${Math.round((r.weight / total) * 1000) / 10}%` : '0%';
      const state = r.backend < 0 ? `  → 500 (${r.invalidReason})` : '';
      const filters = r.filters.length ? `  filters: ${r.filters.map((f) => formatFilter(table, f)).join('; ')}` : '';
      return `${r.name} weight ${r.weight} (${share})${state}${filters}`;
    })
    .join(', ');
}

function formatFilter(table: RoutingTable, f: FilterIR): string {
  switch (f.type) {
    case 'RequestHeaderModifier':
    case 'ResponseHeaderModifier': {
      const ops = [
        ...f.ops.set.map(([k, v]) => `set ${k}: ${v}`),
        ...f.ops.add.map(([k, v]) => `add ${k}: ${v}`),
        ...f.ops.remove.map((k) => `remove ${k}`),
      ];
      return `${f.type} ${ops.join(', ')}`;
    }
    case 'RequestRedirect': {
      const parts = [
        f.scheme && `scheme ${f.scheme}`,
        f.hostname && `hostname ${f.hostname}`,
        f.port !== null && `port ${f.port}`,
        f.path && `${f.path.type} ${f.path.value}`,
      ].filter(Boolean);
      return `RequestRedirect ${f.statusCode} ${parts.join(' ')}`.trim();
    }
    case 'URLRewrite': {
      const parts = [f.hostname && `hostname ${f.hostname}`, f.path && `${f.path.type} ${f.path.value}`].filter(Boolean);
      return `URLRewrite ${parts.join(' ')}`;
    }
    case 'RequestMirror':
      return `RequestMirror ${table.backends[f.backend]?.id ?? f.backend} ${Math.round(f.fraction * 1000) / 10}%`;
    case 'CORS':
      return `CORS origins ${f.allowOrigins.join(',') || '(none)'}`;
    case 'Unsupported':
      return `Unsupported (500): ${f.reason}`;
  }
}
