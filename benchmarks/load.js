#!/usr/bin/env node
/**
 * Load benchmark: what `gatehouse validate DIR` costs on a large directory. Generates 1,000 files
 * holding 10,000 HTTPRoutes, plus the objects that make them attach and resolve (a GatewayClass, a
 * Gateway, a ReferenceGrant, 200 Services with their EndpointSlices), so the compile step does its
 * real work (attachment, precedence, backends, status) instead of rejecting every route.
 *
 * Two figures:
 *   1. `gatehouse validate DIR` as a user runs it: a fresh `node` process per run (start-up, module
 *      loading, read + parse with positions + decode + validate + compile, printing), wall time and
 *      the child's CPU time (user + system, from its own process.cpuUsage() at exit).
 *   2. In-process, first (cold JIT) and warm: loadResources (read + parse + decode/validate, file by
 *      file, with the content hash, as a reload does), then compile and the status report (what a
 *      reload hands the data plane; the table hash is computed only when read, and a reload does not
 *      read it); and loadDirectory (read + parse alone) for the split. The warm figures are the
 *      reload path of a running gateway.
 * Prints the figures; asserts nothing.
 *
 *   npx tsc -b && node benchmarks/load.js [--files 1000] [--routes 10000] [--runs 5] [--keep DIR]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { compile } from '../packages/core/dist/index.js';
import { loadDirectory, loadResources } from '../packages/cli/dist/load/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '../packages/cli/dist/bin.js');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const FILES = Number(arg('files', 1000));
const ROUTES = Number(arg('routes', 10000));
const RUNS = Number(arg('runs', 5));
const KEEP = arg('keep', undefined);
const SERVICES = 100;
const TEAMS = 20;

function route(i) {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: route-${i}
  namespace: team-${i % TEAMS}
  labels:
    app: app-${i}
spec:
  parentRefs:
  - name: edge
    namespace: infra
    sectionName: http
  hostnames:
  - app-${i}.example.com
  rules:
  - matches:
    - path:
        type: PathPrefix
        value: /api/v${i % 3}
      headers:
      - name: x-tenant
        value: tenant-${i % 7}
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set:
        - name: x-route
          value: route-${i}
    backendRefs:
    - name: svc-${i % SERVICES}
      namespace: backends
      port: 8080
      weight: 90
    - name: canary-${i % SERVICES}
      namespace: backends
      port: 8080
      weight: 10
    timeouts:
      request: 10s
  - matches:
    - path:
        type: Exact
        value: /health
    backendRefs:
    - name: svc-${i % SERVICES}
      namespace: backends
      port: 8080
`;
}

function service(name, k) {
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: backends
spec:
  ports:
  - name: http
    port: 8080
    targetPort: 9000
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${name}
  namespace: backends
  labels:
    kubernetes.io/service-name: ${name}
addressType: IPv4
ports:
- name: http
  port: 9000
endpoints:
- addresses: ["10.0.${k >> 8}.${k & 255}"]
  conditions:
    ready: true
`;
}

const root = KEEP ?? join(mkdtempSync(join(tmpdir(), 'gh-bench-load-')), 'config');
rmSync(root, { recursive: true, force: true });
mkdirSync(root, { recursive: true });
writeFileSync(
  join(root, '000-gateway.yaml'),
  `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: gatehouse
spec:
  controllerName: gatehouse.dev/gateway-controller
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: edge
  namespace: infra
spec:
  gatewayClassName: gatehouse
  listeners:
  - name: http
    port: 80
    protocol: HTTP
    allowedRoutes:
      namespaces:
        from: All
${[0, 1].map((g) => `---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata:
  name: teams-${g}
  namespace: backends
spec:
  from:
${Array.from({ length: TEAMS / 2 }, (_, t) => `  - group: gateway.networking.k8s.io\n    kind: HTTPRoute\n    namespace: team-${g * (TEAMS / 2) + t}\n`).join('')}  to:
  - group: ""
    kind: Service
`).join('')}`,
);
const services = [];
for (let s = 0; s < SERVICES; s++) services.push(service(`svc-${s}`, 2 * s), service(`canary-${s}`, 2 * s + 1));
writeFileSync(join(root, '001-backends.yaml'), services.join('---\n'));
const perFile = Math.ceil(ROUTES / FILES);
let n = 0;
for (let f = 0; f < FILES; f++) {
  const docs = [];
  for (let k = 0; k < perFile && n < ROUTES; k++) docs.push(route(n++));
  const dir = join(root, `team-${f % TEAMS}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `routes-${String(f).padStart(4, '0')}.yaml`), docs.join('---\n'));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (xs) => `median ${median(xs).toFixed(0)} ms (runs: ${xs.map((x) => x.toFixed(0)).join(', ')})`;

// 1. The command as a user runs it, one fresh process per run. The child reports its own CPU time at exit.
const cpuHook = `data:text/javascript,import{writeSync}from'node:fs';process.on('exit',()=>{const c=process.cpuUsage();writeSync(3,String((c.user+c.system)/1000))})`;
const cmdWall = [];
const cmdCpu = [];
let summary = '';
for (let i = 0; i < RUNS; i++) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', cpuHook, BIN, 'validate', root], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], maxBuffer: 1 << 28 });
  cmdWall.push(performance.now() - t0);
  cmdCpu.push(Number(r.output[3]?.toString() || NaN));
  const out = r.stdout.toString().trimEnd().split('\n');
  summary = `exit ${r.status}: ${out[out.length - 1]}`;
  if (r.status !== 0) summary += `\n${out.slice(0, 5).join('\n')}\n${r.stderr}`;
}

// 2. In process: the first run is cold (what the command pays), the later ones warm.
const steps = { load: [], read: [], compile: [], total: [], cpu: [] };
let counts = '';
for (let i = 0; i < RUNS; i++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const loaded = await loadResources(root);
  const t1 = performance.now();
  const compiled = compile(loaded.resources);
  if (compiled.status.routes.length < 0) throw new Error('unreachable'); // read it, as a reload does
  const t2 = performance.now();
  const c = process.cpuUsage(c0);
  const t3 = performance.now();
  await loadDirectory(root);
  steps.read.push(performance.now() - t3);
  steps.load.push(t1 - t0);
  steps.compile.push(t2 - t1);
  steps.total.push(t2 - t0);
  steps.cpu.push((c.user + c.system) / 1000);
  const errors = [...loaded.diagnostics, ...compiled.diagnostics].filter((d) => d.severity === 'error');
  counts = `${loaded.resources.httpRoutes.length} HTTPRoutes decoded from ${loaded.files.length} files, ${errors.length} errors, ${compiled.diagnostics.length} compile diagnostics`;
}

console.log(`gatehouse validate (fresh process, ${ROUTES} HTTPRoutes in ${FILES} files + 2 files of gateway/backends): ${summary}`);
console.log(`  wall ${fmt(cmdWall)}`);
console.log(`  CPU  ${fmt(cmdCpu)}`);
console.log(`in process: ${counts}`);
console.log(`  first run: load (read+parse+decode/validate) ${steps.load[0].toFixed(0)} ms, compile ${steps.compile[0].toFixed(0)} ms, total ${steps.total[0].toFixed(0)} ms`);
const warm = (k) => median(steps[k].slice(1).length ? steps[k].slice(1) : steps[k]).toFixed(0);
console.log(`  warm (median of runs 2..${RUNS}): load ${warm('load')} ms (of which read+parse alone: ${warm('read')} ms), compile ${warm('compile')} ms, total ${warm('total')} ms wall, ${warm('cpu')} ms CPU`);
console.log(`node ${process.version}, ${process.platform}/${process.arch}`);
if (!KEEP) rmSync(join(root, '..'), { recursive: true, force: true });
