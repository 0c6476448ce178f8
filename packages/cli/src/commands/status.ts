/**
 * `gatehouse status DIR [-o json]`: kubectl-style conditions for every object — GatewayClasses,
 * Gateways and their listeners (with attachedRoutes), Routes per parentRef, and how each backend
 * resolved. Offline: the directory is loaded and compiled here.
 *
 * The report comes from one `StatusSource`; `--admin ADDR` (asking a running instance's `GET /status`)
 * is another source to add next to `fromDirectory`, with the same rendering.
 */
import { stableStringify, type Condition, type StatusReport } from '@gatehouse/core';
import { loadAndCompile, parseDirArgs } from './routes.js';

export const usage = 'status DIR [-o json] [--gateway-class NAME]... [--backend-resolution default|strict]';

/** A StatusReport, or the exit code when it could not be produced (the error is already printed). */
type StatusSource = () => Promise<StatusReport | number>;

export async function run(argv: string[]): Promise<number> {
  const adminAt = argv.findIndex((a) => a === '--admin' || a.startsWith('--admin='));
  if (adminAt >= 0) return runAdmin(argv, adminAt);
  const args = parseDirArgs('status', argv);
  if (typeof args === 'string') return usageError(args);
  if (args.rest.includes('-h') || args.rest.includes('--help')) {
    process.stdout.write(`usage: gatehouse ${usage}\n`);
    return 0;
  }
  if (args.rest.length > 0) return usageError(`unknown flag ${args.rest[0]}`);
  if (!args.dir) return usageError('missing DIR');
  const source: StatusSource = fromDirectory(args.dir, args.options);

  const report = await source();
  if (typeof report === 'number') return report;
  process.stdout.write(args.output === 'json' ? stableStringify(report) + '\n' : formatStatus(report));
  return 0;
}

function fromDirectory(dir: string, options: Parameters<typeof loadAndCompile>[2]): StatusSource {
  return async () => {
    const result = await loadAndCompile('status', dir, options);
    return typeof result === 'number' ? result : result.status;
  };
}

function usageError(msg: string): number {
  process.stderr.write(`gatehouse status: ${msg}\nusage: gatehouse ${usage}\n`);
  return 2;
}

// ---------------------------------------------------------------------------------------------- text

interface Row {
  kind: string;
  name: string;
  type: string;
  status: string;
  reason: string;
  message: string;
}

/** One row per condition, in a fixed-width table like `kubectl get -o wide`. */
export function formatStatus(report: StatusReport): string {
  const rows: Row[] = [];
  const add = (kind: string, name: string, conditions: readonly Condition[]): void => {
    if (conditions.length === 0) rows.push({ kind, name, type: '-', status: '-', reason: '-', message: '' });
    for (const c of conditions) rows.push({ kind, name, type: c.type, status: c.status, reason: c.reason, message: c.message });
  };
  for (const gc of report.gatewayClasses) add('GatewayClass', gc.name, gc.conditions);
  for (const gw of report.gateways) {
    const addresses = gw.addresses.map((a) => a.value).join(',');
    add('Gateway', addresses ? `${gw.name} (${addresses})` : gw.name, gw.conditions);
    for (const l of gw.listeners) {
      add('Listener', `${gw.name}/${l.name} (routes: ${l.attachedRoutes})`, l.conditions);
    }
  }
  const backendLines: string[] = [];
  for (const r of report.routes) {
    if (r.parents.length === 0) add(r.kind, `${r.name} (no parentRefs)`, []);
    for (const p of r.parents) {
      const section = p.parentRef.sectionName ? `/${p.parentRef.sectionName}` : '';
      const port = p.parentRef.port !== undefined ? `:${p.parentRef.port}` : '';
      add(r.kind, `${r.name} → ${p.parentRef.namespace}/${p.parentRef.name}${section}${port}`, p.conditions);
    }
    for (const b of r.backends) {
      const endpoints = b.endpoints.length ? b.endpoints.join(', ') : b.resolution === 'Unresolved' ? '' : 'no ready endpoints';
      backendLines.push(
        [`${r.kind} ${r.name}`, b.name, b.resolution, b.reason ?? '', endpoints].join('\t'),
      );
    }
  }
  const header: Row = { kind: 'KIND', name: 'NAME', type: 'CONDITION', status: 'STATUS', reason: 'REASON', message: 'MESSAGE' };
  const out = table([header, ...rows].map((r) => [r.kind, r.name, r.type, r.status, r.reason, r.message]));
  const backends = backendLines.length
    ? '\n' + table([['ROUTE', 'BACKEND', 'RESOLUTION', 'REASON', 'ENDPOINTS'], ...backendLines.map((l) => l.split('\t'))])
    : '';
  return out + backends;
}

function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ').trimEnd())
    .join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------- --admin

/**
 * `gatehouse status --admin ADDR [-o json]`: the same report from a running instance's `GET /status`,
 * followed by its last reload (result, time, and the diagnostics of a rejected config).
 */
async function runAdmin(argv: string[], at: number): Promise<number> {
  const a = argv[at];
  const addr = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[at + 1];
  const rest = argv.filter((_x, i) => i !== at && (a.includes('=') || i !== at + 1));
  if (!addr) return usageError('--admin expects HOST:PORT');
  const o = rest.findIndex((x) => x === '-o' || x === '--output');
  const output = o >= 0 ? rest[o + 1] : 'text';
  if (output !== 'json' && output !== 'text') return usageError('-o expects "json" or "text"');
  const extra = rest.filter((_x, i) => o < 0 || (i !== o && i !== o + 1));
  if (extra.length > 0) return usageError(`unexpected argument ${extra[0]} (with --admin no DIR is read)`);
  const base = /^https?:\/\//.test(addr) ? addr.replace(/\/+$/, '') : `http://${addr.startsWith(':') ? `127.0.0.1${addr}` : addr}`;
  let body: StatusReport & { lastReload?: { result: string; time: string; trigger: string; message: string; diagnostics?: { text: string; severity: string }[] } | null };
  try {
    const res = await fetch(`${base}/status`, { signal: AbortSignal.timeout(5000) });
    if (res.status !== 200) {
      process.stderr.write(`gatehouse status: ${base}/status answered ${res.status}\n`);
      return 1;
    }
    body = (await res.json()) as typeof body;
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    process.stderr.write(`gatehouse status: cannot reach ${base}/status: ${err.cause?.code ?? err.message}\n`);
    return 1;
  }
  if (output === 'json') {
    process.stdout.write(JSON.stringify(body, null, 2) + '\n');
    return 0;
  }
  let out = formatStatus({ gatewayClasses: body.gatewayClasses ?? [], gateways: body.gateways ?? [], routes: body.routes ?? [] });
  const lr = body.lastReload;
  if (lr) {
    out += `\nlast reload: ${lr.result} at ${lr.time} (${lr.trigger}): ${lr.message}\n`;
    for (const d of lr.diagnostics ?? []) if (lr.result === 'error' || d.severity !== 'info') out += `  ${d.text}\n`;
  }
  process.stdout.write(out);
  return 0;
}
