#!/usr/bin/env node
/**
 * Load benchmark: generates a directory of 1,000 files holding 10,000 HTTPRoutes (plus a Gateway and
 * the Services), then times `loadResources` (read + YAML parse with positions + decode + validate)
 * and, separately, `loadDirectory` alone. Prints the figures; asserts nothing.
 *
 *   npx tsc -b && node benchmarks/load.js [--files 1000] [--routes 10000] [--runs 5]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadDirectory, loadResources } from '../packages/cli/dist/load/index.js';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const FILES = arg('files', 1000);
const ROUTES = arg('routes', 10000);
const RUNS = arg('runs', 5);

function route(i) {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: route-${i}
  namespace: team-${i % 20}
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
    - name: svc-${i % 100}
      namespace: backends
      port: 8080
      weight: 90
    - name: canary-${i % 100}
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
    - name: svc-${i % 100}
      namespace: backends
      port: 8080
`;
}

const root = join(mkdtempSync(join(tmpdir(), 'gh-bench-load-')), 'config');
mkdirSync(root, { recursive: true });
writeFileSync(
  join(root, '000-gateway.yaml'),
  `apiVersion: gateway.networking.k8s.io/v1
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
`,
);
const perFile = Math.ceil(ROUTES / FILES);
let n = 0;
for (let f = 0; f < FILES; f++) {
  const docs = [];
  for (let k = 0; k < perFile && n < ROUTES; k++) docs.push(route(n++));
  const dir = join(root, `team-${f % 20}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `routes-${String(f).padStart(4, '0')}.yaml`), docs.join('---\n'));
}

/** Wall time and CPU time (user + system) of this process: on a busy machine the CPU figure is the fairer one. */
const time = async (fn) => {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await fn();
  const c = process.cpuUsage(c0);
  cpu.push((c.user + c.system) / 1000);
  return [performance.now() - t0, r];
};
let cpu = [];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const full = [];
const parseOnly = [];
const fullCpu = [];
const parseCpu = [];
let result;
for (let i = 0; i < RUNS; i++) {
  const [ms, r] = await time(() => loadResources(root));
  full.push(ms);
  fullCpu.push(cpu.pop());
  result = r;
  parseOnly.push((await time(() => loadDirectory(root)))[0]);
  parseCpu.push(cpu.pop());
}
const errors = result.diagnostics.filter((d) => d.severity === 'error');
console.log(`${ROUTES} HTTPRoutes in ${result.files.length} files: ${result.resources.httpRoutes.length} decoded, ${errors.length} errors`);
console.log(`loadResources (read + parse + decode/validate): median ${median(full).toFixed(0)} ms wall, ${median(fullCpu).toFixed(0)} ms CPU; first run ${full[0].toFixed(0)} ms`);
console.log(`loadDirectory (read + parse only):              median ${median(parseOnly).toFixed(0)} ms wall, ${median(parseCpu).toFixed(0)} ms CPU`);
console.log(`node ${process.version}, ${process.platform}/${process.arch}`);
rmSync(join(root, '..'), { recursive: true, force: true });
