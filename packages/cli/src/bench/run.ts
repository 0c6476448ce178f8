/**
 * The runs behind `gatehouse bench`: against an in-process gateway with echo backends, against a
 * running gateway (`--target`), or the matcher alone (`--offline`); all end in one BenchReport.
 */
import { normalizeHost, SmoothWeightedRoundRobin, type RoutingTable, type StatusReport } from '@gatehouse/core';
import { startBenchGateway, type BenchGateway } from './gateway.js';
import { startLoad, type LoadProgress, type LoadRun, type PlannedRequest } from './load.js';
import { LatencyHistogram } from './histogram.js';
import {
  Predictor,
  predictedAsExpected,
  requestUrl,
  ruleKey,
  ruleLabel,
  type BenchRequest,
  type RuleRef,
  type Skipped,
} from './requests.js';

export interface BenchSettings {
  dir: string;
  mode: 'in-process' | 'target' | 'offline';
  target: string | null;
  connections: number;
  durationMs: number;
  maxRequests: number | null;
  rate: number | null;
  timeoutMs: number;
}

export interface RequestStats {
  id: number;
  url: string;
  source: 'derived' | 'file';
  headers: [string, string][];
  weight: number;
  expected: string | null;
  predicted: string;
  sent: number;
  statuses: Record<string, number>;
  errors: Record<string, number>;
  /** Backend (BackendIR id, or `pod NAME` when unknown) → responses. */
  backends: Record<string, number>;
  /** Responses that reached no route (404 from the gateway). */
  noRoute: number;
  /** Responses that reached another rule than expected (label → count). */
  otherRules: Record<string, number>;
  /** `--offline`: nanoseconds per selectGroup+match. */
  nsPerLookup?: number;
  notes: string[];
}

export interface RuleStats {
  rule: string;
  route: string;
  index: number;
  /** Requests sent that expect this rule. */
  sent: number;
  /** Requests the gateway routed to this rule (in-process: counted by the gateway; --target: inferred from answers). */
  hits: number;
  /** Answer without a backend (redirect code, 500), or null. */
  localStatus: number | null;
  backends: { name: string; weight: number; expectedShare: number; count: number; share: number }[];
}

export interface BenchReport {
  mode: BenchSettings['mode'];
  dir: string;
  target: string | null;
  settings: { connections: number; durationMs: number; maxRequests: number | null; rate: number | null };
  notes: string[];
  coverage: { rules: number; covered: number; uncovered: string[]; skipped: Skipped[] };
  requests: RequestStats[];
  totals: { requests: number; responses: number; errors: number; elapsedMs: number; throughput: number; stoppedBy: string };
  latencyMs: { min: number; mean: number; p50: number; p90: number; p99: number; p999: number; max: number; histogram: { leMs: number; count: number }[] } | null;
  statusCodes: Record<string, number>;
  errors: Record<string, number>;
  rules: RuleStats[];
  backends: { name: string; count: number; share: number; expectedCount: number; expectedShare: number }[];
  unmatched: { id: number; url: string; expected: string | null; got: string; count: number }[];
  offline: { lookups: number; elapsedMs: number; nsPerLookup: number; lookupsPerSecond: number } | null;
  gatewayLog: string[];
}

export interface Progress {
  start(totalMs: number, maxRequests: number | null): void;
  update(p: LoadProgress): void;
  done(): void;
}

function inc(o: Record<string, number>, k: string, n = 1): void {
  o[k] = (o[k] ?? 0) + n;
}

function predictedLabel(r: BenchRequest): string {
  const p = r.predicted;
  if (p.outcome === 'route') return ruleLabel(p.rule!);
  return p.outcome === 'no-route' ? 'no route (404)' : p.outcome === 'refused' ? 'refused (400)' : 'no listener';
}

function expectedLabel(r: BenchRequest): string | null {
  return r.expectNoRoute ? 'no route (404)' : r.expected ? ruleLabel(r.expected) : null;
}

/** The mix as a sequence of request indices: smooth weighted round-robin over the weights. */
export function mixSequence(requests: readonly BenchRequest[]): number[] {
  const live = requests.map((r) => r.weight);
  const total = live.reduce((a, b) => a + b, 0);
  if (total <= 0) return [];
  const swrr = new SmoothWeightedRoundRobin(live);
  const out: number[] = [];
  for (let i = 0; i < Math.min(total, 100_000); i++) out.push(swrr.next());
  return out;
}

function round(n: number, d = 2): number {
  const f = 10 ** d;
  return Math.round(n * f) / f;
}

/** Read the echo answer's `pod`, `service`, `namespace` without parsing the whole body. */
function echoFields(body: string): { pod: string; service: string; namespace: string } | null {
  if (body.charCodeAt(0) !== 123 /* { */) return null;
  const get = (name: string): string | null => {
    const m = new RegExp(`"${name}":\\s*"((?:[^"\\\\]|\\\\.)*)"`).exec(body);
    if (m === null) return null;
    try {
      return JSON.parse(`"${m[1]}"`) as string;
    } catch {
      return m[1]!;
    }
  };
  const pod = get('pod');
  if (pod === null) return null;
  return { pod, service: get('service') ?? '', namespace: get('namespace') ?? '' };
}

interface Collector {
  stats: RequestStats[];
  record(index: number, status: number, body: string): void;
  error(index: number, code: string): void;
}

function newCollector(requests: BenchRequest[], table: RoutingTable, inProcess: boolean): Collector {
  const stats: RequestStats[] = requests.map((r) => ({
    id: r.id,
    url: requestUrl(r),
    source: r.source,
    headers: r.headers,
    weight: r.weight,
    expected: expectedLabel(r),
    predicted: predictedLabel(r),
    sent: 0,
    statuses: {},
    errors: {},
    backends: {},
    noRoute: 0,
    otherRules: {},
    notes: [...r.notes],
  }));
  const ids = new Set(table.backends.map((b) => b.id));
  const identify = (r: BenchRequest, f: { pod: string; service: string; namespace: string }): string => {
    if (inProcess && ids.has(f.pod)) return f.pod;
    // --target: the echo answer's service/namespace name a Service backend (prefer the rule's own refs)
    const byService = (id: string): boolean => {
      const m = /^Service ([^/]+)\/([^:]+):/.exec(id);
      return m !== null && m[2] === f.service && (f.namespace === '' || m[1] === f.namespace);
    };
    const own = r.predicted.backends.map((b) => table.backends[b.backend]?.id).filter((x): x is string => x !== undefined);
    return own.find(byService) ?? table.backends.find((b) => byService(b.id))?.id ?? `pod ${f.pod}`;
  };
  // Cache the last body → backend per request (echo bodies repeat exactly).
  const last: { body: string; backend: string | null }[] = requests.map(() => ({ body: '', backend: null }));
  return {
    stats,
    record(i, status, body) {
      const s = stats[i]!;
      const r = requests[i]!;
      s.sent++;
      inc(s.statuses, String(status));
      let backend: string | null;
      if (last[i]!.body === body) backend = last[i]!.backend;
      else {
        const f = echoFields(body);
        backend = f === null ? null : identify(r, f);
        last[i] = { body, backend };
      }
      if (backend === null && status === 500) {
        // the share of an invalid backendRef is answered 500 by the gateway itself
        const invalid = r.predicted.backends.find((b) => b.backend < 0);
        if (invalid) backend = `${invalid.name} (invalid: 500)`;
      }
      if (backend !== null) inc(s.backends, backend);
      if (inProcess) return; // the gateway's own counters decide rule hits (see attribute())
      if (status === 404 && backend === null) {
        s.noRoute++;
        return;
      }
      const exp = r.expected;
      if (exp === null) return;
      const ruleOf = r.predicted.rule && ruleKey(r.predicted.rule) === ruleKey(exp) ? r.predicted : null;
      if (ruleOf === null) return;
      if (ruleOf.localStatus !== null) {
        if (status !== ruleOf.localStatus && backend !== null) inc(s.otherRules, `another rule (backend ${backend})`);
        return;
      }
      if (backend !== null && !backend.startsWith('pod ')) {
        const own = ruleOf.backends.some((b) => table.backends[b.backend]?.id === backend);
        if (!own) inc(s.otherRules, `another rule (backend ${backend})`);
      }
    },
    error(i, code) {
      const s = stats[i]!;
      s.sent++;
      inc(s.errors, code);
    },
  };
}

/** In-process: per request, what the gateway's counters say it hit (requests told apart by method, host, path). */
function attribute(requests: BenchRequest[], stats: RequestStats[], gw: BenchGateway, predictor: Predictor, labels: Map<string, string>): void {
  const byKey = new Map<string, number[]>();
  requests.forEach((r, i) => {
    const h = predictor.head(r);
    if (h === null) return;
    const key = `${r.method} ${normalizeHost(r.host)} ${h.path}`;
    byKey.set(key, [...(byKey.get(key) ?? []), i]);
  });
  for (const [key, idx] of byKey) {
    const hits = gw.telemetry.byRequest.get(key);
    if (hits === undefined) continue;
    const expectedKeys = idx.map((i) => (requests[i]!.expected ? ruleKey(requests[i]!.expected!) : requests[i]!.expectNoRoute ? '-' : '?'));
    for (const [rule, n] of hits) {
      // Hits on a rule some request of this key expects are fine; the rest are charged to the first request.
      if (expectedKeys.includes(rule)) continue;
      const s = stats[idx[0]!]!;
      if (rule === '-') s.noRoute += n;
      else inc(s.otherRules, labels.get(rule) ?? rule, n);
      const note = `requests ${idx.map((i) => `#${requests[i]!.id}`).join(', ')} look alike to the gateway's counters (same method, host and path): hits on other rules are charged to the first`;
      if (idx.length > 1 && !s.notes.includes(note)) s.notes.push(note);
    }
  }
}

function ruleLabels(table: RoutingTable): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of table.ports) for (const g of p.httpGroups) for (const r of g.rules) out.set(ruleKey({ route: r.route, rule: r.ruleIndex }), ruleLabel({ route: r.route, routeKind: r.routeKind, rule: r.ruleIndex, ruleName: r.ruleName }));
  return out;
}

/** Rules in table order (port, listener group, precedence). */
function sortRules(rules: RuleStats[], table: RoutingTable): void {
  const order = [...ruleLabels(table).keys()];
  const pos = (rs: RuleStats): number => {
    const i = order.indexOf(`${rs.route}#${rs.index}`);
    return i < 0 ? order.length : i;
  };
  rules.sort((a, b) => pos(a) - pos(b));
}

function buildReport(
  settings: BenchSettings,
  table: RoutingTable,
  requests: BenchRequest[],
  stats: RequestStats[],
  coverage: BenchReport['coverage'],
  notes: string[],
): BenchReport {
  const labels = ruleLabels(table);
  const rules = new Map<string, RuleStats>();
  const ruleOf = (ref: RuleRef): RuleStats => {
    const k = ruleKey(ref);
    let rs = rules.get(k);
    if (rs === undefined) {
      rules.set(k, (rs = { rule: labels.get(k) ?? ruleLabel(ref), route: ref.route, index: ref.rule, sent: 0, hits: 0, localStatus: null, backends: [] }));
    }
    return rs;
  };
  const statusCodes: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const backendTotals: Record<string, number> = {};
  const backendExpected: Record<string, number> = {};
  requests.forEach((r, i) => {
    const s = stats[i]!;
    for (const [k, n] of Object.entries(s.statuses)) inc(statusCodes, k, n);
    for (const [k, n] of Object.entries(s.errors)) inc(errors, k, n);
    for (const [k, n] of Object.entries(s.backends)) inc(backendTotals, k, n);
    const exp = r.expected;
    if (exp === null) return;
    const rs = ruleOf(exp);
    rs.sent += s.sent;
    const p = r.predicted;
    if (p.rule === null || ruleKey(p.rule) !== ruleKey(exp)) return;
    rs.localStatus = p.localStatus;
    if (settings.mode !== 'in-process') {
      const other = Object.values(s.otherRules).reduce((a, b) => a + b, 0);
      rs.hits += settings.mode === 'offline' ? s.sent : Math.max(0, s.sent - s.noRoute - other - Object.values(s.errors).reduce((a, b) => a + b, 0));
    }
    if (p.localStatus !== null) return;
    const total = p.backends.reduce((a, b) => a + Math.max(0, b.weight), 0);
    const answered = Object.values(s.backends).reduce((a, b) => a + b, 0);
    for (const b of p.backends) {
      const id = table.backends[b.backend]?.id ?? `${b.name} (invalid: 500)`;
      let row = rs.backends.find((x) => x.name === id);
      if (row === undefined) rs.backends.push((row = { name: id, weight: b.weight, expectedShare: total > 0 ? round((100 * Math.max(0, b.weight)) / total) : 0, count: 0, share: 0 }));
      row.count += s.backends[id] ?? 0;
      if (total > 0) inc(backendExpected, id, (answered * Math.max(0, b.weight)) / total);
    }
  });
  for (const rs of rules.values()) {
    const n = rs.backends.reduce((a, b) => a + b.count, 0);
    for (const b of rs.backends) b.share = n > 0 ? round((100 * b.count) / n) : 0;
  }
  const unmatched: BenchReport['unmatched'] = [];
  requests.forEach((r, i) => {
    const s = stats[i]!;
    const exp = expectedLabel(r);
    if (settings.mode === 'offline') {
      if (!predictedAsExpected(r)) unmatched.push({ id: r.id, url: s.url, expected: exp, got: s.predicted, count: s.sent });
      return;
    }
    if (s.noRoute > 0 && !r.expectNoRoute) unmatched.push({ id: r.id, url: s.url, expected: exp, got: 'no route (404)', count: s.noRoute });
    for (const [label, n] of Object.entries(s.otherRules)) unmatched.push({ id: r.id, url: s.url, expected: exp, got: label, count: n });
    if (exp === null && !r.expectNoRoute && s.noRoute === 0 && s.sent > 0 && r.predicted.outcome !== 'route') {
      unmatched.push({ id: r.id, url: s.url, expected: null, got: s.predicted, count: s.sent });
    }
  });
  const answered = Object.values(backendTotals).reduce((a, b) => a + b, 0);
  const backends = Object.entries(backendTotals)
    .map(([name, count]) => ({
      name,
      count,
      share: answered > 0 ? round((100 * count) / answered) : 0,
      expectedCount: round(backendExpected[name] ?? 0, 1),
      expectedShare: answered > 0 ? round((100 * (backendExpected[name] ?? 0)) / answered) : 0,
    }))
    .sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
  return {
    mode: settings.mode,
    dir: settings.dir,
    target: settings.target,
    settings: { connections: settings.connections, durationMs: settings.durationMs, maxRequests: settings.maxRequests, rate: settings.rate },
    notes,
    coverage,
    requests: stats,
    totals: { requests: 0, responses: 0, errors: 0, elapsedMs: 0, throughput: 0, stoppedBy: 'duration' },
    latencyMs: null,
    statusCodes,
    errors,
    rules: [...rules.values()],
    backends,
    unmatched,
    offline: null,
    gatewayLog: [],
  };
}

function latency(h: LatencyHistogram): BenchReport['latencyMs'] {
  if (h.count === 0) return null;
  const ms = (us: number): number => round(us / 1000, 3);
  return {
    min: ms(h.minUs),
    mean: ms(h.meanUs()),
    p50: ms(h.percentileUs(50)),
    p90: ms(h.percentileUs(90)),
    p99: ms(h.percentileUs(99)),
    p999: ms(h.percentileUs(99.9)),
    max: ms(h.maxUs),
    histogram: h.octaves().map((b) => ({ leMs: b.leUs / 1000, count: b.count })),
  };
}

export interface BenchInput {
  settings: BenchSettings;
  table: RoutingTable;
  status: StatusReport;
  requests: BenchRequest[];
  coverage: BenchReport['coverage'];
  notes: string[];
  progress?: Progress;
  /** Called once the load runs, with its stop function (Ctrl-C). */
  onStart?: (stop: () => void) => void;
}

/** Load against the in-process gateway (echo backends) or `--target`. */
export async function runLoadBench(input: BenchInput): Promise<BenchReport> {
  const { settings, table, requests } = input;
  const notes = [...input.notes];
  const inProcess = settings.mode === 'in-process';
  let gw: BenchGateway | null = null;
  if (inProcess) {
    gw = await startBenchGateway(table, input.status);
    notes.push(...gw.notes);
  }
  try {
    const origins = gw?.origins ?? null;
    const plan: PlannedRequest[] = requests.map((r) => {
      const origin = origins ? (origins.get(r.port) ?? '') : settings.target!.replace(/\/+$/, '').replace(/^(https?:\/\/[^/]+).*$/, '$1');
      const headers = ['host', r.port === 80 ? r.host : `${r.host}:${r.port}`];
      for (const [k, v] of r.headers) headers.push(k, v);
      return { origin, method: r.method, path: r.target, headers, body: r.body };
    });
    // requests for a port the bench gateway does not serve are not sent
    requests.forEach((r, i) => {
      if (plan[i]!.origin === '') {
        r.weight = 0;
        r.notes.push(`not sent: no HTTP listener on port ${r.port}`);
      }
    });
    const sequence = mixSequence(requests);
    if (sequence.length === 0) throw new Error('no request to send (every weight is 0, or no request reaches an HTTP listener)');
    const collector = newCollector(requests, table, inProcess);
    if (gw) gw.telemetry.enabled = true;
    input.progress?.start(settings.durationMs, settings.maxRequests);
    const run: LoadRun = startLoad(plan, {
      connections: settings.connections,
      durationMs: settings.durationMs,
      maxRequests: settings.maxRequests,
      rate: settings.rate,
      sequence,
      timeoutMs: settings.timeoutMs,
      onResponse: (i, status, body) => collector.record(i, status, body),
      onError: (i, code) => collector.error(i, code),
      onProgress: input.progress ? (p) => input.progress!.update(p) : undefined,
    });
    input.onStart?.(run.stop);
    const result = await run.result;
    input.progress?.done();
    if (gw) {
      gw.telemetry.enabled = false;
      attribute(requests, collector.stats, gw, new Predictor(table), ruleLabels(table));
    }
    const report = buildReport(settings, table, requests, collector.stats, input.coverage, notes);
    sortRules(report.rules, table);
    if (gw) {
      const labels = ruleLabels(table);
      for (const rs of report.rules) rs.hits = gw.telemetry.rules.get(`${rs.route}#${rs.index}`) ?? 0;
      // rules hit that no request expected
      for (const [k, n] of gw.telemetry.rules) {
        if (k === '-' || report.rules.some((rs) => `${rs.route}#${rs.index}` === k)) continue;
        const [route, idx] = [k.slice(0, k.lastIndexOf('#')), Number(k.slice(k.lastIndexOf('#') + 1))];
        report.rules.push({ rule: labels.get(k) ?? k, route, index: idx, sent: 0, hits: n, localStatus: null, backends: [] });
      }
      report.gatewayLog = gw.logger.lines;
      sortRules(report.rules, table);
    }
    report.totals = {
      requests: result.completed + result.errors,
      responses: result.completed,
      errors: result.errors,
      elapsedMs: round(result.elapsedMs, 1),
      throughput: round((result.completed / result.elapsedMs) * 1000, 1),
      stoppedBy: result.stoppedBy,
    };
    report.latencyMs = latency(result.histogram);
    if (settings.rate !== null && report.totals.throughput < settings.rate * 0.9 && result.stoppedBy !== 'interrupted') {
      report.notes.push(
        `the rate of ${settings.rate} req/s was not reached (${report.totals.throughput} req/s): ${settings.connections} connection${settings.connections === 1 ? '' : 's'} at this latency cannot send more; add --connections`,
      );
    }
    return report;
  } finally {
    await gw?.close();
  }
}

/** `--offline`: time selectGroup + match per request (no sockets). */
export function runOfflineBench(input: BenchInput): BenchReport {
  const { settings, table, requests } = input;
  const predictor = new Predictor(table);
  const stats = newCollector(requests, table, false).stats;
  const live = requests.map((r, i) => ({ r, i, port: predictor.port(r.port), head: predictor.head(r) })).filter((x) => x.r.weight > 0);
  const timed = live.filter((x) => x.port !== undefined && x.head !== null);
  let lookups = 0;
  let elapsedNs = 0;
  const budgetNs = settings.durationMs * 1e6;
  const perRequestNs = timed.length > 0 ? budgetNs / timed.length : 0;
  let sink = 0;
  for (const x of timed) {
    const m = predictor.matcher(x.port!);
    const head = x.head!;
    // warm up, then batches until this request's share of the time budget is spent
    for (let k = 0; k < 2000; k++) if (m.match(m.selectGroup(head.host), head) !== null) sink++;
    let n = 0;
    const t0 = process.hrtime.bigint();
    let spent = 0;
    const cap = settings.maxRequests !== null ? Math.max(1, Math.ceil(settings.maxRequests / timed.length)) : Infinity;
    while (spent < perRequestNs && n < cap) {
      const batch = Math.min(1000, cap - n);
      for (let k = 0; k < batch; k++) if (m.match(m.selectGroup(head.host), head) !== null) sink++;
      n += batch;
      spent = Number(process.hrtime.bigint() - t0);
    }
    stats[x.i]!.sent = n;
    stats[x.i]!.nsPerLookup = round(spent / n, 1);
    lookups += n;
    elapsedNs += spent;
  }
  void sink;
  for (const x of live) if (x.port === undefined || x.head === null) stats[x.i]!.notes.push(x.head === null ? 'refused target (400): not timed' : `no HTTP listener on port ${x.r.port}: not timed`);
  const report = buildReport(settings, table, requests, stats, input.coverage, [...input.notes]);
  sortRules(report.rules, table);
  const elapsedMs = elapsedNs / 1e6;
  report.offline = {
    lookups,
    elapsedMs: round(elapsedMs, 1),
    nsPerLookup: lookups > 0 ? round(elapsedNs / lookups, 1) : 0,
    lookupsPerSecond: elapsedNs > 0 ? Math.round((lookups / elapsedNs) * 1e9) : 0,
  };
  report.totals = { requests: lookups, responses: lookups, errors: 0, elapsedMs: round(elapsedMs, 1), throughput: report.offline.lookupsPerSecond, stoppedBy: settings.maxRequests !== null ? 'requests' : 'duration' };
  return report;
}
