/**
 * The one place that knows how to drive the product in-process: the cli loader (`loadResources`),
 * `compile` from @gatehouse/core and the proxy Runtime. Everything else in the harness talks to the
 * `Product` interface, so a change in those entry points is a change here only.
 *
 * Listener ports: the manifests say 80/443/8080/…; the runner must not edit them and cannot bind them.
 * So the runner rewrites the COMPILED table before `runtime.apply`: every `PortIR` gets `port: 0` and
 * `address: 127.0.0.1` (its `key` is kept), the runtime binds a free port per key and reports it through
 * `boundPorts()`. Nothing else changes: `ListenerIR.port` and `HttpGroupIR.listenerPort` keep the
 * manifest ports, so redirect `Location` ports are still computed from the Listener port (features.md
 * §9.6) and the harness compares them with the manifest values.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { RoutingTable, StatusReport, Runtime, Diagnostic, RawDocument } from './product-types.js';
import { LineCounter, parseAllDocuments, isMap, isSeq, type Node as YamlNode } from 'yaml';

export interface BuildResult {
  table: RoutingTable;
  status: StatusReport;
  /** Error diagnostics, formatted (`file:line:col Kind ns/name CODE: message`). */
  errors: string[];
  warnings: string[];
}

export interface Product {
  /** Which entry points were found, e.g. `loadResources+compile+createRuntime`. */
  readonly description: string;
  /** Load + compile `dir`; `gatewayClasses`: the classes this controller serves (default: the suite's own). */
  build(dir: string, gatewayClasses?: string[]): Promise<BuildResult>;
  /** A fresh data plane; its warnings and errors go to `log`. */
  newRuntime(log: (line: string) => void): Promise<Runtime>;
  /**
   * `gatehouse run DIR` in-process, as the cli builds it (its Gateway: reloader, generation counters, admin
   * server on a free loopback port), with no watcher: the runner writes files and POSTs /reload, as an
   * operator would. Ports are remapped as for `build` + `apply`. Rejects when the first load fails.
   */
  startGateway(dir: string, gatewayClasses: string[], log: (line: string) => void): Promise<LiveGateway>;
}

/** A running `gatehouse run`, driven through its admin endpoints. */
export interface LiveGateway {
  /** The data plane (for the bound ports and the serving table). */
  readonly runtime: Runtime;
  /** `http://127.0.0.1:<port>` of the admin server. */
  readonly admin: string;
  /** `POST /reload`: the reload outcome (`result` ok, unchanged or error; `diagnostics` of a rejection). */
  reload(): Promise<{ result: string; message: string; diagnostics?: { text: string }[] }>;
  /** `GET /status`: the StatusReport the operator sees. */
  status(): Promise<StatusReport>;
  close(): Promise<void>;
}

export class ProductUnavailable extends Error {}

/** PortIR.port → 0 and address → 127.0.0.1, keys kept (see the header comment). */
export function remapPorts(table: RoutingTable): RoutingTable {
  return { ...table, ports: table.ports.map((p) => ({ ...p, port: 0, address: '127.0.0.1' })) };
}

type AnyFn = (...args: unknown[]) => unknown;

/** The part of the cli's Gateway (packages/cli/src/gateway.ts) the harness drives. */
interface CliGateway {
  readonly runtime: Runtime;
  start(): Promise<{ ok: true } | { ok: false; code: number; message: string }>;
  adminAddress(): { host: string; port: number } | null;
  stop(reason: string): Promise<void>;
}

async function tryImport(spec: string): Promise<Record<string, unknown> | null> {
  try {
    return (await import(spec)) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** A minimal loader, used only while the cli loader is not there yet: YAML with positions → RawDocument. */
export function readRawDocuments(dir: string): RawDocument[] {
  const files = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
  const out: RawDocument[] = [];
  let order = 0;
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    const lc = new LineCounter();
    const docs = parseAllDocuments(text, { lineCounter: lc });
    docs.forEach((doc, index) => {
      const value = doc.toJS() as unknown;
      if (value === null || value === undefined) return;
      const file = relative(dir, join(dir, f));
      out.push({
        file,
        index,
        order: order++,
        value,
        locate(path) {
          let node: unknown = doc.contents;
          let last = node;
          for (const p of path) {
            if (isMap(node)) node = node.get(p as string, true);
            else if (isSeq(node)) node = node.get(p as number, true);
            else break;
            if (node) last = node;
            else break;
          }
          const range = (last as YamlNode | null)?.range;
          const pos = lc.linePos(range ? range[0] : 0);
          return { file, line: pos.line, col: pos.col };
        },
      });
    });
  }
  return out;
}

function formatDiag(d: Diagnostic): string {
  const where = d.file ? `${d.file}:${d.line ?? 0}:${d.col ?? 0}` : '<config>';
  return `${where}${d.object ? ` ${d.object}` : ''} ${d.code}: ${d.message}${d.path ? ` (${d.path})` : ''}`;
}

export interface ProductOptions {
  gatewayClass: string;
  controllerName: string;
  /**
   * `strict` (the conformance default): a backendRef must name a Service or EndpointSlice in the directory,
   * as in Kubernetes; `default` also falls back to DNS on the bare name (DESIGN.md §5), which turns the
   * suite's "nonexistent Service" cases into DNS lookups.
   */
  backendResolution: 'default' | 'strict';
  /** The proxy's HTTP/1.1 engine for plain-HTTP ports (`node` or `fast`); default: the proxy's own default. */
  httpEngine?: string;
}

export async function loadProduct(opts: ProductOptions): Promise<Product> {
  const core = await tryImport('@gatehouse/core');
  const proxy = await tryImport('@gatehouse/proxy');
  const cliLoad = (await tryImport('@gatehouse/cli/dist/load/index.js')) ?? (await tryImport('@gatehouse/cli'));
  const cliGateway = await tryImport('@gatehouse/cli/dist/gateway.js');
  const compile = core?.compile as AnyFn | undefined;
  const decode = core?.decodeDocuments as AnyFn | undefined;
  const loadResources = cliLoad?.loadResources as AnyFn | undefined;
  const RuntimeClass = proxy?.GatehouseRuntime as (new (options: Record<string, unknown>) => Runtime) | undefined;
  if (!compile) throw new ProductUnavailable('@gatehouse/core does not export compile()');
  if (!RuntimeClass) throw new ProductUnavailable('@gatehouse/proxy does not export GatehouseRuntime yet');

  const engine = opts.httpEngine ?? process.env.GATEHOUSE_HTTP_ENGINE ?? (proxy?.DEFAULT_HTTP_ENGINE as string | undefined);
  const parts = [
    loadResources ? 'cli loadResources' : 'harness loader + core decodeDocuments',
    `core compile (backendResolution ${opts.backendResolution})`,
    `proxy GatehouseRuntime${engine ? ` (httpEngine ${engine})` : ''}`,
  ];
  const compileOptions = (gatewayClasses: string[]): Record<string, unknown> => ({
    gatewayClasses,
    controllerName: opts.controllerName,
    backendResolution: opts.backendResolution,
    isolateGateways: true,
    defaultAddress: '127.0.0.1',
  });
  const runtimeLogger = (log: (line: string) => void) => {
    const fmt = (level: string, msg: string, fields?: Record<string, unknown>): void =>
      log(`${level} ${msg}${fields ? ` ${JSON.stringify(fields)}` : ''}`);
    return {
      debug: () => {},
      info: () => {},
      warn: (m: string, f?: Record<string, unknown>) => fmt('warn', m, f),
      error: (m: string, f?: Record<string, unknown>) => fmt('error', m, f),
    };
  };
  return {
    description: parts.join(' + '),
    async build(dir, gatewayClasses = [opts.gatewayClass]) {
      let resources: unknown;
      const diags: Diagnostic[] = [];
      if (loadResources) {
        const r = (await loadResources(dir)) as Record<string, unknown>;
        diags.push(...((r.diagnostics as Diagnostic[] | undefined) ?? []));
        if (r.resources) resources = r.resources;
        else if (r.documents && decode) {
          const d = decode(r.documents) as { resources: unknown; diagnostics: Diagnostic[] };
          resources = d.resources;
          diags.push(...d.diagnostics);
        } else throw new ProductUnavailable('loadResources returned neither resources nor documents');
      } else {
        if (!decode) throw new ProductUnavailable('neither loadResources nor decodeDocuments is available');
        const d = decode(readRawDocuments(dir)) as { resources: unknown; diagnostics: Diagnostic[] };
        resources = d.resources;
        diags.push(...d.diagnostics);
      }
      const c = compile(resources, compileOptions(gatewayClasses)) as {
        table: RoutingTable;
        status: StatusReport;
        diagnostics: Diagnostic[];
      };
      diags.push(...c.diagnostics);
      return {
        table: c.table,
        status: c.status,
        errors: diags.filter((d) => d.severity === 'error').map(formatDiag),
        warnings: diags.filter((d) => d.severity === 'warning').map(formatDiag),
      };
    },
    async newRuntime(log) {
      return new RuntimeClass({ bindAddress: '127.0.0.1', logger: runtimeLogger(log), ...(opts.httpEngine ? { httpEngine: opts.httpEngine } : {}) });
    },
    async startGateway(dir, gatewayClasses, log) {
      const GatewayClass = cliGateway?.Gateway as (new (config: Record<string, unknown>, deps: Record<string, unknown>) => CliGateway) | undefined;
      if (!GatewayClass || !loadResources) throw new ProductUnavailable('@gatehouse/cli does not export Gateway (dist/gateway.js) and loadResources');
      const logger = runtimeLogger(log);
      let startErr = '';
      const gw = new GatewayClass(
        {
          dir,
          admin: { host: '127.0.0.1', port: 0 },
          bind: '127.0.0.1',
          logFormat: 'json',
          logLevel: 'warn',
          accessLog: 'off',
          watch: false,
          watchPoll: false,
          backendResolution: opts.backendResolution,
          drainTimeoutMs: 0,
          gatewayClasses,
        },
        {
          load: loadResources,
          // The cli's own compile options (classes, resolution, bind address) plus the suite's controller
          // name and per-Gateway isolation, then the listener ports remapped (see the header comment).
          compile: (resources: unknown, o: Record<string, unknown>) => {
            const c = compile(resources, { ...o, ...compileOptions(gatewayClasses) }) as { table: RoutingTable };
            return { ...c, table: remapPorts(c.table) };
          },
          createRuntime: (ctx: { telemetry: unknown }) =>
            new RuntimeClass({ bindAddress: '127.0.0.1', logger, telemetry: ctx.telemetry, ...(opts.httpEngine ? { httpEngine: opts.httpEngine } : {}) }),
          logger: { ...logger, level: 'warn', format: 'json', enabled: (l: string) => l === 'warn' || l === 'error' },
          err: { write: (s: string) => (startErr += s) },
        },
      );
      const started = await gw.start();
      if (!started.ok) throw new Error(`gatehouse run did not start: ${startErr.trim() || started.message}`);
      const address = gw.adminAddress();
      if (!address) {
        await gw.stop('no admin address');
        throw new Error('gatehouse run started without an admin server');
      }
      const admin = `http://127.0.0.1:${address.port}`;
      const call = async <T>(method: string, path: string): Promise<T> => {
        const res = await fetch(`${admin}${path}`, { method, signal: AbortSignal.timeout(10_000) });
        return (await res.json()) as T;
      };
      return {
        runtime: gw.runtime,
        admin,
        reload: () => call('POST', '/reload'),
        status: () => call('GET', '/status'),
        close: () => gw.stop('conformance test done'),
      };
    },
  };
}
