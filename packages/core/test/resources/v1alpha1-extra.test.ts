/**
 * The v1alpha1 conversions beyond the per-object mapping: a TLSRoute whose rules have different SNI
 * sets becomes several TLSRoutes (v1alpha1.md §2.5), and a BackendPolicy's app-protocol annotation
 * becomes the referenced Service ports' appProtocol (§2.6).
 */
import t from 'tap';
import { convertDocuments, decodeDocuments, type Diagnostic, type FieldPath, type RawDocument } from '../../src/index.js';
import { GW, X } from './fixtures/docs.js';

const codes = (ds: Diagnostic[]) => ds.map((d) => `${d.severity} ${d.code} ${d.object ?? ''} ${d.path ?? ''}`.trim());

/** Like fixtures/docs.ts, but the line says which rule a path is in: 100 * (document + 1) + rule index. */
function docs(...values: unknown[]): RawDocument[] {
  return values.map((value, i) => ({
    file: 'test.yaml',
    index: i,
    order: i,
    value,
    locate: (p: FieldPath) => ({ file: 'test.yaml', line: 100 * (i + 1) + (p[1] === 'rules' && typeof p[2] === 'number' ? p[2] : 0), col: p.length + 1 }),
  }));
}

const gw = { apiVersion: X, kind: 'Gateway', metadata: { name: 'gw' }, spec: { gatewayClassName: 'c', listeners: [{ protocol: 'TLS', port: 443, tls: { mode: 'Passthrough' }, routes: { kind: 'TLSRoute', selector: { matchLabels: { app: 'tls' } } } }] } };
const rule = (snis: string[] | undefined, service: string, port: number | null = 8443) => ({
  matches: snis ? [{ snis }] : [],
  forwardTo: [{ serviceName: service, ...(port !== null ? { port } : {}) }],
});
const tls = (name: string, rules: unknown[], labels: Record<string, string> = { app: 'tls' }) => ({ apiVersion: X, kind: 'TLSRoute', metadata: { name, labels }, spec: { rules } });

t.test('TLSRoute rules with different SNI sets become separate TLSRoutes', async (t) => {
  const { resources, diagnostics } = decodeDocuments(docs(gw, tls('secure', [rule(['a.example.com'], 'a'), rule(['b.example.com', 'c.example.com'], 'b'), rule(['*.example.com'], 'w')])));
  t.same(codes(diagnostics), ['info V1ALPHA1_SPLIT TLSRoute default/secure spec.rules[1]']);
  t.match(diagnostics[0]!.message, 'rules[1] → TLSRoute default/secure-rule-1, rules[2] → TLSRoute default/secure-rule-2');
  t.equal(diagnostics[0]!.line, 201, 'points at the first rule split off');
  const byName = new Map(resources.tlsRoutes.map((r) => [r.metadata.name, r]));
  t.same([...byName.keys()], ['secure', 'secure-rule-1', 'secure-rule-2']);
  t.same(
    resources.tlsRoutes.map((r) => [r.spec.hostnames, r.spec.rules.map((x) => x.backendRefs.map((b) => `${b.name}:${b.port}`))]),
    [
      [['a.example.com'], [['a:8443']]],
      [['b.example.com', 'c.example.com'], [['b:8443']]],
      [['*.example.com'], [['w:8443']]],
    ],
  );
  for (const r of resources.tlsRoutes) {
    t.same(r.spec.parentRefs, [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw', sectionName: 'tls-443' }], `${r.metadata.name}: same parent binding`);
    t.same(r.metadata.labels, { app: 'tls' }, `${r.metadata.name}: same labels`);
    t.equal(r.metadata.namespace, 'default');
    t.equal(r.convertedFrom, 'v1alpha1');
  }
});

t.test('a rule whose SNIs an earlier rule takes is never reached; a partial overlap keeps the rest', async (t) => {
  const { resources, diagnostics } = decodeDocuments(
    docs(gw, tls('r', [rule(['a.example.com'], 'a'), rule(['a.example.com', 'b.example.com'], 'b'), rule(['a.example.com'], 'c'), rule(undefined, 'all'), rule([], 'all2')])),
  );
  t.same(codes(diagnostics), [
    'warning V1ALPHA1_EXTRA_RULES TLSRoute default/r spec.rules[2]',
    'warning V1ALPHA1_EXTRA_RULES TLSRoute default/r spec.rules[3]',
    'info V1ALPHA1_SPLIT TLSRoute default/r spec.rules[1]',
  ]);
  t.match(diagnostics[0]!.message, /^rules\[2\] can never be reached/);
  t.match(diagnostics[1]!.message, /^rules\[3\], rules\[4\] have no SNIs .* cannot express/);
  t.same(
    resources.tlsRoutes.map((r) => [r.metadata.name, r.spec.hostnames, r.spec.rules[0]!.backendRefs[0]!.name]),
    [
      ['r', ['a.example.com'], 'a'],
      ['r-rule-1', ['b.example.com'], 'b'],
    ],
    'a.example.com stays with rules[0]; the rules without SNIs are dropped',
  );
});

t.test('split names never collide with an object of the directory or another converted route', async (t) => {
  const taken = { apiVersion: GW, kind: 'TLSRoute', metadata: { name: 'secure-rule-1' }, spec: { hostnames: ['z.example.com'], rules: [{ backendRefs: [{ name: 'z', port: 1 }] }] } };
  const { resources, diagnostics } = decodeDocuments(
    docs(gw, tls('secure', [rule(['a.example.com'], 'a'), rule(['b.example.com'], 'b')]), taken, tls('secure-rule-1-2', [rule(['c.example.com'], 'c')])),
  );
  t.same(codes(diagnostics), ['info V1ALPHA1_SPLIT TLSRoute default/secure spec.rules[1]']);
  t.same(resources.tlsRoutes.map((r) => r.metadata.name).sort(), ['secure', 'secure-rule-1', 'secure-rule-1-2', 'secure-rule-1-3']);
  t.same(resources.tlsRoutes.find((r) => r.metadata.name === 'secure-rule-1-3')!.spec.hostnames, ['b.example.com']);
  t.same(resources.tlsRoutes.find((r) => r.metadata.name === 'secure-rule-1')!.spec.hostnames, ['z.example.com'], 'the existing object is untouched');

  const long = 'n'.repeat(250);
  const r2 = decodeDocuments(docs(gw, tls(long, [rule(['a.example.com'], 'a'), rule(['b.example.com'], 'b')])));
  t.same(codes(r2.diagnostics), [`info V1ALPHA1_SPLIT TLSRoute default/${long} spec.rules[1]`]);
  const split = r2.resources.tlsRoutes[1]!.metadata.name;
  t.ok(split.length <= 253 && split.endsWith('-rule-1'), 'a long name is shortened to stay a valid object name');
});

t.test("a split-off route's diagnostics name it and point at its rule in the source", async (t) => {
  const bound = decodeDocuments(docs(gw, tls('secure', [rule(['a.example.com'], 'a'), rule(['b.example.com'], 'nosvc', null)])));
  t.same(codes(bound.diagnostics), ['info V1ALPHA1_SPLIT TLSRoute default/secure spec.rules[1]']);
  t.equal(bound.resources.tlsRoutes[1]!.spec.rules[0]!.backendRefs[0]!.port, 443, 'the port comes from the one listener the split route binds to');

  const unbound = decodeDocuments(docs(tls('secure', [rule(['a.example.com'], 'a'), rule(['b.example.com'], 'nosvc', null)], {})));
  const e = unbound.diagnostics.find((d) => d.code === 'V1ALPHA1_PORT_REQUIRED')!;
  t.equal(e.object, 'TLSRoute default/secure-rule-1');
  t.equal(e.line, 101, 'rules[1] of the written route');
  t.same(unbound.resources.tlsRoutes.map((r) => r.metadata.name), ['secure'], 'the split route with an error is left out; its source route stays');
});

t.test('convertDocuments prints the split routes after their source, with notes', async (t) => {
  const { conversions } = convertDocuments(docs(gw, tls('secure', [rule(['a.example.com'], 'a'), rule(['b.example.com'], 'b')])));
  t.same(conversions.map((c) => c.object), ['Gateway default/gw', 'TLSRoute default/secure', 'TLSRoute default/secure-rule-1']);
  t.same(conversions[2]!.manifest, {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'TLSRoute',
    metadata: { name: 'secure-rule-1', namespace: 'default', labels: { app: 'tls' } },
    spec: { parentRefs: [{ name: 'gw', sectionName: 'tls-443' }], hostnames: ['b.example.com'], rules: [{ backendRefs: [{ name: 'b', port: 8443 }] }] },
  });
  t.match(conversions[1]!.notes.join('\n'), 'split: rules[1] → TLSRoute default/secure-rule-1');
  t.match(conversions[2]!.notes.join('\n'), 'rules[1] of TLSRoute default/secure, split off');
});

// ---------------------------------------------------------------------------------------------- BackendPolicy

const svc = (name: string, ports: unknown[]) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports } });
const policy = (spec: unknown, protocol: string | undefined = 'kubernetes.io/h2c') => ({
  apiVersion: X,
  kind: 'BackendPolicy',
  metadata: { name: 'p', ...(protocol ? { annotations: { 'networking.x-k8s.io/app-protocol': protocol } } : {}) },
  spec,
});

t.test("BackendPolicy: the app-protocol annotation becomes the Service ports' appProtocol", async (t) => {
  const { resources, diagnostics } = decodeDocuments(
    docs(
      policy({
        backendRefs: [
          { group: 'core', kind: 'Service', name: 'grpc', port: 9000 },
          { group: 'core', kind: 'Service', name: 'all' },
          { group: 'core', kind: 'Service', name: 'own' },
          { group: 'core', kind: 'Service', name: 'missing' },
          { group: 'core', kind: 'Service', name: 'grpc', port: 1 },
          { group: 'example.com', kind: 'Thing', name: 'x' },
        ],
        tls: { certificateAuthorityRef: { group: 'core', kind: 'ConfigMap', name: 'ca' } },
      }),
      svc('grpc', [{ port: 9000 }, { port: 9090 }]),
      svc('all', [{ port: 1 }, { port: 2 }]),
      svc('own', [{ port: 1, appProtocol: 'kubernetes.io/ws' }, { port: 2, appProtocol: 'kubernetes.io/h2c' }]),
    ),
  );
  t.same(codes(diagnostics), [
    'warning V1ALPHA1_DROPPED BackendPolicy default/p spec.tls',
    'warning V1ALPHA1_CONFLICT BackendPolicy default/p spec.backendRefs[2]',
    'warning V1ALPHA1_UNRESOLVED BackendPolicy default/p spec.backendRefs[3]',
    'warning V1ALPHA1_UNRESOLVED BackendPolicy default/p spec.backendRefs[4].port',
    'warning V1ALPHA1_DROPPED BackendPolicy default/p spec.backendRefs[5]',
  ]);
  const ports = (n: string) => resources.services.find((s) => s.metadata.name === n)!.spec.ports.map((p) => [p.port, p.appProtocol]);
  t.same(ports('grpc'), [[9000, 'kubernetes.io/h2c'], [9090, undefined]], 'only the port named');
  t.same(ports('all'), [[1, 'kubernetes.io/h2c'], [2, 'kubernetes.io/h2c']], 'no port: every port');
  t.same(ports('own'), [[1, 'kubernetes.io/ws'], [2, 'kubernetes.io/h2c']], "the Service's own appProtocol wins");
  t.match(diagnostics[1]!.message, 'port 1 sets appProtocol kubernetes.io/ws itself');
});

t.test('BackendPolicy: no annotation changes nothing; schema mistakes are errors; convert notes', async (t) => {
  const none = decodeDocuments(docs(policy({ backendRefs: [{ group: 'core', kind: 'Service', name: 'grpc' }] }, ''), svc('grpc', [{ port: 9000 }])));
  t.same(none.diagnostics, []);
  t.equal(none.resources.services[0]!.spec.ports[0]!.appProtocol, undefined);

  const typo = decodeDocuments(docs(policy({ backendRef: [{ group: 'core', kind: 'Service', name: 'grpc' }] })));
  t.match(codes(typo.diagnostics), ['error UNKNOWN_FIELD BackendPolicy default/p spec.backendRef']);

  const { conversions, diagnostics } = convertDocuments(docs(policy({ backendRefs: [{ group: 'core', kind: 'Service', name: 'grpc', port: 9000 }] }), svc('grpc', [{ port: 9000 }])));
  t.same(diagnostics, []);
  t.same(conversions.map((c) => [c.object, c.manifest]), [['BackendPolicy default/p', null]], 'no v1 object, notes only');
  t.match(conversions[0]!.notes.join('\n'), 'Service default/grpc port 9000: appProtocol kubernetes.io/h2c');
});

t.test('TCPRoute/UDPRoute: extra rules are still dropped with a warning (every rule matches every connection)', async (t) => {
  const tcpGw = { ...gw, spec: { gatewayClassName: 'c', listeners: [{ protocol: 'TCP', port: 5432, routes: { kind: 'TCPRoute' } }] } };
  const { resources, diagnostics } = decodeDocuments(
    docs(tcpGw, { apiVersion: X, kind: 'TCPRoute', metadata: { name: 'db' }, spec: { rules: [{ forwardTo: [{ serviceName: 'a', port: 1 }] }, { forwardTo: [{ serviceName: 'b', port: 1 }] }] } }),
  );
  t.same(codes(diagnostics), ['warning V1ALPHA1_EXTRA_RULES TCPRoute default/db spec.rules[1]']);
  t.same(resources.tcpRoutes.map((r) => r.metadata.name), ['db']);
});
