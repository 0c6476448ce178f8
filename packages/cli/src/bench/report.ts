/** The human report of `gatehouse bench` (`-o json` prints the BenchReport itself). */
import type { BenchReport } from './run.js';

function fmtMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)}s`;
  if (ms >= 10) return `${ms.toFixed(1)}ms`;
  if (ms >= 1) return `${ms.toFixed(2)}ms`;
  return `${Math.round(ms * 1000)}µs`;
}

function fmtCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function lpad(s: string, n: number): string {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s;
}

function bar(count: number, max: number, width = 30): string {
  if (max <= 0 || count <= 0) return '';
  return '█'.repeat(Math.max(1, Math.round((count / max) * width)));
}

export function formatBenchReport(r: BenchReport): string {
  const out: string[] = [];
  const what =
    r.mode === 'offline'
      ? 'matcher only (--offline), no sockets'
      : r.mode === 'target'
        ? `against ${r.target}`
        : 'in-process gateway, echo backends';
  out.push(`gatehouse bench ${r.dir} — ${what}`);
  const derived = r.requests.filter((q) => q.source === 'derived').length;
  const fromFile = r.requests.length - derived;
  const c = r.coverage;
  out.push(
    `  ${r.requests.length} request${r.requests.length === 1 ? '' : 's'}${fromFile ? ' from the file' : ` derived from ${c.rules} rule${c.rules === 1 ? '' : 's'}`}` +
      (fromFile ? '' : c.uncovered.length === 0 ? ' (every rule covered)' : ` (${c.covered}/${c.rules} rules covered; not: ${c.uncovered.join(', ')})`),
  );
  if (r.mode !== 'offline') {
    const s = r.settings;
    out.push(
      `  ${s.connections} connection${s.connections === 1 ? '' : 's'}, ${fmtMs(s.durationMs)}${s.maxRequests !== null ? ` or ${fmtCount(s.maxRequests)} requests` : ''}${s.rate !== null ? `, ${s.rate} req/s` : ''}` +
        (r.totals.stoppedBy === 'interrupted' ? '  (interrupted)' : ''),
    );
  }
  for (const sk of c.skipped) out.push(`  skipped   ${sk.route} rule ${sk.rule} match ${sk.match}: ${sk.reason}`);
  for (const n of r.notes) out.push(`  note      ${n}`);
  out.push('');

  const t = r.totals;
  if (r.offline) {
    const o = r.offline;
    out.push(`lookups     ${fmtCount(o.lookups)} in ${fmtMs(o.elapsedMs)} = ${fmtCount(o.lookupsPerSecond)} lookups/s, ${o.nsPerLookup} ns/lookup (selectGroup + match)`);
  } else {
    out.push(`throughput  ${fmtCount(t.responses)} responses in ${fmtMs(t.elapsedMs)} = ${fmtCount(Math.round(t.throughput))} req/s  (${fmtCount(t.errors)} errors)`);
    const l = r.latencyMs;
    if (l) {
      out.push(`latency     p50 ${fmtMs(l.p50)}  p90 ${fmtMs(l.p90)}  p99 ${fmtMs(l.p99)}  p99.9 ${fmtMs(l.p999)}  max ${fmtMs(l.max)}  (min ${fmtMs(l.min)}, mean ${fmtMs(l.mean)})`);
      const max = Math.max(...l.histogram.map((b) => b.count));
      for (const b of l.histogram) out.push(`            ≤ ${lpad(fmtMs(b.leMs), 7)} ${lpad(fmtCount(b.count), 9)} ${bar(b.count, max)}`);
    }
    const codes = Object.entries(r.statusCodes).sort(([a], [b]) => a.localeCompare(b));
    out.push(`status      ${codes.length ? codes.map(([k, n]) => `${k} ×${fmtCount(n)}`).join('  ') : '(no responses)'}`);
    const errs = Object.entries(r.errors);
    if (errs.length) out.push(`errors      ${errs.map(([k, n]) => `${k} ×${fmtCount(n)}`).join('  ')}`);
  }
  out.push('');

  out.push(r.mode === 'offline' ? 'rules (lookups → rule)' : r.mode === 'in-process' ? 'rules (requests sent for the rule, hits counted by the gateway)' : 'rules (requests sent for the rule, hits inferred from the answers)');
  for (const rs of r.rules) {
    const local = rs.localStatus !== null ? `  → ${rs.localStatus} (no backend)` : '';
    out.push(`  ${pad(rs.rule, 44)} sent ${lpad(fmtCount(rs.sent), 8)}  hits ${lpad(fmtCount(rs.hits), 8)}${local}`);
    if (r.mode === 'offline') continue;
    for (const b of rs.backends) {
      out.push(`      ${pad(b.name, 40)} ${lpad(b.share.toFixed(1), 5)}% (expected ${b.expectedShare.toFixed(1)}%, weight ${b.weight})  ${fmtCount(b.count)}`);
    }
  }
  if (r.backends.length > 0) {
    out.push('');
    out.push('backends (all answers)');
    for (const b of r.backends) {
      out.push(`  ${pad(b.name, 44)} ${lpad(fmtCount(b.count), 8)}  ${lpad(b.share.toFixed(1), 5)}% (expected ${b.expectedShare.toFixed(1)}%)`);
    }
  }
  out.push('');
  if (r.unmatched.length === 0) out.push('unmatched   none: every request reached the rule it was meant for');
  else {
    out.push(`unmatched   ${r.unmatched.length} request${r.unmatched.length === 1 ? '' : 's'} did not reach the rule they were meant for:`);
    for (const u of r.unmatched) {
      out.push(`  #${u.id} ${u.url}`);
      out.push(`      expected ${u.expected ?? '(a route)'}; got ${u.got} ×${fmtCount(u.count)}`);
    }
  }
  out.push('');
  out.push('requests');
  for (const q of r.requests) {
    const hdrs = q.headers.length ? '  ' + q.headers.map(([k, v]) => `${k}: ${v}`).join('  ') : '';
    const n = r.mode === 'offline' ? (q.nsPerLookup !== undefined ? `${q.nsPerLookup} ns/lookup` : 'not timed') : `${fmtCount(q.sent)} sent`;
    out.push(`  #${q.id} ${q.url}${hdrs}${q.weight !== 1 ? `  (weight ${q.weight})` : ''}`);
    out.push(`      → ${q.predicted}   ${n}`);
    for (const note of q.notes) out.push(`      note: ${note}`);
  }
  if (r.gatewayLog.length) {
    out.push('');
    out.push('gateway log (warnings and errors)');
    for (const l of r.gatewayLog) out.push(`  ${l}`);
  }
  return out.join('\n') + '\n';
}
