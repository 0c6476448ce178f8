import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildModel } from '../../src/dashboard/model.js';
import { compileYaml } from '../helpers/yaml.js';

function fixture(name: string) {
  const dir = fileURLToPath(new URL(`../../../../fixtures/compile/${name}/input/`, import.meta.url));
  const text = readdirSync(dir).sort().map((f) => readFileSync(dir + f, 'utf8')).join('\n---\n');
  const c = compileYaml(text);
  return buildModel({ table: c.table, status: { ...c.status } });
}

t.test('L4 routes: TCP/UDP listeners and their single route', async (t) => {
  const m = fixture('tcp-udp-routes');
  const ls = m.gateways.flatMap((g) => g.listeners);
  t.match(ls.find((l) => l.id === 'default/l4/tcp-5000'), { port: 5000, protocol: 'TCP', routes: ['default/older'] });
  t.match(ls.find((l) => l.id === 'default/l4/udp-5300'), { protocol: 'UDP', routes: ['default/dns'] });
  const older = m.routes.find((r) => r.name === 'default/older')!;
  t.equal(older.kind, 'TCPRoute');
  t.same(older.rules[0]!.matches.map((x) => x.path), ['every TCP connection on port 5000']);
  t.same(older.rules[0]!.backends.map((b) => [b.share, b.invalid !== null]), [[80, false], [20, true]], 'weights and the invalid ref');
  t.same(m.routes.find((r) => r.name === 'default/younger')!.rules, [], 'a route that lost the port serves nothing');
  t.equal(m.explainHint, null, 'no HTTP route to prefill explain with');
});

t.test('TLS routes: SNI matches per listener', async (t) => {
  const m = fixture('tls-routes');
  const term = m.routes.find((r) => r.name === 'default/terminate')!;
  t.same(term.rules[0]!.matches.map((x) => [x.hostnames, x.path]), [[['tls.example.com'], 'SNI (Terminate)']]);
  t.match(m.gateways.flatMap((g) => g.listeners).find((l) => l.id === 'default/gw-terminate/tls'), { port: 8443, protocol: 'TLS', hostname: 'tls.example.com', routes: ['default/terminate'] });
});

t.test('no table yet: status only', async (t) => {
  const m = buildModel({ table: null, status: { gateways: [{ name: 'a/b', conditions: [], listeners: [{ name: 'x', supportedKinds: [], attachedRoutes: 0, conditions: [] }], addresses: [] }] } });
  t.match(m.gateways[0]!.listeners[0], { id: 'a/b/x', port: null, protocol: null, routes: [] });
  t.same(m.routes, []);
  t.equal(m.serving, null);
  t.equal(m.ready, false);
});
