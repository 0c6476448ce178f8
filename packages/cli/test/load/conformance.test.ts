/**
 * The upstream conformance manifests must load without errors: the suite applies each of them to a real
 * API server with the CRDs installed, so anything we reject there is a false error. Problems the suite
 * does test for (missing backends, bad sectionNames, invalid ReferenceGrants, unsupported protocols,
 * unknown route kinds, ...) are status-level: the compiler reports them as conditions, not the loader.
 * Upstream has no test whose manifests the API server itself must reject, so EXPECTED_ERRORS is empty;
 * list a file here, with its code, if one appears.
 */
import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatDiagnostic } from '@gatehouse/core';
import { loadResources } from '../../src/load/index.js';

const CONFORMANCE = '/work/shared/conformance';
const EXPECTED_ERRORS: Record<string, string[]> = {};

function materialise(files: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'gh-conf-'));
  for (const f of files) {
    const text = readFileSync(f, 'utf8')
      .replaceAll('{GATEWAY_CLASS_NAME}', 'gatehouse')
      .replaceAll('{GATEWAY_CONTROLLER_NAME}', 'gatehouse.dev/gateway-controller')
      // The suite substitutes these from its flags before applying (gateway-static-addresses).
      .replaceAll('PLACEHOLDER_UNUSABLE_ADDRS', '192.0.2.1')
      .replaceAll('PLACEHOLDER_USABLE_ADDRS', '127.0.0.1');
    writeFileSync(join(dir, f.slice(CONFORMANCE.length + 1).replaceAll('/', '__')), text);
  }
  return dir;
}

const errorsOf = async (dir: string) => (await loadResources(dir)).diagnostics.filter((d) => d.severity === 'error');

t.test('base manifests load clean', async (t) => {
  const dir = materialise([`${CONFORMANCE}/base/manifests.yaml`]);
  const r = await loadResources(dir);
  t.same(r.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic), []);
  t.equal(r.resources.gateways.length, 4, 'base gateways decoded');
  t.equal(r.resources.namespaces.length, 3);
  t.equal(r.resources.services.length, 14);
});

for (const root of ['tests', '_release-v1.6.1/tests']) {
  const files = readdirSync(join(CONFORMANCE, root)).filter((f) => f.endsWith('.yaml')).sort();
  t.test(`${root}: ${files.length} files, each with the base manifests`, async (t) => {
    const base = join(CONFORMANCE, root.startsWith('_') ? '_release-v1.6.1/base/manifests.yaml' : 'base/manifests.yaml');
    for (const f of files) {
      const dir = materialise([base, join(CONFORMANCE, root, f)]);
      const codes = (await errorsOf(dir)).map((d) => d.code);
      t.same(codes, EXPECTED_ERRORS[f] ?? [], `${f}: ${codes.length ? (await errorsOf(dir)).map(formatDiagnostic).join('\n') : 'no errors'}`);
    }
  });
}

t.test('mesh manifests load clean', async (t) => {
  const files = [`${CONFORMANCE}/mesh/manifests.yaml`, ...readdirSync(`${CONFORMANCE}/tests/mesh`).map((f) => `${CONFORMANCE}/tests/mesh/${f}`)];
  for (const f of files) {
    const dir = materialise([f]);
    t.same((await errorsOf(dir)).map(formatDiagnostic), [], f);
  }
});

t.test('TCPRoute/UDPRoute at v1alpha2 (main) and v1 (v1.6.1) decode alike', async (t) => {
  const main = (await loadResources(materialise([`${CONFORMANCE}/base/manifests.yaml`, `${CONFORMANCE}/tests/tcproute-weighted-routing.yaml`]))).resources;
  const rel = (await loadResources(materialise([`${CONFORMANCE}/_release-v1.6.1/base/manifests.yaml`, `${CONFORMANCE}/_release-v1.6.1/tests/tcproute-weighted-routing.yaml`]))).resources;
  t.ok(main.tcpRoutes.length > 0);
  t.same(main.tcpRoutes.map((r) => r.spec), rel.tcpRoutes.map((r) => r.spec));
});
