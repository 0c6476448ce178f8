import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadResources } from '../../src/load/index.js';

const ROOT = resolve(import.meta.dirname, '../../../..');
const BIN = join(ROOT, 'packages/cli/dist/bin.js');
const gatehouse = (args: string[], cwd = ROOT) => spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });

t.test('the Traefik tutorial converts to v1 YAML with comments', async (t) => {
  const r = gatehouse(['convert', 'fixtures/seed/v1alpha1']);
  t.equal(r.status, 0);
  t.equal(r.stderr, '');
  const docs = r.stdout.split(/^---$/m);
  t.equal(docs.length, 5, 'GatewayClass, Gateway, three HTTPRoutes');
  t.match(docs[1], /# Gateway default\/my-gateway: converted from networking\.x-k8s\.io\/v1alpha1 \(v1alpha1\/00-gateway\.yaml:10\)/);
  t.match(docs[1], /# - listener names synthesized: http-80/);
  t.match(docs[1], /routes\.selector \(app=traefik\) has no v1 field/);
  t.match(docs[4], /apiVersion: gateway\.networking\.k8s\.io\/v1\nkind: HTTPRoute/);
  t.match(docs[4], /parentRefs:\n    - name: my-gateway\n      sectionName: http-80/);
  t.match(docs[4], /- name: nginx\n          port: 80\n          weight: 3\n        - name: whoami\n          port: 80\n/);
  t.notMatch(r.stdout, /networking\.x-k8s\.io\/v1alpha1\nkind/, 'no v1alpha1 apiVersion left');
});

t.test('the converted output validates clean and matches the hand-written v1 seed', async (t) => {
  const out = gatehouse(['convert', 'fixtures/seed/v1alpha1']).stdout;
  const dir = join(mkdtempSync(join(tmpdir(), 'gh-convert-')), 'converted');
  spawnSync('mkdir', ['-p', dir]);
  writeFileSync(join(dir, 'converted.yaml'), out);
  const converted = await loadResources(dir);
  t.same(converted.diagnostics, []);
  const v1 = await loadResources(join(ROOT, 'fixtures/seed/v1'));
  t.same(v1.diagnostics, []);
  const routes = (rs: typeof v1.resources) =>
    rs.httpRoutes.map((r) => ({ name: r.metadata.name, hostnames: r.spec.hostnames, rules: r.spec.rules, parents: r.spec.parentRefs.map((p) => p.name) }));
  t.same(routes(converted.resources), routes(v1.resources), 'same routes, rules, backends and weights');
});

t.test('nothing to convert: a note on stderr, exit 0', async (t) => {
  const r = gatehouse(['convert', 'fixtures/seed/v1']);
  t.equal(r.status, 0);
  t.equal(r.stdout, '');
  t.match(r.stderr, /nothing to convert: no networking\.x-k8s\.io\/v1alpha1 objects in fixtures\/seed\/v1/);
});

t.test('usage', async (t) => {
  t.equal(gatehouse(['convert']).status, 2);
  t.equal(gatehouse(['convert', 'x', '--nope']).status, 2);
  const r = gatehouse(['convert', 'missing-dir']);
  t.equal(r.status, 1);
  t.match(r.stderr, /missing-dir: no such file or directory/);
});

t.test('the v1alpha1 tutorial and its v1 rewrite compile to the same routing table', async (t) => {
  const routes = (dir: string) => {
    const r = gatehouse(['routes', dir]);
    t.equal(r.status, 0, `routes ${dir}`);
    // The only intended difference: the synthesized listener name (http-80) vs the hand-written one (http).
    return r.stdout.replace(/^hash .*$/m, '').replaceAll('/http-80', '/http');
  };
  const a = routes('fixtures/seed/v1alpha1');
  t.match(a, /nginx01\.tkdashboard\.com[\s\S]*weight 3 \(75%\)[\s\S]*weight 1 \(25%\)/);
  t.equal(a, routes('fixtures/seed/v1'));
});
