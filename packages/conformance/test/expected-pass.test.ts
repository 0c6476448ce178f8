/**
 * The conformance tests listed in cases/expected-pass.json run against the real product and must PASS.
 * The list grows as the product does; a test that falls off it is a regression.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CONFORMANCE_DIR, expectedPass, runConformance, testLines } from '../src/index.js';

const names = expectedPass();
const haveManifests = existsSync(join(DEFAULT_CONFORMANCE_DIR, 'base', 'manifests.yaml'));

t.test('expected-pass conformance tests pass', { skip: (!haveManifests && 'upstream manifests not available') || (!names.length && 'expected-pass.json is empty') }, async (t) => {
  const { report } = await runConformance({ only: names, write: false, mustPass: 'expected', log: () => {}, suiteTimeoutMs: 150_000 });
  if (report.product.startsWith('unavailable')) {
    t.skip(`product ${report.product}`, () => undefined);
    return;
  }
  for (const n of names) {
    const r = report.results.find((x) => x.name === n);
    t.equal(r?.outcome, 'PASS', r ? testLines(r).join('\n') : `${n}: no result`);
  }
});

t.test('negative controls: a wrong expectation is reported as FAIL with the mismatch', { skip: !haveManifests && 'upstream manifests not available' }, async (t) => {
  const { parseCase } = await import('../src/cases.js');
  const { loadProduct } = await import('../src/product.js');
  const { Suite, DEFAULT_RUN_OPTIONS } = await import('../src/runner.js');
  const { CONTROLLER_NAME, GATEWAY_CLASS_NAME } = await import('../src/manifests.js');
  let product;
  try {
    product = await loadProduct({ gatewayClass: GATEWAY_CLASS_NAME, controllerName: CONTROLLER_NAME, backendResolution: 'strict' });
  } catch (e) {
    t.skip(`product unavailable: ${String(e)}`, () => undefined);
    return;
  }
  const suite = await Suite.start({ ...DEFAULT_RUN_OPTIONS, conformanceDir: DEFAULT_CONFORMANCE_DIR, log: () => {} }, product);
  t.teardown(() => suite.close());
  const wrongBackend = parseCase(
    'name: HTTPRouteSimpleSameNamespace\nmanifests: [tests/httproute-simple-same-namespace.yaml]\nrequests: [{path: /, backend: infra-backend-v2}]\n',
    'control.yaml',
  );
  const r1 = await suite.run(wrongBackend);
  t.equal(r1.outcome, 'FAIL');
  t.match(r1.failures[0], { kind: 'request', what: 'backend', expected: 'infra-backend-v2-*', got: /^infra-backend-v1-/ });
  const wrongStatus = parseCase(
    'name: HTTPRouteSimpleSameNamespace\nmanifests: [tests/httproute-simple-same-namespace.yaml]\nstatus: {routes: [{name: gateway-conformance-infra-test, parents: [{gateway: same-namespace, conditions: {Accepted: "False"}}]}]}\n',
    'control.yaml',
  );
  const r2 = await suite.run(wrongStatus);
  t.equal(r2.outcome, 'FAIL');
  t.match(r2.failures[0], { kind: 'status', expected: 'Accepted=False', got: /Accepted=True/ });
  const wrongRedirect = parseCase(
    'name: HTTPRouteRedirectPort\nmanifests: [tests/httproute-redirect-port.yaml]\nrequests: [{path: /port, status: 302, redirect: {port: "9999"}}]\n',
    'control.yaml',
  );
  const r3 = await suite.run(wrongRedirect);
  t.match(r3.failures[0], { what: 'Location port', expected: '9999', got: /^8083/ });
  // via reload: a spec change that is expected NOT to bump the generation must be reported with the real one
  const noBump = parseCase(
    'name: HTTPRouteObservedGenerationBump\nmanifests: [tests/httproute-observed-generation-bump.yaml]\nvia: reload\n' +
      'then: [{mutate: [{kind: HTTPRoute, name: observed-generation-bump, patch: {spec: {rules: [{backendRefs: [{name: infra-backend-v2, port: 8080}]}]}}}], ' +
      'status: {routes: [{name: observed-generation-bump, observedGeneration: 1}]}}]\n',
    'control.yaml',
  );
  const r4 = await suite.run(noBump);
  t.equal(r4.outcome, 'FAIL');
  t.match(r4.failures[0], { phase: 1, kind: 'status', what: /observedGeneration/, expected: '1 on every condition', got: /Accepted=2/ });
});
