/**
 * The requests `gatehouse bench` sends: derived from the compiled table (one per HTTP listener group ×
 * match entry, each knowing the route/rule it was derived for), or read from a file. Each request also
 * carries what the matcher predicts for it (the same trie matcher the proxy uses), so a request that
 * would hit another rule than expected, or nothing, is known before any traffic is sent.
 */
import {
  buildPortMatcher,
  explainHttp,
  normalizeHost,
  parseRequestTarget,
  type HttpMatchEntry,
  type HttpRuleIR,
  type PortIR,
  type PortMatcher,
  type RequestHead,
  type RoutingTable,
} from '@gatehouse/core';
import { sampleRegex } from './regex-sample.js';

export interface RuleRef {
  /** `ns/name` of the route. */
  route: string;
  routeKind: string;
  /** 0-based rule index in the route. */
  rule: number;
  ruleName: string | null;
}

/** What the matcher says a request reaches. */
export interface Prediction {
  /** `route`: a rule answers; `no-route`: 404; `refused`: 400 (bad target); `no-listener`: nothing listens. */
  outcome: 'route' | 'no-route' | 'refused' | 'no-listener';
  rule: RuleRef | null;
  /** Listener id (`ns/gateway/listener`) the request is matched through. */
  listener: string | null;
  /** The status a rule answers without a backend (redirect code, 500 for no/invalid backendRefs), else null. */
  localStatus: number | null;
  /** Backends of the rule: index into the table's backends (-1: invalid ref, answers 500), weight. */
  backends: { backend: number; name: string; weight: number }[];
}

export interface BenchRequest {
  /** 1-based, stable in the report. */
  id: number;
  method: string;
  /** The Gateway listener port the request is for (in-process runs map it to the bound port). */
  port: number;
  /** Host header (no port). */
  host: string;
  /** Origin-form request target (path and query). */
  target: string;
  /** Extra request headers, names lowercased (no Host). */
  headers: [string, string][];
  body: string | null;
  /** Share in the mix (0 = not sent). */
  weight: number;
  source: 'derived' | 'file';
  /** The rule the request was written for: the derivation's rule, a file's `expect`, else the prediction. */
  expected: RuleRef | null;
  /** A file request that says it expects no route (`"expect": "404"`). */
  expectNoRoute: boolean;
  predicted: Prediction;
  /** Derived requests: the match entry it was derived from. */
  match: number | null;
  notes: string[];
}

export interface Skipped {
  route: string;
  rule: number;
  match: number;
  reason: string;
}

export interface Derivation {
  requests: BenchRequest[];
  skipped: Skipped[];
  notes: string[];
  /** Every HTTP rule of the table (HTTP ports), and which have a derived request. */
  rules: RuleRef[];
  uncovered: RuleRef[];
}

export function ruleKey(r: { route: string; rule: number }): string {
  return `${r.route}#${r.rule}`;
}

export function ruleLabel(r: RuleRef): string {
  return `${r.routeKind} ${r.route} rule ${r.rule}${r.ruleName ? ` (${r.ruleName})` : ''}`;
}

function refOf(rule: HttpRuleIR): RuleRef {
  return { route: rule.route, routeKind: rule.routeKind, rule: rule.ruleIndex, ruleName: rule.ruleName };
}

/** The plain-HTTP sockets of the table (HTTPS/TLS/TCP/UDP ports are not benchmarked). */
export function httpPorts(table: RoutingTable): PortIR[] {
  return table.ports.filter((p) => p.protocol === 'HTTP' && p.transport === 'tcp');
}

// ---------------------------------------------------------------------------------------------- prediction

export class Predictor {
  private readonly matchers = new Map<PortIR, PortMatcher>();
  constructor(readonly table: RoutingTable) {}

  port(n: number): PortIR | undefined {
    return httpPorts(this.table).find((p) => p.port === n);
  }

  matcher(port: PortIR): PortMatcher {
    let m = this.matchers.get(port);
    if (m === undefined) this.matchers.set(port, (m = buildPortMatcher(port)));
    return m;
  }

  head(req: Pick<BenchRequest, 'method' | 'host' | 'target' | 'headers'>): RequestHead | null {
    const t = parseRequestTarget(req.target);
    if (t === null) return null;
    const headers: Record<string, string> = {};
    for (const [k, v] of req.headers) headers[k] = headers[k] === undefined ? v : `${headers[k]},${v}`;
    headers.host = req.host;
    return { method: req.method, host: normalizeHost(req.host), path: t.path, query: t.query, headers };
  }

  /** What the proxy's matcher does with the request; `entry` is the winning match entry, if any. */
  predict(req: Pick<BenchRequest, 'method' | 'port' | 'host' | 'target' | 'headers'>): { prediction: Prediction; entry: HttpMatchEntry | null } {
    const none = (outcome: Prediction['outcome'], listener: string | null = null): { prediction: Prediction; entry: null } => ({
      prediction: { outcome, rule: null, listener, localStatus: null, backends: [] },
      entry: null,
    });
    const port = this.port(req.port);
    if (port === undefined) return none('no-listener');
    const head = this.head(req);
    if (head === null) return none('refused');
    const m = this.matcher(port);
    const g = m.selectGroup(head.host);
    if (g < 0) return none('no-route');
    const r = m.match(g, head);
    const group = port.httpGroups[g]!;
    if (r === null) return none('no-route', port.listeners[group.listeners[0]!]?.id ?? null);
    const rule = r.rule;
    const redirect = rule.filters.find((f) => f.type === 'RequestRedirect');
    let localStatus: number | null = null;
    if (redirect && redirect.type === 'RequestRedirect') localStatus = redirect.statusCode;
    else if (rule.filters.some((f) => f.type === 'Unsupported')) localStatus = 500;
    else if (rule.backendRefs.length === 0 || rule.backendRefs.every((b) => b.weight <= 0)) localStatus = 500;
    return {
      prediction: {
        outcome: 'route',
        rule: refOf(rule),
        listener: port.listeners[r.entry.listener]?.id ?? null,
        localStatus,
        backends: rule.backendRefs.map((b) => ({ backend: b.backend, name: b.name, weight: b.weight })),
      },
      entry: r.entry,
    };
  }

  /** Why `entry` loses for this request (explain's reason), for notes. */
  whyNot(port: PortIR, entry: HttpMatchEntry, req: Pick<BenchRequest, 'method' | 'host' | 'target' | 'headers'>): string {
    const head = this.head(req);
    if (head === null) return 'the request target is refused (400)';
    const ex = explainHttp(port, head);
    if (ex.group < 0) return `no listener covers host ${head.host}`;
    const c = ex.candidates.find((x) => x.entry === entry);
    if (c === undefined) return 'another listener hostname is more specific for this host (listener isolation)';
    return c.reason ?? 'it wins';
  }
}

// ---------------------------------------------------------------------------------------------- derivation

function hostCandidates(entryHost: string, groupHost: string | null): string[] {
  const pattern = entryHost !== '*' ? entryHost : (groupHost ?? '*');
  if (pattern === '*') return ['bench.example', 'gatehouse-bench.invalid', 'bench-1.example'];
  if (pattern.startsWith('*.')) {
    const suffix = pattern.slice(2);
    return [`bench.${suffix}`, `bench-1.${suffix}`, `gatehouse-bench.${suffix}`];
  }
  return [pattern];
}

function pathCandidates(entry: HttpMatchEntry): string[] | string {
  const p = entry.path;
  if (p.type === 'Exact') return [p.value];
  if (p.type === 'PathPrefix') {
    const base = p.value.replace(/\/+$/, '');
    return [`${base}/bench`, base === '' ? '/' : base, `${base}/bench-1/x`];
  }
  const s = sampleRegex(p.value);
  if (s === null) return `cannot derive a path for the regular expression ${JSON.stringify(p.value)}`;
  return [s.startsWith('/') ? s : '/' + s];
}

function encodeQuery(s: string): string {
  return encodeURIComponent(s).replace(/%2F/g, '/');
}

/**
 * One request per match entry of every HTTP listener group, built so that it hits that entry:
 * host from the intersected hostname (a concrete name for wildcards), a path from the path match
 * (Exact value, prefix + `/bench`, a sample of the regex), the method, and the header and query
 * matches. Each candidate is checked with the matcher; alternatives are tried when the first is
 * shadowed by another rule; when none hits its rule the request is kept and marked.
 */
export function deriveRequests(table: RoutingTable): Derivation {
  const predictor = new Predictor(table);
  const requests: BenchRequest[] = [];
  const skipped: Skipped[] = [];
  const notes: string[] = [];
  const rules = new Map<string, RuleRef>();
  const covered = new Set<string>();
  const seen = new Set<string>();
  for (const port of table.ports) {
    if (port.protocol === 'TLS' && port.httpGroups.some((g) => g.entries.length > 0)) {
      notes.push(`HTTPS listeners on ${port.key} are not benchmarked (plain HTTP listeners only)`);
    }
  }
  for (const port of httpPorts(table)) {
    port.httpGroups.forEach((group) => {
      for (const entry of group.entries) {
        const rule = group.rules[entry.rule];
        if (rule === undefined) continue;
        const ref = refOf(rule);
        rules.set(ruleKey(ref), ref);
        const skip = (reason: string): void => {
          skipped.push({ route: rule.route, rule: rule.ruleIndex, match: entry.matchIndex, reason });
        };
        if (entry.grpc) {
          skip('gRPC matches are not benchmarked (HTTP/1.1 load only)');
          continue;
        }
        const paths = pathCandidates(entry);
        if (typeof paths === 'string') {
          skip(paths);
          continue;
        }
        const headers: [string, string][] = [];
        let bad: string | null = null;
        for (const h of entry.headers) {
          if (headers.some(([n]) => n === h.name)) continue;
          const v = h.type === 'Exact' ? h.value : sampleRegex(h.value);
          if (v === null) bad = `cannot derive a value for header ${h.name} ~ ${JSON.stringify(h.value)}`;
          else headers.push([h.name, v]);
        }
        const query: string[] = [];
        const names = new Set<string>();
        for (const q of entry.queryParams) {
          if (names.has(q.name)) continue;
          names.add(q.name);
          const v = q.type === 'Exact' ? q.value : sampleRegex(q.value);
          if (v === null) bad = `cannot derive a value for query param ${q.name} ~ ${JSON.stringify(q.value)}`;
          else query.push(`${encodeQuery(q.name)}=${encodeQuery(v)}`);
        }
        if (bad !== null) {
          skip(bad);
          continue;
        }
        // A match without a method loses to one with a method, so try other methods when GET is taken.
        const methods = entry.method !== null ? [entry.method] : ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'];
        const qs = query.length ? `?${query.join('&')}` : '';
        let chosen: BenchRequest | null = null;
        outer: for (const method of methods) for (const host of hostCandidates(entry.hostname, group.hostname)) {
          for (const path of paths) {
            const draft = { method, port: port.port, host, target: path + qs, headers };
            const { prediction, entry: hit } = predictor.predict(draft);
            const req: BenchRequest = {
              id: 0,
              ...draft,
              headers: [...headers],
              body: null,
              weight: 1,
              source: 'derived',
              expected: ref,
              expectNoRoute: false,
              predicted: prediction,
              match: entry.matchIndex,
              notes: [],
            };
            if (hit === entry) {
              chosen = req;
              break outer;
            }
            chosen ??= req;
          }
        }
        if (chosen === null) continue;
        if (chosen.predicted.outcome !== 'route' || ruleKey(chosen.predicted.rule!) !== ruleKey(ref)) {
          const why = predictor.whyNot(port, entry, chosen);
          const got = chosen.predicted.rule ? ruleLabel(chosen.predicted.rule) : chosen.predicted.outcome === 'no-route' ? 'no route (404)' : chosen.predicted.outcome;
          chosen.notes.push(`no request reaches this match: it goes to ${got} (${why})`);
        }
        const key = `${chosen.port} ${chosen.method} ${chosen.host}${chosen.target} ${JSON.stringify(chosen.headers)}`;
        if (seen.has(key)) continue; // the same request for another match of the same rule
        seen.add(key);
        if (chosen.predicted.rule && ruleKey(chosen.predicted.rule) === ruleKey(ref)) covered.add(ruleKey(ref));
        chosen.id = requests.length + 1;
        requests.push(chosen);
      }
    });
  }
  const all = [...rules.values()];
  return { requests, skipped, notes, rules: all, uncovered: all.filter((r) => !covered.has(ruleKey(r))) };
}

// ---------------------------------------------------------------------------------------------- files

/**
 * `--requests FILE`: JSON lines (`{"method":"GET","url":"http://host[:port]/path?q","headers":{"k":"v"},
 * "body":"…","weight":2,"expect":"ns/name#0"}`) or plain lines `METHOD URL [Name: value]...` (a header
 * value runs to the next token that ends with `:`). Blank lines and lines starting with `#` are skipped.
 * The URL's port is the Gateway listener port (default: 80 when there is an HTTP listener on 80, else
 * the first HTTP listener's port).
 */
export function parseRequestsFile(text: string, table: RoutingTable, file = 'requests'): BenchRequest[] | string {
  const predictor = new Predictor(table);
  const ports = httpPorts(table);
  const defaultPort = ports.some((p) => p.port === 80) ? 80 : (ports[0]?.port ?? 80);
  const out: BenchRequest[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `${file}:${i + 1}`;
    let method: string, url: string, body: string | null = null, weight = 1, expect: string | null = null;
    const headers: [string, string][] = [];
    if (line.startsWith('{')) {
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(line) as Record<string, unknown>;
      } catch (e) {
        return `${where}: invalid JSON: ${(e as Error).message}`;
      }
      method = typeof o.method === 'string' ? o.method : 'GET';
      if (typeof o.url !== 'string') return `${where}: "url" is required`;
      url = o.url;
      if (o.body !== undefined) body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
      if (o.weight !== undefined) {
        if (typeof o.weight !== 'number' || !(o.weight >= 0) || !Number.isInteger(o.weight)) return `${where}: "weight" must be an integer ≥ 0`;
        weight = o.weight;
      }
      if (o.expect !== undefined) {
        if (typeof o.expect !== 'string') return `${where}: "expect" must be a string like "ns/name", "ns/name#1" or "404"`;
        expect = o.expect;
      }
      const h = o.headers;
      if (Array.isArray(h)) {
        for (const pair of h) {
          if (!Array.isArray(pair) || pair.length !== 2) return `${where}: "headers" as a list holds [name, value] pairs`;
          headers.push([String(pair[0]).toLowerCase(), String(pair[1])]);
        }
      } else if (h && typeof h === 'object') {
        for (const [k, v] of Object.entries(h)) for (const x of Array.isArray(v) ? v : [v]) headers.push([k.toLowerCase(), String(x)]);
      } else if (h !== undefined) return `${where}: "headers" must be an object or a list of pairs`;
    } else {
      const tokens = line.split(/\s+/);
      if (tokens.length < 2) return `${where}: expected METHOD URL [Name: value]...`;
      method = tokens[0]!;
      url = tokens[1]!;
      let name: string | null = null;
      let value: string[] = [];
      const flush = (): void => {
        if (name !== null) headers.push([name.toLowerCase(), value.join(' ')]);
      };
      for (const tok of tokens.slice(2)) {
        if (tok.endsWith(':') && tok.length > 1) {
          flush();
          name = tok.slice(0, -1);
          value = [];
        } else if (name === null) return `${where}: expected a header "Name: value", got ${JSON.stringify(tok)}`;
        else value.push(tok);
      }
      flush();
    }
    if (!/^[A-Za-z]+$/.test(method)) return `${where}: METHOD must be a word like GET, got ${JSON.stringify(method)}`;
    const m = /^http:\/\/([^/?#]+)(.*)$/i.exec(url);
    if (m === null) return `${where}: URL must look like http://host[:port]/path, got ${JSON.stringify(url)}`;
    const authority = m[1]!;
    const pm = /^(.*):(\d+)$/.exec(authority);
    const port = pm ? Number(pm[2]) : defaultPort;
    let host = pm ? pm[1]! : authority;
    const hostHeader = headers.find(([k]) => k === 'host');
    if (hostHeader) host = hostHeader[1].replace(/:\d+$/, '');
    let target = m[2]!;
    if (target === '' || target.startsWith('?')) target = '/' + target;
    const req = {
      method: method.toUpperCase(),
      port,
      host,
      target: target.replace(/#.*$/, ''),
      headers: headers.filter(([k]) => k !== 'host'),
    };
    const { prediction } = predictor.predict(req);
    const r: BenchRequest = {
      id: out.length + 1,
      ...req,
      body,
      weight,
      source: 'file',
      expected: prediction.rule,
      expectNoRoute: false,
      predicted: prediction,
      match: null,
      notes: [],
    };
    if (expect !== null) {
      if (/^(404|none|no-route)$/.test(expect)) {
        r.expected = null;
        r.expectNoRoute = true;
      } else {
        const em = /^([^/#\s]+\/[^/#\s]+)(?:#(\d+))?$/.exec(expect);
        if (em === null) return `${where}: "expect" must look like "ns/name", "ns/name#1" or "404", got ${JSON.stringify(expect)}`;
        const route = em[1]!;
        const ruleIdx = em[2] === undefined ? (prediction.rule?.route === route ? prediction.rule.rule : 0) : Number(em[2]);
        const found = table.ports
          .flatMap((p) => p.httpGroups.flatMap((g) => g.rules))
          .find((x) => x.route === route && x.ruleIndex === ruleIdx);
        r.expected = found ? refOf(found) : { route, routeKind: 'HTTPRoute', rule: ruleIdx, ruleName: null };
      }
    }
    if (prediction.outcome === 'no-listener') r.notes.push(`no HTTP listener on port ${port}`);
    out.push(r);
  }
  if (out.length === 0) return `${file}: no requests`;
  return out;
}

/** True when the prediction is what the request expects. */
export function predictedAsExpected(r: BenchRequest): boolean {
  if (r.expectNoRoute) return r.predicted.outcome !== 'route';
  if (r.expected === null) return false;
  return r.predicted.rule !== null && ruleKey(r.predicted.rule) === ruleKey(r.expected);
}

/** `GET http://www.example.com:8080/bench` (the URL as a user would write it). */
export function requestUrl(r: Pick<BenchRequest, 'method' | 'host' | 'port' | 'target'>): string {
  return `${r.method} http://${r.host}${r.port === 80 ? '' : `:${r.port}`}${r.target}`;
}
