/**
 * Conformance test cases as data. One YAML file per upstream test in `cases/`, written from what the
 * upstream Go test checks (see cases/README.md for the format). This module types them, loads them and
 * normalises the short forms (condition strings, default namespace, phase 0 at the top level).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export const INFRA_NS = 'gateway-conformance-infra';
export const DEFAULT_GATEWAY = `${INFRA_NS}/same-namespace`;

/** `True`, `False`, `True:Accepted`, `False:NoMatchingParent` (reason optional = any reason). */
export interface ConditionExpectation {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  /** null = any reason. */
  reason: string | null;
}

export interface ListenerExpectation {
  name: string;
  attachedRoutes?: number;
  /** Route kinds (group gateway.networking.k8s.io), compared as a set. */
  supportedKinds?: string[];
  conditions?: ConditionExpectation[];
}

export interface GatewayExpectation {
  /** `ns/name`. */
  name: string;
  conditions?: ConditionExpectation[];
  /** The Gateway must report at least one status address. */
  hasAddress?: boolean;
  /** When given, the listener list must have exactly these names (upstream listenersMatch). */
  listeners?: ListenerExpectation[];
  /** Every condition of the Gateway and of its listeners must carry this observedGeneration. */
  observedGeneration?: number;
}

export interface GatewayClassExpectation {
  name: string;
  conditions?: ConditionExpectation[];
  /** Every condition must carry this observedGeneration. */
  observedGeneration?: number;
}

export interface RouteParentExpectation {
  /** `ns/name` of the parent Gateway. */
  gateway: string;
  sectionName?: string;
  port?: number;
  conditions: ConditionExpectation[];
}

export interface RouteExpectation {
  kind: 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute' | 'TCPRoute' | 'UDPRoute';
  /** `ns/name`. */
  name: string;
  /** Expected parent statuses (each must be found). */
  parents?: RouteParentExpectation[];
  /** The route must have no parent status with Accepted=True. */
  noAcceptedParents?: boolean;
  /** Every condition of every parent status must carry this observedGeneration (upstream "latest conditions"). */
  observedGeneration?: number;
}

export interface StatusExpectation {
  gatewayClasses?: GatewayClassExpectation[];
  gateways?: GatewayExpectation[];
  routes?: RouteExpectation[];
}

export interface RequestSpec {
  method: string;
  /** Empty = the gateway address itself (`127.0.0.1`, plus `:port` when the listener port is not 80/443). */
  host: string;
  path: string;
  headers: [string, string][];
  body?: string;
  /** `ns/name` of the Gateway to send to. */
  gateway: string;
  /** Listener name: picks the port (default: the Gateway's first listener, as upstream does). */
  listener?: string;
  /** Override the TLS server name (default: host without port, when the listener is HTTPS). */
  sni?: string;
  /** Send as HTTP/2 (over TLS with ALPN h2, or h2c prior knowledge). */
  http2?: boolean;
  /** Sent to the echo server as `X-Echo-Set-Header`. */
  backendSetResponseHeaders?: [string, string][];
  /** Speak the TCP echo line protocol (welcome, PING, IS_TLS, TEST) instead of HTTP. */
  tcpEcho?: boolean;
  /** A query parameter given a fresh UUID on every attempt (retry tests: the echo counts failures per uuid). */
  uniqueQueryParam?: string;
  /** A unary gRPC call to this method of the conformance GrpcEcho service instead of an HTTP request. */
  grpcMethod?: string;
  /** One datagram to a UDP listener; the UDP echo answers with JSON. */
  udpEcho?: boolean;
  /** A WebSocket upgrade on `path`, one text message, its echo. */
  webSocket?: boolean;
  /** A DNS A query for this name over UDP; it must be answered (NOERROR). */
  dnsQuery?: string;
}

export interface ExpectedBackendRequest {
  method?: string;
  /** Compared only when set. */
  host?: string;
  path?: string;
  headers?: [string, string][];
  absentHeaders?: string[];
}

export interface RedirectExpectation {
  scheme?: string;
  host?: string;
  /** '' = absent or the scheme's default port. */
  port?: string;
  path?: string;
}

export interface Expectation {
  /** Accepted statuses (default [200]). */
  status: number[];
  /** Echoed `pod` must start with this (implies 200/204). */
  backend?: string;
  /** Echoed `namespace` (default gateway-conformance-infra when a backend is given). */
  namespace?: string;
  /** What the backend must have seen (default: the request's method and path). */
  request?: ExpectedBackendRequest;
  responseHeaders?: [string, string][];
  /** Response header → acceptable values (any one; upstream ValidHeaderValues). */
  responseHeaderOneOf?: [string, string[]][];
  /** Compare response header values without whitespace (upstream IgnoreWhitespace). */
  ignoreWhitespace?: boolean;
  responseAbsentHeaders?: string[];
  redirect?: RedirectExpectation;
  /** Mirror backends whose log must show the request (`ns/name`). */
  mirroredTo?: string[];
  /** The connection must be refused, reset or closed without an answer. */
  rejected?: boolean;
  /** TCP echo: the backend must report this TLS state (IS_TLS) … */
  backendTls?: boolean;
  /** … and this TLS server name. */
  backendServerName?: string;
  /** gRPC: the expected grpc-status (default 0 = OK). */
  grpcStatus?: number;
}

export interface RequestCase {
  /** Short label printed on failure, e.g. `#6 /v2 Version: two`. */
  label: string;
  request: RequestSpec;
  expect: Expectation;
  /** Mirror tests add a unique `gateway-api-conformance-request-id` query parameter. */
  addRequestId?: boolean;
}

export interface DistributionCheck {
  request: RequestSpec;
  /** Total requests (default 500). */
  requests: number;
  /** Parallel requests (default 10). */
  concurrency: number;
  /** Allowed absolute deviation of each share (default 0.05). */
  tolerance: number;
  /** Backend name (pod name without its last two segments) → expected share; 0 = must get nothing. */
  shares: Record<string, number>;
  /** How many times the whole check may be retried (default 3). */
  attempts: number;
  /** A request header (set by a backend-level filter) that must name the backend that answered. */
  headerNamesBackend?: string;
  /**
   * Percentage mirroring: each request carries a unique request id; the share of ids logged by the mirror
   * Service's pods must fall within 4 standard deviations of the binomial mean (N·p).
   */
  mirror?: { to: string; percent: number };
}

/** A change the upstream test makes to the applied objects between phases. */
export type Mutation =
  | { op: 'delete'; kind: string; namespace: string | null; name: string }
  /** JSON merge patch (RFC 7386) applied to the object. */
  | { op: 'patch'; kind: string; namespace: string | null; name: string; patch: unknown }
  /** A new object the test creates (written to a file loaded after the manifests, so it is the newest). */
  | { op: 'create'; object: Record<string, unknown> };

export interface Phase {
  mutate: Mutation[];
  status?: StatusExpectation;
  requests: RequestCase[];
  distributions: DistributionCheck[];
}

export interface ConformanceCase {
  /** Upstream ShortName. */
  name: string;
  description: string;
  /** Upstream feature names (besides Gateway). */
  features: string[];
  /** Manifest files relative to the conformance dir, e.g. `tests/httproute-matching.yaml`. */
  manifests: string[];
  /** SKIP with this reason (never run). */
  skip?: string;
  /** Printed with a FAIL: what the case writer knows about likely causes (e.g. a standalone limitation). */
  note?: string;
  provisional?: boolean;
  /**
   * `reload`: run through `gatehouse run` itself (the cli's Gateway with its reloader and admin server):
   * each `then` phase rewrites the files in the directory, POSTs /reload and reads GET /status, as an
   * operator (or kubectl against an API server) would. Default `build`: load + compile + apply in-process.
   */
  via: 'build' | 'reload';
  phases: Phase[];
  /** Source file of the case. */
  file: string;
}

// ---------------------------------------------------------------------------------------------- parsing

export class CaseError extends Error {}

type Raw = Record<string, unknown>;

function asRecord(v: unknown, where: string): Raw {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new CaseError(`${where}: expected a mapping`);
  return v as Raw;
}

/** A typo in a case must not silently drop a check: every mapping lists the keys it accepts. */
function onlyKeys(r: Raw, allowed: readonly string[], where: string): Raw {
  for (const k of Object.keys(r)) {
    if (!allowed.includes(k)) throw new CaseError(`${where}: unknown key "${k}" (allowed: ${allowed.join(', ')})`);
  }
  return r;
}

const REQUEST_KEYS = ['method', 'host', 'path', 'headers', 'body', 'gateway', 'listener', 'sni', 'http2', 'tcpEcho', 'udpEcho', 'webSocket', 'dnsQuery', 'grpcMethod', 'uniqueQueryParam', 'backendSetResponseHeaders'];
const EXPECT_KEYS = ['label', 'status', 'backend', 'namespace', 'backendSees', 'responseHeaders', 'responseHeaderOneOf', 'ignoreWhitespace', 'responseAbsentHeaders', 'redirect', 'mirroredTo', 'addRequestId', 'rejected', 'backendTls', 'backendServerName', 'grpcStatus'];
const DISTRIBUTION_KEYS = ['requests', 'concurrency', 'tolerance', 'attempts', 'shares', 'headerNamesBackend', 'mirror'];
const PHASE_KEYS = ['mutate', 'status', 'requests', 'distributions', 'gateway', 'listener', 'host', 'namespace'];
const CASE_KEYS = ['name', 'description', 'features', 'manifests', 'skip', 'note', 'provisional', 'via', 'then', ...PHASE_KEYS];

function asList(v: unknown, where: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new CaseError(`${where}: expected a list`);
  return v;
}

function str(v: unknown, where: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new CaseError(`${where}: expected a string`);
}

function optStr(v: unknown, where: string): string | undefined {
  return v === undefined || v === null ? undefined : str(v, where);
}

/** `{a: b}` or `[[a, b]]` or `["a: b"]` → ordered pairs. */
export function parsePairs(v: unknown, where: string): [string, string][] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) {
    return v.map((e, i) => {
      if (Array.isArray(e) && e.length === 2) return [str(e[0], where), str(e[1], where)];
      if (typeof e === 'string') {
        const c = e.indexOf(':');
        if (c < 0) throw new CaseError(`${where}[${i}]: expected "Name: value"`);
        return [e.slice(0, c).trim(), e.slice(c + 1).trim()];
      }
      throw new CaseError(`${where}[${i}]: expected "Name: value" or [name, value]`);
    });
  }
  return Object.entries(asRecord(v, where)).map(([k, val]) => [k, str(val, `${where}.${k}`)]);
}

/** `Accepted: True`, `ResolvedRefs: False:RefNotPermitted` (a mapping of type → status[:reason]). */
export function parseConditions(v: unknown, where: string): ConditionExpectation[] {
  if (v === undefined || v === null) return [];
  return Object.entries(asRecord(v, where)).map(([type, raw]) => {
    const s = typeof raw === 'boolean' ? (raw ? 'True' : 'False') : str(raw, `${where}.${type}`);
    const [status, reason] = s.split(':', 2).map((x) => x.trim());
    if (status !== 'True' && status !== 'False' && status !== 'Unknown') {
      throw new CaseError(`${where}.${type}: status must be True, False or Unknown, got "${status}"`);
    }
    return { type, status, reason: reason ? reason : null };
  });
}

function parseStatus(v: unknown, where: string, defaultGateway: string): StatusExpectation | undefined {
  if (v === undefined || v === null) return undefined;
  const r = onlyKeys(asRecord(v, where), ['gatewayClasses', 'gateways', 'routes', 'acceptedRoutes'], where);
  const out: StatusExpectation = {};
  if (r.gatewayClasses !== undefined) {
    out.gatewayClasses = asList(r.gatewayClasses, `${where}.gatewayClasses`).map((g, i) => {
      const w = `${where}.gatewayClasses[${i}]`;
      const gr = onlyKeys(asRecord(g, w), ['name', 'conditions', 'observedGeneration'], w);
      const ce: GatewayClassExpectation = { name: str(gr.name, `${w}.name`) };
      if (gr.conditions !== undefined) ce.conditions = parseConditions(gr.conditions, `${w}.conditions`);
      if (gr.observedGeneration !== undefined) ce.observedGeneration = generation(gr.observedGeneration, `${w}.observedGeneration`);
      return ce;
    });
  }
  if (r.gateways !== undefined) {
    out.gateways = asList(r.gateways, `${where}.gateways`).map((g, i) => {
      const w = `${where}.gateways[${i}]`;
      const gr = onlyKeys(asRecord(g, w), ['name', 'conditions', 'listeners', 'hasAddress', 'observedGeneration'], w);
      const ge: GatewayExpectation = { name: qualify(str(gr.name, `${w}.name`)) };
      if (gr.observedGeneration !== undefined) ge.observedGeneration = generation(gr.observedGeneration, `${w}.observedGeneration`);
      if (gr.conditions !== undefined) ge.conditions = parseConditions(gr.conditions, `${w}.conditions`);
      if (gr.hasAddress === true) ge.hasAddress = true;
      if (gr.listeners !== undefined) {
        ge.listeners = asList(gr.listeners, `${w}.listeners`).map((l, j) => {
          const lw = `${w}.listeners[${j}]`;
          const lr = onlyKeys(asRecord(l, lw), ['name', 'attachedRoutes', 'supportedKinds', 'conditions'], lw);
          const le: ListenerExpectation = { name: str(lr.name, `${lw}.name`) };
          if (lr.attachedRoutes !== undefined) le.attachedRoutes = Number(lr.attachedRoutes);
          if (lr.supportedKinds !== undefined) le.supportedKinds = asList(lr.supportedKinds, `${lw}.supportedKinds`).map((k) => str(k, lw));
          if (lr.conditions !== undefined) le.conditions = parseConditions(lr.conditions, `${lw}.conditions`);
          return le;
        });
      }
      return ge;
    });
  }
  if (r.routes !== undefined) {
    out.routes = asList(r.routes, `${where}.routes`).map((x, i) => {
      const w = `${where}.routes[${i}]`;
      const rr = onlyKeys(asRecord(x, w), ['kind', 'name', 'parents', 'noAcceptedParents', 'observedGeneration'], w);
      const re: RouteExpectation = {
        kind: (optStr(rr.kind, `${w}.kind`) ?? 'HTTPRoute') as RouteExpectation['kind'],
        name: qualify(str(rr.name, `${w}.name`)),
      };
      if (rr.observedGeneration !== undefined) re.observedGeneration = generation(rr.observedGeneration, `${w}.observedGeneration`);
      if (rr.noAcceptedParents === true) re.noAcceptedParents = true;
      if (rr.parents !== undefined) {
        re.parents = asList(rr.parents, `${w}.parents`).map((p, j) => {
          const pw = `${w}.parents[${j}]`;
          const pr = onlyKeys(asRecord(p, pw), ['gateway', 'sectionName', 'port', 'conditions'], pw);
          const pe: RouteParentExpectation = {
            gateway: qualify(str(pr.gateway, `${pw}.gateway`)),
            conditions: parseConditions(pr.conditions, `${pw}.conditions`),
          };
          if (pr.sectionName !== undefined) pe.sectionName = str(pr.sectionName, pw);
          if (pr.port !== undefined) pe.port = Number(pr.port);
          return pe;
        });
      }
      return re;
    });
  }
  // Shorthand: `acceptedRoutes: [name, name@gateway]` = Accepted=True and ResolvedRefs=True on that parent.
  for (const [i, x] of asList(r.acceptedRoutes, `${where}.acceptedRoutes`).entries()) {
    const [name, gw] = str(x, `${where}.acceptedRoutes[${i}]`).split('@');
    (out.routes ??= []).push({
      kind: 'HTTPRoute',
      name: qualify(name!),
      parents: [
        {
          gateway: qualify(gw ?? defaultGateway),
          conditions: [
            { type: 'Accepted', status: 'True', reason: null },
            { type: 'ResolvedRefs', status: 'True', reason: null },
          ],
        },
      ],
    });
  }
  return out;
}

function generation(v: unknown, where: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new CaseError(`${where}: expected a generation (an integer >= 1)`);
  return n;
}

/** `name` → `gateway-conformance-infra/name`; `ns/name` unchanged. */
export function qualify(name: string): string {
  return name.includes('/') ? name : `${INFRA_NS}/${name}`;
}

function parseStatusCodes(v: unknown, where: string): number[] | undefined {
  if (v === undefined || v === null) return undefined;
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => {
    const n = Number(x);
    if (!Number.isInteger(n) || n < 100 || n > 599) throw new CaseError(`${where}: bad status ${String(x)}`);
    return n;
  });
}

interface Defaults {
  gateway: string;
  listener?: string;
  host: string;
  namespace?: string;
}

function parseRequestSpec(r: Raw, d: Defaults, where: string): RequestSpec {
  const spec: RequestSpec = {
    method: (optStr(r.method, `${where}.method`) ?? 'GET').toUpperCase(),
    host: optStr(r.host, `${where}.host`) ?? d.host,
    path: optStr(r.path, `${where}.path`) ?? '/',
    headers: parsePairs(r.headers, `${where}.headers`),
    gateway: qualify(optStr(r.gateway, `${where}.gateway`) ?? d.gateway),
  };
  const listener = optStr(r.listener, `${where}.listener`) ?? (r.gateway === undefined ? d.listener : undefined);
  if (listener !== undefined) spec.listener = listener;
  const sni = optStr(r.sni, `${where}.sni`);
  if (sni !== undefined) spec.sni = sni;
  if (r.http2 === true) spec.http2 = true;
  if (r.tcpEcho === true) spec.tcpEcho = true;
  if (r.udpEcho === true) spec.udpEcho = true;
  if (r.webSocket === true) spec.webSocket = true;
  const dq = optStr(r.dnsQuery, `${where}.dnsQuery`);
  if (dq !== undefined) spec.dnsQuery = dq;
  const gm = optStr(r.grpcMethod, `${where}.grpcMethod`);
  if (gm !== undefined) spec.grpcMethod = gm;
  const uq = optStr(r.uniqueQueryParam, `${where}.uniqueQueryParam`);
  if (uq !== undefined) spec.uniqueQueryParam = uq;
  if (r.body !== undefined) spec.body = str(r.body, `${where}.body`);
  if (r.backendSetResponseHeaders !== undefined) {
    spec.backendSetResponseHeaders = parsePairs(r.backendSetResponseHeaders, `${where}.backendSetResponseHeaders`);
  }
  return spec;
}

function parseRequestCase(v: unknown, idx: number, d: Defaults, where: string): RequestCase {
  const r = onlyKeys(asRecord(v, where), [...REQUEST_KEYS, ...EXPECT_KEYS], where);
  const request = parseRequestSpec(r, d, where);
  const status = parseStatusCodes(r.status, `${where}.status`);
  const backend = optStr(r.backend, `${where}.backend`);
  const expect: Expectation = { status: status ?? [200] };
  if (backend !== undefined) {
    expect.backend = backend;
    expect.namespace = optStr(r.namespace, `${where}.namespace`) ?? d.namespace ?? INFRA_NS;
  } else if (r.namespace !== undefined) {
    expect.namespace = str(r.namespace, `${where}.namespace`);
  }
  if (r.backendSees !== undefined) {
    const b = onlyKeys(asRecord(r.backendSees, `${where}.backendSees`), ['host', 'path', 'method', 'headers', 'absentHeaders'], `${where}.backendSees`);
    const eb: ExpectedBackendRequest = {};
    const bh = optStr(b.host, `${where}.backendSees.host`);
    if (bh !== undefined) eb.host = bh;
    const bp = optStr(b.path, `${where}.backendSees.path`);
    if (bp !== undefined) eb.path = bp;
    const bm = optStr(b.method, `${where}.backendSees.method`);
    if (bm !== undefined) eb.method = bm;
    if (b.headers !== undefined) eb.headers = parsePairs(b.headers, `${where}.backendSees.headers`);
    if (b.absentHeaders !== undefined) eb.absentHeaders = asList(b.absentHeaders, where).map((x) => str(x, where));
    expect.request = eb;
  }
  if (r.responseHeaders !== undefined) expect.responseHeaders = parsePairs(r.responseHeaders, `${where}.responseHeaders`);
  if (r.responseHeaderOneOf !== undefined) {
    expect.responseHeaderOneOf = Object.entries(asRecord(r.responseHeaderOneOf, `${where}.responseHeaderOneOf`)).map(([k, v]) => [
      k,
      asList(v, `${where}.responseHeaderOneOf.${k}`).map((x) => str(x, where)),
    ]);
  }
  if (r.ignoreWhitespace === true) expect.ignoreWhitespace = true;
  if (r.responseAbsentHeaders !== undefined) {
    expect.responseAbsentHeaders = asList(r.responseAbsentHeaders, where).map((x) => str(x, where));
  }
  if (r.redirect !== undefined) {
    const rd = onlyKeys(asRecord(r.redirect, `${where}.redirect`), ['scheme', 'host', 'port', 'path'], `${where}.redirect`);
    const re: RedirectExpectation = {};
    for (const k of ['scheme', 'host', 'port', 'path'] as const) {
      const val = optStr(rd[k], `${where}.redirect.${k}`);
      if (val !== undefined) re[k] = val;
    }
    expect.redirect = re;
    if (status === undefined) expect.status = [302];
  }
  if (r.rejected === true) expect.rejected = true;
  if (r.grpcStatus !== undefined) expect.grpcStatus = Number(r.grpcStatus);
  if (typeof r.backendTls === 'boolean') expect.backendTls = r.backendTls;
  const bsn = optStr(r.backendServerName, `${where}.backendServerName`);
  if (bsn !== undefined) expect.backendServerName = bsn;
  if (r.mirroredTo !== undefined) {
    expect.mirroredTo = asList(r.mirroredTo, `${where}.mirroredTo`).map((x) => qualify(str(x, where)));
  }
  const label =
    optStr(r.label, `${where}.label`) ??
    `#${idx + 1} ${request.method} ${request.host || '<gateway>'}${request.path}` +
      (request.headers.length ? ` [${request.headers.map(([k, val]) => `${k}: ${val}`).join(', ')}]` : '');
  const rc: RequestCase = { label, request, expect };
  if (r.addRequestId === true || expect.mirroredTo) rc.addRequestId = true;
  return rc;
}

function parseMutation(v: unknown, where: string): Mutation {
  const r = onlyKeys(asRecord(v, where), ['kind', 'namespace', 'name', 'delete', 'patch', 'create'], where);
  if (r.create !== undefined) return { op: 'create', object: asRecord(r.create, `${where}.create`) };
  const kind = str(r.kind, `${where}.kind`);
  const name = str(r.name, `${where}.name`);
  const namespace = r.namespace === null ? null : (optStr(r.namespace, `${where}.namespace`) ?? INFRA_NS);
  if (r.delete === true) return { op: 'delete', kind, namespace, name };
  if (r.patch !== undefined) return { op: 'patch', kind, namespace, name, patch: r.patch };
  throw new CaseError(`${where}: a mutation needs "delete: true", "patch: {...}" or "create: {...}"`);
}

function parsePhase(r: Raw, d: Defaults, where: string, allowed: readonly string[] = PHASE_KEYS): Phase {
  onlyKeys(r, allowed, where);
  const pd: Defaults = { ...d };
  const g = optStr(r.gateway, `${where}.gateway`);
  if (g !== undefined) {
    pd.gateway = qualify(g);
    delete pd.listener;
  }
  const l = optStr(r.listener, `${where}.listener`);
  if (l !== undefined) pd.listener = l;
  const h = optStr(r.host, `${where}.host`);
  if (h !== undefined) pd.host = h;
  const ns = optStr(r.namespace, `${where}.namespace`);
  if (ns !== undefined) pd.namespace = ns;
  const phase: Phase = {
    mutate: asList(r.mutate, `${where}.mutate`).map((m, i) => parseMutation(m, `${where}.mutate[${i}]`)),
    requests: asList(r.requests, `${where}.requests`).map((x, i) => parseRequestCase(x, i, pd, `${where}.requests[${i}]`)),
    distributions: asList(r.distributions, `${where}.distributions`).map((x, i) => {
      const w = `${where}.distributions[${i}]`;
      const dr = onlyKeys(asRecord(x, w), [...REQUEST_KEYS, ...DISTRIBUTION_KEYS], w);
      const shares: Record<string, number> = {};
      for (const [k, val] of Object.entries(asRecord(dr.shares, `${w}.shares`))) shares[k] = Number(val);
      return {
        request: parseRequestSpec(dr, pd, w),
        requests: dr.requests === undefined ? 500 : Number(dr.requests),
        concurrency: dr.concurrency === undefined ? 10 : Number(dr.concurrency),
        tolerance: dr.tolerance === undefined ? 0.05 : Number(dr.tolerance),
        attempts: dr.attempts === undefined ? 3 : Number(dr.attempts),
        shares,
        ...(typeof dr.headerNamesBackend === 'string' ? { headerNamesBackend: dr.headerNamesBackend } : {}),
        ...(dr.mirror !== undefined
          ? (() => {
              const m = asRecord(dr.mirror, `${w}.mirror`);
              return { mirror: { to: qualify(str(m.to, `${w}.mirror.to`)), percent: Number(m.percent) } };
            })()
          : {}),
      };
    }),
  };
  const status = parseStatus(r.status, `${where}.status`, pd.gateway);
  if (status) phase.status = status;
  return phase;
}

export function parseCase(text: string, file: string): ConformanceCase {
  const r = asRecord(parse(text), file);
  const name = str(r.name, `${file}: name`);
  const defaults: Defaults = { gateway: DEFAULT_GATEWAY, host: '' };
  const c: ConformanceCase = {
    name,
    description: optStr(r.description, `${file}: description`) ?? '',
    features: asList(r.features, `${file}: features`).map((f) => str(f, file)),
    manifests: asList(r.manifests, `${file}: manifests`).map((m) => str(m, file)),
    via: 'build',
    phases: [],
    file,
  };
  const skip = optStr(r.skip, `${file}: skip`);
  if (skip !== undefined) c.skip = skip;
  const note = optStr(r.note, `${file}: note`);
  if (note !== undefined) c.note = note;
  if (r.provisional === true) c.provisional = true;
  const via = optStr(r.via, `${file}: via`);
  if (via !== undefined && via !== 'build' && via !== 'reload') throw new CaseError(`${file}: via must be "build" or "reload", got "${via}"`);
  if (via === 'reload') c.via = 'reload';
  c.phases.push(parsePhase(r, defaults, file, CASE_KEYS));
  const first = c.phases[0]!;
  if (first.mutate.length) throw new CaseError(`${file}: "mutate" belongs in a "then" phase`);
  // Later phases inherit the top-level gateway/listener/host defaults.
  const top: Defaults = { ...defaults };
  if (typeof r.gateway === 'string') top.gateway = qualify(r.gateway);
  if (typeof r.listener === 'string') top.listener = r.listener;
  if (typeof r.host === 'string') top.host = r.host;
  if (typeof r.namespace === 'string') top.namespace = r.namespace;
  asList(r.then, `${file}: then`).forEach((p, i) => c.phases.push(parsePhase(asRecord(p, `${file}: then[${i}]`), top, `${file}: then[${i}]`)));
  return c;
}

export function loadCases(dir: string): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.yaml') || f.startsWith('_')) continue;
    const file = join(dir, f);
    out.push(parseCase(readFileSync(file, 'utf8'), f));
  }
  return out;
}
