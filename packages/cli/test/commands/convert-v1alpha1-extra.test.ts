/**
 * fixtures/v1alpha1-extra: a v1alpha1 TLSRoute whose rules have different SNI sets (split into
 * separate TLSRoutes, one name already taken by a v1 object) and a BackendPolicy whose app-protocol
 * annotation makes the grpc Service port speak h2c. What `gatehouse validate`, `convert` and `routes` show.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadResources } from '../../src/load/index.js';

const ROOT = resolve(import.meta.dirname, '../../../..');
const BIN = join(ROOT, 'packages/cli/dist/bin.js');
const FIXTURE = 'fixtures/v1alpha1-extra';
const gatehouse = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });

t.test('validate: clean, says which TLSRoutes the split created and what was dropped', async (t) => {
  const r = gatehouse(['validate', FIXTURE]);
  t.equal(r.status, 0, r.stdout + r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.same(lines.length, 4, r.stdout);
  t.match(lines[0], /^v1alpha1-extra\/01-tlsroute\.yaml:20:7 TLSRoute default\/secure V1ALPHA1_SPLIT: info: .*rules\[1\] → TLSRoute default\/secure-rule-1-2 \(spec\.rules\[1\]\)$/);
  t.match(lines[1], /^v1alpha1-extra\/01-tlsroute\.yaml:29:7 TLSRoute default\/secure V1ALPHA1_EXTRA_RULES: warning: rules\[2\] can never be reached/);
  t.match(lines[2], /^v1alpha1-extra\/03-backendpolicy\.yaml:15:3 BackendPolicy default\/grpc-h2c V1ALPHA1_DROPPED: warning: .*BackendTLSPolicy/);
  t.equal(lines[3], '11 objects, 0 errors, 2 warnings');
  t.notMatch(r.stdout, /DUPLICATE_OBJECT|UNSUPPORTED_KIND/, 'the split name avoids the v1 secure-rule-1; BackendPolicy is read, not skipped');
});

t.test('routes: the split route serves its own SNI; the grpc backend speaks h2c', async (t) => {
  const r = gatehouse(['routes', FIXTURE]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /sni a\.example\.com .*TLSRoute default\/secure +via/);
  t.match(r.stdout, /sni b\.example\.com .*TLSRoute default\/secure-rule-1-2 +via[^\n]*\n\s+backends: Service default\/b:443 weight 3 \(75%\), Service default\/b-canary:443 weight 1 \(25%\)/);
  t.match(r.stdout, /sni c\.example\.com .*TLSRoute default\/secure-rule-1 +via/, 'the v1 object of that name is untouched');
  t.match(r.stdout, /Service default\/grpc:9000 +\S+ +h2c/);
});

t.test('convert: two TLSRoutes, the BackendPolicy as comments; the output validates and routes the same', async (t) => {
  const r = gatehouse(['convert', FIXTURE]);
  t.equal(r.status, 0, r.stderr);
  const docs = r.stdout.split(/^---$/m);
  t.same(
    docs.map((d) => /^# (\S+ \S+):/m.exec(d)?.[1]),
    ['GatewayClass extra-class', 'Gateway default/edge', 'TLSRoute default/secure', 'TLSRoute default/secure-rule-1-2', 'HTTPRoute default/grpc', 'BackendPolicy default/grpc-h2c'],
  );
  t.match(docs[2], /# - split: rules\[1\] → TLSRoute default\/secure-rule-1-2/);
  t.match(docs[3], /# - rules\[1\]: SNI a\.example\.com left out of hostnames/);
  t.match(docs[3], /kind: TLSRoute\nmetadata:\n  name: secure-rule-1-2\n  namespace: default\n  labels:\n    team: payments\nspec:\n  parentRefs:\n    - name: edge\n      sectionName: tls-8443\n  hostnames:\n    - b\.example\.com\n/);
  t.match(docs[5], /^# - Service default\/grpc port 9000: appProtocol kubernetes\.io\/h2c/m);
  t.notMatch(docs[5], /^[^#\n]/m, 'the BackendPolicy block is comments only');

  // The converted objects plus the directory's other files load clean and give the same TLSRoutes.
  const dir = join(mkdtempSync(join(tmpdir(), 'gh-convert-extra-')), 'converted');
  mkdirSync(dir);
  writeFileSync(join(dir, 'converted.yaml'), r.stdout);
  for (const f of ['02-taken.yaml', '10-services.yaml']) copyFileSync(join(ROOT, FIXTURE, f), join(dir, f));
  const converted = await loadResources(dir);
  t.same(converted.diagnostics, []);
  const original = await loadResources(join(ROOT, FIXTURE));
  const tls = (rs: typeof original.resources) =>
    rs.tlsRoutes.map((x) => ({ name: x.metadata.name, labels: x.metadata.labels, hostnames: x.spec.hostnames, rules: x.spec.rules, parents: x.spec.parentRefs })).sort((a, b) => a.name.localeCompare(b.name));
  t.same(tls(converted.resources), tls(original.resources));
  // The appProtocol is the one thing the user copies into the Service by hand (the comment says where).
  t.equal(converted.resources.services.find((s) => s.metadata.name === 'grpc')!.spec.ports[0]!.appProtocol, undefined);
  t.equal(original.resources.services.find((s) => s.metadata.name === 'grpc')!.spec.ports[0]!.appProtocol, 'kubernetes.io/h2c');
});
