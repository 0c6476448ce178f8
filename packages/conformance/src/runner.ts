/**
 * Runs the cases: for each test, assemble the directory (upstream manifests unchanged + generated
 * GatewayClass, TLS Secrets, EndpointSlices), build it with the product, check status, apply the table
 * to a fresh Runtime (ports remapped, see product.ts), send the traffic, compare, record. Every step is
 * bounded: per request, per test, and for the whole suite.
 */
import { randomUUID, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackendSet, backendNameOfPod, type BackendSet } from './backends.js';
import type { ConformanceCase, DistributionCheck, Phase, RequestCase, RequestSpec } from './cases.js';
import { generateTls, type GeneratedTls } from './certs.js';
import type { Mismatch } from './compare.js';
import { outgoing, probe, sample } from './probe.js';
import { endpointHints, resolveTarget } from './table.js';
import {
  CONTROLLER_NAME,
  allObjects,
  applyMutation,
  gatewayClassObject,
  generatedFile,
  readManifest,
  servedGatewayClasses,
  writeDir,
  type K8sObject,
  type ManifestFile,
} from './manifests.js';
import { remapPorts, type BuildResult, type LiveGateway, type Product } from './product.js';
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
    const state: RunState = { cancelled: false, runtime: null, live: null };
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
      if (state.live) await state.live.close().catch(() => {});
      else if (state.runtime) await state.runtime.close(0).catch(() => {});
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
      const classes = servedGatewayClasses(allObjects(files));
      if (c.via === 'reload') {
        await this.runLivePhase(c, pi, dir, classes, result, state, allObjects(files));
        continue;
      }
      const built = await product.build(dir, classes);
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
   * One phase through `gatehouse run` (case `via: reload`): the first phase starts the cli's Gateway on the
   * directory, later ones POST /reload after the files were rewritten; status comes from GET /status.
   */
  private async runLivePhase(c: ConformanceCase, pi: number, dir: string, classes: string[], result: TestResult, state: RunState, objects: K8sObject[]): Promise<void> {
    const phase = c.phases[pi]!;
    const log = (l: string): void => {
      // The reloader logs the loader's warnings (e.g. Deployment not read) as `config:` lines: not runtime events.
      if (result.runtimeLog.length < 50 && !l.startsWith('warn config: ')) result.runtimeLog.push(l);
    };
    if (!state.live) {
      state.live = await this.s.product.startGateway(dir, classes, log);
      state.runtime = state.live.runtime;
    } else {
      const outcome = await state.live.reload();
      if (outcome.result !== 'ok') {
        for (const d of outcome.diagnostics ?? []) if (!result.diagnostics.includes(d.text)) result.diagnostics.push(d.text);
        result.failures.push({ phase: pi, kind: 'setup', what: 'POST /reload', expected: 'result ok (the changed files applied)', got: `${outcome.result}: ${outcome.message}` });
        return;
      }
    }
    const status = await state.live.status();
    if (phase.status) {
      result.statusChecks++;
      for (const m of checkStatus(status, phase.status, CONTROLLER_NAME)) result.failures.push({ phase: pi, kind: 'status', ...m });
    }
    const table = state.live.runtime.current()?.table;
    if (!table) {
      result.failures.push({ phase: pi, kind: 'setup', what: 'serving table', expected: 'a table after the reload', got: 'none' });
      return;
    }
    if (!phase.requests.length && !phase.distributions.length) return;
    await this.runTraffic(phase, pi, { table, status, errors: [], warnings: [] }, state, result, objects);
  }

  /** The fingerprint of the certificate in a kubernetes.io/tls Secret (generated, or from the manifests). */
  private certificateOf(ref: { namespace: string; name: string }, objects: K8sObject[]): { fingerprint: string; secret: string } | undefined {
    const secret = `${ref.namespace}/${ref.name}`;
    let pem = this.s.tls.secrets.get(secret)?.cert;
    if (!pem) {
      const o = objects.find((x) => x.kind === 'Secret' && x.metadata?.name === ref.name && x.metadata?.namespace === ref.namespace);
      const data = (o?.data ?? {}) as Record<string, unknown>;
      if (typeof data['tls.crt'] === 'string') pem = Buffer.from(data['tls.crt'], 'base64').toString('utf8');
    }
    if (!pem) return undefined;
    try {
      return { fingerprint: new X509Certificate(pem).fingerprint256, secret };
    } catch {
      return undefined;
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
    const expectedCert = t.certificateRef ? this.certificateOf(t.certificateRef, objects) : undefined;
    const deadline = Date.now() + opts.consistencyMs;
    let successes = 0;
    let last: Mismatch | null = null;
    for (;;) {
      if (state.cancelled) return { kind: 'request', request: label, what: 'test', expected: 'finished', got: 'cancelled (test timeout)' };
      if (rc.request.uniqueQueryParam) {
        path = `${basePath}${basePath.includes('?') ? '&' : '?'}${rc.request.uniqueQueryParam}=${randomUUID()}`;
        out = outgoing(rc.request, t.host, path);
      }
      last = await probe(rc, t.target, t.host, path, out, opts.requestTimeoutMs, expectedCert);
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
            const rt = await sample(d.request, t.target, t.host, out, this.s.opts.requestTimeoutMs);
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
  /** The running `gatehouse run` of a `via: reload` case (owns `runtime`). */
  live: LiveGateway | null;
}

export function describeRequest(spec: RequestSpec, host: string): string {
  const headers = spec.headers.length ? ` [${spec.headers.map(([k, v]) => `${k}: ${v}`).join(', ')}]` : '';
  const via = `${spec.gateway}${spec.listener ? `#${spec.listener}` : ''}`;
  return `${spec.method} ${host || '<gateway>'}${spec.path}${headers}${spec.sni !== undefined ? ` (SNI ${spec.sni})` : ''} via ${via}`;
}
