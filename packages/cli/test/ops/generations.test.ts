/**
 * metadata.generation across reloads (src/generations.ts), through the real loader, compile and the
 * Reloader: what `/status` reports as observedGeneration after each reload.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile, type StatusReport } from '@gatehouse/core';
import { Reloader } from '../../src/reload.js';
import { loadResources } from '../../src/load/index.js';
import { FakeRuntime, recordingLogger } from './fakes.js';

const GATEWAY = (extra = '', generation = '') => `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: gatehouse
spec:
  controllerName: gatehouse.dev/gateway-controller
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: demo
  namespace: default
${generation}spec:
  gatewayClassName: gatehouse
  listeners:
    - name: http
      protocol: HTTP
      port: 8080
${extra}`;

const ROUTE = (labels = '') => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
  namespace: default
${labels}spec:
  parentRefs:
    - name: demo
  rules:
    - backendRefs:
        - name: web
          port: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: default
spec:
  type: ExternalName
  externalName: localhost
  ports:
    - port: 80
`;

const SECOND_LISTENER = `    - name: alternate
      hostname: foo.example.com
      protocol: HTTP
      port: 8080
`;

function setup(t: Test) {
  const dir = mkdtempSync(join(tmpdir(), 'gh-generations-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'gateway.yaml'), GATEWAY());
  writeFileSync(join(dir, 'routes.yaml'), ROUTE());
  const runtime = new FakeRuntime();
  const reloader = new Reloader({ dir, load: loadResources, compile, runtime, logger: recordingLogger().logger });
  const status = (): StatusReport => runtime.current()!.status;
  return { dir, reloader, status };
}

/** Every observedGeneration the status reports for the Gateway (its conditions and its listeners'). */
function gatewayGenerations(s: StatusReport, name = 'default/demo'): number[] {
  const gw = s.gateways.find((g) => g.name === name);
  if (!gw) return [];
  return [...gw.conditions, ...gw.listeners.flatMap((l) => l.conditions)].map((c) => c.observedGeneration);
}
function routeGenerations(s: StatusReport, name = 'default/web'): number[] {
  const r = s.routes.find((x) => x.name === name);
  return r ? r.parents.flatMap((p) => p.conditions.map((c) => c.observedGeneration)) : [];
}
function classGenerations(s: StatusReport): number[] {
  return s.gatewayClasses.flatMap((c) => c.conditions.map((x) => x.observedGeneration));
}
const all = (xs: number[], n: number) => xs.length > 0 && xs.every((x) => x === n);

t.test('a Gateway listener change bumps the Gateway to generation 2; the unchanged HTTPRoute stays at 1', async (t) => {
  const { dir, reloader, status } = setup(t);
  t.equal((await reloader.reload('startup')).result, 'ok');
  t.ok(all(gatewayGenerations(status()), 1), `Gateway conditions at 1: ${gatewayGenerations(status())}`);
  t.ok(all(routeGenerations(status()), 1), 'HTTPRoute conditions at 1');
  t.ok(all(classGenerations(status()), 1), 'GatewayClass at 1');

  writeFileSync(join(dir, 'gateway.yaml'), GATEWAY(SECOND_LISTENER));
  t.equal((await reloader.reload('watch')).result, 'ok');
  const s = status();
  t.same(s.gateways[0]!.listeners.map((l) => l.name), ['http', 'alternate'], 'the new listener is served');
  t.ok(all(gatewayGenerations(s), 2), `every Gateway and listener condition at 2: ${gatewayGenerations(s)}`);
  t.ok(all(routeGenerations(s), 1), `HTTPRoute unchanged, still 1: ${routeGenerations(s)}`);
  t.ok(all(classGenerations(s), 1), 'GatewayClass unchanged, still 1');
  t.equal(reloader.generations.generationOf('Gateway', 'default', 'demo'), 2);

  // Another change: 3. Reverting the spec is a change too (the API server counts writes, not states).
  writeFileSync(join(dir, 'gateway.yaml'), GATEWAY());
  await reloader.reload('watch');
  t.ok(all(gatewayGenerations(status()), 3), 'reverting the listener: 3');
});

t.test('what does not bump: labels, comments, moving the object to another file, an unchanged reload', async (t) => {
  const { dir, reloader, status } = setup(t);
  await reloader.reload('startup');
  writeFileSync(join(dir, 'routes.yaml'), `# a comment\n${ROUTE('  labels:\n    team: web\n')}`);
  t.equal((await reloader.reload('watch')).result, 'ok', 'the content changed, so the reload applied');
  t.ok(all(routeGenerations(status()), 1), 'a label and a comment are not spec: still 1');
  renameSync(join(dir, 'routes.yaml'), join(dir, 'zz-moved.yaml'));
  t.equal((await reloader.reload('watch')).result, 'ok');
  t.ok(all(routeGenerations(status()), 1), 'moved to another file: still 1');
  t.equal((await reloader.reload('admin')).result, 'unchanged');
  t.ok(all(gatewayGenerations(status()), 1), 'a no-op reload: still 1');
});

t.test('a rejected reload bumps nothing; the fixed one bumps once', async (t) => {
  const { dir, reloader, status } = setup(t);
  await reloader.reload('startup');
  writeFileSync(join(dir, 'gateway.yaml'), GATEWAY(`${SECOND_LISTENER}      bogusField: 1\n`));
  t.equal((await reloader.reload('watch')).result, 'error');
  t.equal(reloader.generations.generationOf('Gateway', 'default', 'demo'), 1, 'rejected: still 1');
  writeFileSync(join(dir, 'gateway.yaml'), GATEWAY(SECOND_LISTENER));
  t.equal((await reloader.reload('watch')).result, 'ok');
  t.ok(all(gatewayGenerations(status()), 2), `one bump for the one applied change: ${gatewayGenerations(status())}`);
});

t.test('metadata.generation in the file is the starting point; deleting an object forgets its counter', async (t) => {
  const { dir, reloader, status } = setup(t);
  writeFileSync(join(dir, 'gateway.yaml'), GATEWAY('', '  generation: 7\n'));
  await reloader.reload('startup');
  t.ok(all(gatewayGenerations(status()), 7), 'the file says 7');
  writeFileSync(join(dir, 'gateway.yaml'), GATEWAY(SECOND_LISTENER, '  generation: 7\n'));
  await reloader.reload('watch');
  t.ok(all(gatewayGenerations(status()), 8), 'a spec change on top: 8');

  const route = readFileSync(join(dir, 'routes.yaml'), 'utf8');
  writeFileSync(join(dir, 'routes.yaml'), route.replace('    - name: demo\n', '    - name: demo\n      sectionName: http\n'));
  await reloader.reload('watch');
  t.ok(all(routeGenerations(status()), 2), 'route changed: 2');
  rmSync(join(dir, 'routes.yaml'));
  await reloader.reload('watch');
  t.equal(routeGenerations(status()).length, 0, 'route gone');
  writeFileSync(join(dir, 'routes.yaml'), route);
  await reloader.reload('watch');
  t.ok(all(routeGenerations(status()), 1), 'created again: starts at 1, as a new object in the API server');
});
