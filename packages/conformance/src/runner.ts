/**
 * Runs the cases: for each test, assemble the directory (upstream manifests unchanged + generated
 * GatewayClass, TLS Secrets, EndpointSlices), build it with the product, check status, apply the table
 * to a fresh Runtime (ports remapped, see product.ts), send the traffic, compare, record. Every step is
 * bounded: per request, per test, and for the whole suite.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackendSet, backendNameOfPod, type BackendSet } from './backends.js';
import type { ConformanceCase, DistributionCheck, Phase, RequestCase, RequestSpec } from './cases.js';
import { generateTls, type GeneratedTls } from './certs.js';
import { roundTrip, dnsExchange, tcpEchoExchange, udpEchoExchange, webSocketEcho, RequestError, type OutgoingRequest, type RoundTrip, type TcpEchoResult, type Target, type UdpEchoResult } from './client.js';
import { grpcCall, type GrpcResult } from './grpc.js';
import { compareRoundTrip, type Mismatch } from './compare.js';
import {
  CONTROLLER_NAME,
  allObjects,
  applyMutation,
  gatewayClassObject,
  generatedFile,
  readManifest,
  writeDir,
  type K8sObject,
  type ManifestFile,
} from './manifests.js';
import { remapPorts, type BuildResult, type Product } from './product.js';
import type { RoutingTable, Runtime } from './product-types.js';
import { checkStatus } from './status-check.js';

export type Outcome = 'PASS' | 'FAIL' | 'SKIP';

export interface Failure {
  /** 0 = the initial state; n = after the n-th `then` phase's mutations. */
  phase: number;
  kind: 'status' | 'request' | 'distribution' | 'mirror' | 'setup' | 'timeout';
  /** The request, e.g. `GET example.com/v2 [Version: two] → listener same-namespace/http`. */
  request?: string;
  what: string;
  expected: string;
  got: string;
}

export interface TestResult {
  name: string;
  outcome: Outcome;
  /** SKIP reason, or a one-line FAIL summary. */
  reason: string;
  failures: Failure[];
  /** Requests checked (each must pass `consecutive` times in a row). */
  requestsChecked: number;
  requestsFailed: number;
  statusChecks: number;
  durationMs: number;
  /** Error diagnostics the product reported while loading this test's directory. */
  diagnostics: string[];
  /** Warnings and errors the runtime logged during the test (first 50). */
  runtimeLog: string[];
  /** Harness findings that explain failures (e.g. a backend resolved to a port no echo pod listens on). */
  hints: string[];
}

export interface RunOptions {
  conformanceDir: string;
  requestTimeoutMs: number;
  testTimeoutMs: number;
  /** Max time for one request case to become consistent (upstream: 30s; the runtime applies synchronously). */
  consistencyMs: number;
  consecutive: number;
  /** Keep the assembled directories (for debugging) instead of deleting them. */
  keepDirs: boolean;
  log: (line: string) => void;
}

export const DEFAULT_RUN_OPTIONS: Omit<RunOptions, 'conformanceDir' | 'log'> = {
  requestTimeoutMs: 5000,
  testTimeoutMs: 60_000,
  consistencyMs: 500,
  consecutive: 3,
  keepDirs: false,
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Shared {
  opts: RunOptions;
  product: Product;
  tls: GeneratedTls;
  backends: BackendSet;
  workDir: string;
}

/** Everything a test run needs once (certificates, echo pods); close() releases it. */
export class Suite {
  private constructor(private readonly s: Shared) {}

  static async start(opts: RunOptions, product: Product): Promise<Suite> {
    const tls = generateTls();
    const backends = createBackendSet(tls.secrets);
    const workDir = mkdtempSync(join(tmpdir(), 'gatehouse-conformance-'));
    return new Suite({ opts, product, tls, backends, workDir });
  }

  get workDir(): string {
    return this.s.workDir;
  }

  async close(): Promise<void> {
    await this.s.backends.close();
    if (!this.s.opts.keepDirs) rmSync(this.s.workDir, { recursive: true, force: true });
  }

  async run(c: ConformanceCase): Promise<TestResult> {
    const started = Date.now();
    const result: TestResult = {
      name: c.name,
      outcome: 'PASS',
      reason: '',
      failures: [],
      requestsChecked: 0,
      requestsFailed: 0,
      statusChecks: 0,
      durationMs: 0,
      diagnostics: [],
      runtimeLog: [],
      hints: [],
    };
    if (c.skip) return { ...result, outcome: 'SKIP', reason: c.skip };
    const state: RunState = { cancelled: false, runtime: null };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        state.cancelled = true;
        result.failures.push({ phase: -1, kind: 'timeout', what: 'test', expected: `done within ${this.s.opts.testTimeoutMs}ms`, got: 'still running' });
        resolve();
      }, this.s.opts.testTimeoutMs);
    });
    try {
      await Promise.race([this.runPhases(c, result, state), timeout]);
    } catch (e) {
      result.failures.push({ phase: -1, kind: 'setup', what: 'harness/product error', expected: 'no exception', got: e instanceof Error ? (e.stack ?? e.message).split('\n').slice(0, 4).join(' | ') : String(e) });
    } finally {
      clearTimeout(timer);
      state.cancelled = true;
      if (state.runtime) await state.runtime.close(0).catch(() => {});
    }
    result.durationMs = Date.now() - started;
    if (result.failures.length) {
      result.outcome = 'FAIL';
      if (c.note) result.hints.unshift(`note: ${c.note}`);
      const f = result.failures[0]!;
      result.reason = `${f.request ? `${f.request}: ` : ''}${f.what}: expected ${f.expected}, got ${f.got}`;
    }
    return result;
  }

  private async runPhases(c: ConformanceCase, result: TestResult, state: RunState): Promise<void> {
    const { opts, product, tls, backends } = this.s;
    const dir = join(this.s.workDir, c.name);
    const files: ManifestFile[] = [
      generatedFile('00-gatewayclass.yaml', [gatewayClassObject()]),
      readManifest(opts.conformanceDir, 'base/manifests.yaml', 1),
      ...c.manifests.map((m, i) => readManifest(opts.conformanceDir, m, 10 + i)),
      generatedFile('90-generated-tls.yaml', tls.objects as K8sObject[]),
    ];
    for (let pi = 0; pi < c.phases.length && !state.cancelled; pi++) {
      const phase = c.phases[pi]!;
      for (const m of phase.mutate) applyMutation(files, m.op === 'patch' ? { ...m, patch: this.substitute(m.patch) } : m);
      const withoutSlices = files.filter((f) => f.name !== '91-generated-endpointslices.yaml');
      const slices = await backends.endpointSlicesFor(allObjects(withoutSlices));
      files.splice(0, files.length, ...withoutSlices, generatedFile('91-generated-endpointslices.yaml', slices));
      writeDir(dir, files);
      const built = await product.build(dir);
      for (const d of built.errors) if (!result.diagnostics.includes(d)) result.diagnostics.push(d);
      for (const h of endpointHints(built.table, slices)) if (!result.hints.includes(h)) result.hints.push(h);
      if (phase.status) {
        result.statusChecks++;
        for (const m of checkStatus(built.status, phase.status, CONTROLLER_NAME)) result.failures.push({ phase: pi, kind: 'status', ...m });
      }
      if (!phase.requests.length && !phase.distributions.length) continue;
      if (!state.runtime) state.runtime = await product.newRuntime((l) => { if (result.runtimeLog.length < 50) result.runtimeLog.push(l); });
      const applied = await state.runtime.apply(remapPorts(built.table), built.status);
      for (const f of applied.failed) {
        result.failures.push({ phase: pi, kind: 'setup', what: `bind ${f.key}`, expected: 'bound', got: f.error });
      }
      await this.runTraffic(phase, pi, built, state, result, allObjects(files));
    }
  }

  /**
   * Values the runner only knows at run time, for patches that stand in for what a controller would
   * write (e.g. EndpointSlice endpoints): `$(ip)` → 127.0.0.1, `$(port:ns/deployment:containerPort)` → the
   * echo pod's real port for that container port.
   */
  private substitute(v: unknown): unknown {
    if (typeof v === 'string') {
      if (v === '$(ip)') return '127.0.0.1';
      const m = /^\$\(port:([^:]+):(\d+)\)$/.exec(v);
      if (m) {
        const port = this.s.backends.pod(m[1]!)?.ports.get(Number(m[2]));
        if (port === undefined) throw new Error(`patch: no echo pod ${m[1]} listening for container port ${m[2]}`);
        return port;
      }
      return v;
    }
    if (Array.isArray(v)) return v.map((x) => this.substitute(x));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.substitute(x)]));
    return v;
  }

  private async runTraffic(phase: Phase, pi: number, built: BuildResult, state: RunState, result: TestResult, objects: K8sObject[]): Promise<void> {
    const bound = state.runtime!.boundPorts();
    for (const rc of phase.requests) {
      if (state.cancelled) return;
      result.requestsChecked++;
      const failure = await this.checkRequest(rc, built.table, bound, objects, state);
      if (failure) {
        result.requestsFailed++;
        result.failures.push({ phase: pi, ...failure });
      }
    }
    for (const d of phase.distributions) {
      if (state.cancelled) return;
      const failure = await this.checkDistribution(d, built.table, bound, objects, state);
      if (failure) result.failures.push({ phase: pi, ...failure });
    }
  }

  private async checkRequest(
    rc: RequestCase,
    table: RoutingTable,
    bound: Map<string, number>,
    objects: K8sObject[],
    state: RunState,
  ): Promise<Omit<Failure, 'phase'> | null> {
    const { opts } = this.s;
    const t = resolveTarget(table, bound, objects, rc.request);
    const label = describeRequest(rc.request, t.ok ? t.host : rc.request.host);
    if (!t.ok) {
      // Nothing listens on that listener's port at all: a connection would be refused.
      if (t.unbound && rc.expect.rejected) return null;
      return { kind: 'request', request: label, what: 'listener', expected: 'bound by the runtime', got: t.error };
    }
    let path = rc.request.path;
    if (rc.addRequestId) path += `${path.includes('?') ? '&' : '?'}gateway-api-conformance-request-id=${randomUUID()}`;
    let out = outgoing(rc.request, t.host, path);
    const basePath = path;
    const deadline = Date.now() + opts.consistencyMs;
    let successes = 0;
    let last: Mismatch | null = null;
    for (;;) {
      if (state.cancelled) return { kind: 'request', request: label, what: 'test', expected: 'finished', got: 'cancelled (test timeout)' };
      if (rc.request.uniqueQueryParam) {
        path = `${basePath}${basePath.includes('?') ? '&' : '?'}${rc.request.uniqueQueryParam}=${randomUUID()}`;
        out = outgoing(rc.request, t.host, path);
      }
      try {
        if (rc.request.tcpEcho) {
          last = compareTcpEcho(rc, await tcpEchoExchange(t.target, opts.requestTimeoutMs));
        } else if (rc.request.webSocket) {
          const msg = `conformance-${randomUUID()}`;
          const ws = await webSocketEcho(t.target, t.host, path, msg, opts.requestTimeoutMs);
          last =
            ws.status !== 101
              ? { what: 'WebSocket upgrade', expected: '101 Switching Protocols', got: String(ws.status) }
              : ws.echoed !== msg
                ? { what: 'WebSocket echo', expected: msg, got: String(ws.echoed) }
                : null;
        } else if (rc.request.dnsQuery) {
          const r = await dnsExchange(t.target.port, rc.request.dnsQuery, Math.min(opts.requestTimeoutMs, 2000));
          last = rc.expect.rejected
            ? { what: 'DNS query', expected: 'no answer', got: `rcode ${r.rcode}` }
            : r.rcode !== 0 || r.answers < 1
              ? { what: 'DNS answer', expected: 'NOERROR with an answer', got: `rcode ${r.rcode}, ${r.answers} answers` }
              : null;
        } else if (rc.request.udpEcho) {
          const payload = `conformance-${randomUUID()}`;
          last = compareUdpEcho(rc, payload, await udpEchoExchange(t.target.port, payload, Math.min(opts.requestTimeoutMs, 2000)));
        } else if (rc.request.grpcMethod) {
          last = compareGrpc(rc, await grpcCall(t.target, t.host, rc.request.grpcMethod, rc.request.headers, opts.requestTimeoutMs));
        } else {
          const rt = await roundTrip(t.target, out, opts.requestTimeoutMs);
          last = rc.expect.rejected
            ? { what: 'connection', expected: 'rejected (refused, reset or closed)', got: `answered ${rt.status}${rt.echo ? ` by ${rt.echo.pod}` : ''}` }
            : compareRoundTrip({ ...rc.request, host: t.host, ...(t.target.tls ? { sni: t.target.sni ?? '' } : {}) }, path, rc.expect, rt);
        }
      } catch (e) {
        const code = e instanceof RequestError ? e.code : 'ERROR';
        last = rc.expect.rejected
          ? null
          : { what: 'response', expected: rc.request.tcpEcho ? 'the TCP echo exchange' : `status ${rc.expect.status.join(' or ')}`, got: `${code}: ${e instanceof Error ? e.message : String(e)}` };
      }
      if (!last) {
        successes++;
        if (successes >= opts.consecutive) break;
        continue;
      }
      successes = 0;
      if (Date.now() >= deadline) return { kind: 'request', request: label, ...last };
      await sleep(100);
    }
    for (const svc of rc.expect.mirroredTo ?? []) {
      const pods = this.s.backends.podsOfService(svc);
      const needle = `Echoing back request made to ${path} to client`;
      const until = Date.now() + 3000;
      let seen = false;
      while (!seen && Date.now() < until && !state.cancelled) {
        seen = pods.some((p) => p.logs.some((l) => l.startsWith(needle)));
        if (!seen) await sleep(100);
      }
      if (!seen) {
        return { kind: 'mirror', request: label, what: `mirror to ${svc}`, expected: `log line "${needle} (…)"`, got: pods.length ? 'not logged within 3s' : 'no echo pod serves that Service' };
      }
    }
    return null;
  }

  private async checkDistribution(
    d: DistributionCheck,
    table: RoutingTable,
    bound: Map<string, number>,
    objects: K8sObject[],
    state: RunState,
  ): Promise<Omit<Failure, 'phase'> | null> {
    const t = resolveTarget(table, bound, objects, d.request);
    const label = `${describeRequest(d.request, t.ok ? t.host : d.request.host)} ×${d.requests}`;
    if (!t.ok) return { kind: 'distribution', request: label, what: 'listener', expected: 'bound by the runtime', got: t.error };
    let lastProblem = '';
    for (let attempt = 0; attempt < d.attempts && !state.cancelled; attempt++) {
      const counts = new Map<string, number>();
      const mislabelled: string[] = [];
      let errors = 0;
      let next = 0;
      const ids: string[] = [];
      const worker = async (): Promise<void> => {
        while (next < d.requests && !state.cancelled) {
          next++;
          let path = d.request.path;
          if (d.mirror) {
            const id = randomUUID();
            ids.push(id);
            path += `${path.includes('?') ? '&' : '?'}gateway-api-conformance-request-id=${id}`;
          }
          const out = outgoing(d.request, t.host, path);
          out.headers.push(['X-Jitter', randomUUID().slice(0, 8)]);
          try {
            const rt = d.request.grpcMethod
              ? grpcAsEcho(await grpcCall(t.target, t.host, d.request.grpcMethod, d.request.headers, this.s.opts.requestTimeoutMs))
              : d.request.tcpEcho
                ? tcpAsEcho(await tcpEchoExchange(t.target, this.s.opts.requestTimeoutMs))
                : d.request.udpEcho
                  ? udpAsEcho(await udpEchoExchange(t.target.port, 'weight', Math.min(this.s.opts.requestTimeoutMs, 2000)))
                  : await roundTrip(t.target, out, this.s.opts.requestTimeoutMs);
            if (rt.status !== 200 || !rt.echo) errors++;
            else {
              const name = backendNameOfPod(rt.echo.pod);
              counts.set(name, (counts.get(name) ?? 0) + 1);
              if (d.headerNamesBackend) {
                const want = d.headerNamesBackend.toLowerCase();
                const got = Object.entries(rt.echo.headers ?? {}).find(([k]) => k.toLowerCase() === want)?.[1]?.join(',');
                if (got !== name) mislabelled.push(`${name} saw ${d.headerNamesBackend}: ${got ?? '(absent)'}`);
              }
            }
          } catch {
            errors++;
          }
        }
      };
      await Promise.all(Array.from({ length: d.concurrency }, worker));
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      const seen = [...counts.entries()].map(([k, v]) => `${k}=${v}`).join(', ') || 'none';
      const problems: string[] = [];
      if (errors) problems.push(`${errors} requests did not return a 200 echo`);
      if (mislabelled.length) problems.push(`${mislabelled.length} requests carried another backend's header (e.g. ${mislabelled[0]})`);
      for (const [name, share] of Object.entries(d.shares)) {
        const got = counts.get(name) ?? 0;
        if (share === 0 && got > 0) problems.push(`${name} has weight 0 but got ${got}`);
        else if (total > 0 && Math.abs(got / total - share) > d.tolerance) {
          problems.push(`${name} got ${(got / total).toFixed(3)}, expected ${share}±${d.tolerance}`);
        }
      }
      for (const name of counts.keys()) if (!(name in d.shares)) problems.push(`unexpected backend ${name}`);
      if (d.mirror) {
        await sleep(1000); // mirrors are fire-and-forget: let the last ones land
        const logs = this.s.backends.podsOfService(d.mirror.to).flatMap((p) => p.logs).join('\n');
        const mirrored = ids.filter((id) => logs.includes(id)).length;
        const p = d.mirror.percent / 100;
        const mean = ids.length * p;
        const band = 4 * Math.sqrt(ids.length * p * (1 - p));
        if (Math.abs(mirrored - mean) > band) {
          problems.push(`${mirrored}/${ids.length} requests mirrored to ${d.mirror.to}, expected ${mean.toFixed(0)}±${band.toFixed(0)} (${d.mirror.percent}%)`);
        }
      }
      if (!problems.length) return null;
      lastProblem = `${problems.join('; ')} (counts: ${seen})`;
    }
    return { kind: 'distribution', request: label, what: 'traffic split', expected: Object.entries(d.shares).map(([k, v]) => `${k}=${v}`).join(', '), got: lastProblem };
  }
}

interface RunState {
  cancelled: boolean;
  runtime: Runtime | null;
}

/**
 * Backends the product resolved from the runner's EndpointSlices to an address/port that no slice lists:
 * the usual cause is reading the Service's targetPort instead of the EndpointSlice port (the slice port is
 * what the endpoints listen on; it is matched to the Service port by name, "" for an unnamed port).
 */
export function endpointHints(table: RoutingTable, slices: readonly K8sObject[]): string[] {
  const out: string[] = [];
  for (const b of table.backends) {
    if (b.resolution !== 'EndpointSlice') continue;
    const m = /^Service ([^/]+)\/([^:]+):(\d+)/.exec(b.id);
    if (!m) continue;
    const mine = slices.filter((s) => s.metadata?.namespace === m[1] && s.metadata?.labels?.['kubernetes.io/service-name'] === m[2]);
    if (!mine.length) continue;
    const ports = new Set(mine.flatMap((s) => ((s as { ports?: { port: number }[] }).ports ?? []).map((p) => p.port)));
    const wrong = b.endpoints.filter((e) => !ports.has(e.port));
    if (wrong.length) {
      out.push(`${b.id} resolved to ${wrong.map((e) => `${e.address}:${e.port}`).join(', ')} but its EndpointSlice lists port(s) ${[...ports].join(', ')} (a slice port is matched to the Service port by name, "" for an unnamed one, and its number is what the endpoint listens on)`);
    }
    if (!b.endpoints.length) out.push(`${b.id} resolved to no endpoints although its EndpointSlice has a ready one`);
  }
  return out;
}

type TargetResolution = { ok: true; target: Target; host: string } | { ok: false; error: string; unbound?: boolean };

/** The gateway listener a request goes to, its real (bound) port, and the Host header to send. */
export function resolveTarget(table: RoutingTable, bound: Map<string, number>, objects: K8sObject[], spec: RequestSpec): TargetResolution {
  const [ns, name] = spec.gateway.split('/') as [string, string];
  const gw = objects.find((o) => o.kind === 'Gateway' && o.metadata?.name === name && o.metadata?.namespace === ns);
  const listeners = (gw?.spec?.listeners ?? []) as { name?: string; port?: number; protocol?: string }[];
  const listenerName = spec.listener ?? listeners[0]?.name;
  if (!listenerName) return { ok: false, error: `Gateway ${spec.gateway} not found in the manifests` };
  const id = `${spec.gateway}/${listenerName}`;
  const make = (key: string, manifestPort: number, protocol: string): TargetResolution => {
    const port = bound.get(key);
    if (port === undefined) return { ok: false, error: `listener ${id} is in the table (port key ${key}) but the runtime reports no bound port for it` };
    const tls = protocol === 'HTTPS' || protocol === 'TLS';
    const defaultPort = tls ? 443 : 80;
    const host = spec.host || (manifestPort === defaultPort ? '127.0.0.1' : `127.0.0.1:${manifestPort}`);
    const hostOnly = host.replace(/:\d+$/, '');
    const target: Target = { port, tls };
    if (tls) {
      const sni = spec.sni ?? (/^[\d.]+$/.test(hostOnly) ? undefined : hostOnly);
      if (sni !== undefined) target.sni = sni;
    }
    if (spec.http2) target.http2 = true;
    return { ok: true, target, host };
  };
  for (const p of table.ports) {
    const l = p.listeners.find((x) => x.id === id);
    if (l) return make(p.key, l.port, l.protocol);
  }
  // The listener itself is not programmed: like a client of the Gateway address, connect to whatever
  // serves the listener's port (another listener may share the socket), so "rejected" can be observed.
  const ml = listeners.find((x) => x.name === listenerName);
  const shared = ml?.port === undefined ? undefined : table.ports.find((p) => p.transport === 'tcp' && p.listeners.some((x) => x.port === ml.port));
  if (shared && ml) return make(shared.key, ml.port!, ml.protocol ?? 'HTTP');
  return { ok: false, error: `listener ${id} is not in the compiled table (not programmed)`, unbound: true };
}

/** gRPC checks of the upstream GRPCRoute tests: grpc-status, then backend pod, namespace and headers seen. */
export function compareGrpc(rc: RequestCase, r: GrpcResult): Mismatch | null {
  const e = rc.expect;
  const want = e.grpcStatus ?? 0;
  if (r.grpcStatus !== want) {
    return { what: 'grpc-status', expected: String(want), got: `${r.grpcStatus === -1 ? 'none' : r.grpcStatus} (HTTP ${r.httpStatus}${r.response ? `, pod ${r.response.pod}` : ''})` };
  }
  if (want !== 0) return null;
  if (!r.response) return { what: 'gRPC response', expected: 'an EchoResponse', got: 'no message' };
  if (e.namespace !== undefined && r.response.namespace !== e.namespace) return { what: 'backend namespace', expected: e.namespace, got: r.response.namespace };
  if (e.backend !== undefined && !r.response.pod.startsWith(e.backend)) return { what: 'backend', expected: `${e.backend}-*`, got: r.response.pod };
  for (const [name, value] of e.request?.headers ?? []) {
    const got = r.response.headers.filter(([k]) => k === name.toLowerCase()).map(([, v]) => v);
    if (!got.length) return { what: `backend saw header ${name}`, expected: value, got: 'absent' };
    // gRPC metadata may arrive as one joined value or as repeated entries: compare without spaces after commas.
    if (got.join(',').replace(/,\s+/g, ',') !== value) return { what: `backend saw header ${name}`, expected: value, got: got.join(',') };
  }
  for (const name of e.request?.absentHeaders ?? []) {
    if (r.response.headers.some(([k]) => k === name.toLowerCase())) return { what: `backend saw header ${name}`, expected: 'absent', got: 'present' };
  }
  return null;
}

/** A gRPC answer in the shape the distribution check reads (status 200 + echo pod when OK). */
function grpcAsEcho(r: GrpcResult): RoundTrip {
  const ok = r.grpcStatus === 0 && r.response !== null;
  return {
    status: ok ? 200 : 500,
    headers: new Map(),
    echo: ok ? { path: r.response!.fullyQualifiedMethod, host: r.response!.authority, method: 'POST', proto: 'HTTP/2.0', headers: {}, namespace: r.response!.namespace, pod: r.response!.pod } : null,
    bodySnippet: '',
    protocol: 'HTTP/2.0',
  };
}

/** UDP echo: the reply must carry our payload, from the expected pod and namespace; `rejected` = no reply. */
export function compareUdpEcho(rc: RequestCase, payload: string, r: UdpEchoResult): Mismatch | null {
  const e = rc.expect;
  if (e.rejected) return { what: 'datagram', expected: 'dropped (no reply)', got: `a reply from pod ${r.pod ?? '?'}` };
  if (r.request !== payload) return { what: 'UDP echo payload', expected: payload, got: String(r.request) };
  if (e.namespace !== undefined && r.namespace !== e.namespace) return { what: 'backend namespace', expected: e.namespace, got: String(r.namespace) };
  if (e.backend !== undefined && !String(r.pod).startsWith(e.backend)) return { what: 'backend', expected: `${e.backend}-*`, got: String(r.pod) };
  return null;
}

function udpAsEcho(r: UdpEchoResult): RoundTrip {
  const ok = typeof r.pod === 'string';
  return {
    status: ok ? 200 : 500,
    headers: new Map(),
    echo: ok ? { path: '', host: '', method: '', proto: 'UDP', headers: {}, namespace: r.namespace ?? '', pod: r.pod! } : null,
    bodySnippet: '',
    protocol: 'UDP',
  };
}

/** A TCP echo exchange in the shape the distribution check reads. */
function tcpAsEcho(r: TcpEchoResult): RoundTrip {
  const ok = r.pong === 'PONG' && r.test !== null && typeof r.test.pod === 'string';
  return {
    status: ok ? 200 : 500,
    headers: new Map(),
    echo: ok ? { path: '', host: '', method: '', proto: 'TCP', headers: {}, namespace: r.test!.namespace ?? '', pod: r.test!.pod! } : null,
    bodySnippet: '',
    protocol: 'TCP',
  };
}

/** The TCP echo checks of the upstream TLS/TCP helpers: welcome, PONG, IS_TLS, then namespace / pod / SNI. */
export function compareTcpEcho(rc: RequestCase, r: TcpEchoResult): Mismatch | null {
  const e = rc.expect;
  if (e.rejected) return { what: 'connection', expected: 'rejected', got: `TCP echo answered (pod ${r.test?.pod ?? '?'})` };
  if (r.welcome !== 'Gateway API Test TCP Server') return { what: 'welcome line', expected: 'Gateway API Test TCP Server', got: r.welcome };
  if (r.pong !== 'PONG') return { what: 'PING', expected: 'PONG', got: r.pong };
  if (e.backendTls !== undefined && r.isTls !== String(e.backendTls)) return { what: 'IS_TLS', expected: String(e.backendTls), got: r.isTls };
  if (!r.test) return { what: 'TEST', expected: 'a JSON line', got: 'unparsable' };
  if (e.namespace !== undefined && r.test.namespace !== e.namespace) return { what: 'backend namespace', expected: e.namespace, got: String(r.test.namespace) };
  if (e.backend !== undefined && !String(r.test.pod).startsWith(e.backend)) return { what: 'backend', expected: `${e.backend}-*`, got: String(r.test.pod) };
  if (e.backendServerName !== undefined && r.test.tls?.serverName !== e.backendServerName) {
    return { what: 'backend TLS server name', expected: e.backendServerName, got: String(r.test.tls?.serverName) };
  }
  return null;
}

function outgoing(spec: RequestSpec, host: string, path: string): OutgoingRequest {
  const setHeader = (spec.backendSetResponseHeaders ?? []).map(([k, v]) => `${k}:${v}`).join(',');
  const out: OutgoingRequest = {
    method: spec.method,
    host,
    path,
    headers: [...spec.headers, ['X-Echo-Set-Header', setHeader]],
  };
  if (spec.body !== undefined) out.body = spec.body;
  return out;
}

export function describeRequest(spec: RequestSpec, host: string): string {
  const headers = spec.headers.length ? ` [${spec.headers.map(([k, v]) => `${k}: ${v}`).join(', ')}]` : '';
  const via = `${spec.gateway}${spec.listener ? `#${spec.listener}` : ''}`;
  return `${spec.method} ${host || '<gateway>'}${spec.path}${headers}${spec.sni !== undefined ? ` (SNI ${spec.sni})` : ''} via ${via}`;
}
