import t from 'tap';
import { convertDocuments, decodeDocuments, type Diagnostic } from '../../src/index.js';
import { docs, X } from './fixtures/docs.js';

const codes = (ds: Diagnostic[]) => ds.map((d) => `${d.severity} ${d.code} ${d.path ?? ''}`.trim());

const gw = (ns: string, listeners: unknown[], name = 'gw') => ({ apiVersion: X, kind: 'Gateway', metadata: { name, namespace: ns }, spec: { gatewayClassName: 'traefik', listeners } });
const http = (ns: string, name: string, spec: Record<string, unknown>, labels: Record<string, string> = {}) => ({
  apiVersion: X,
  kind: 'HTTPRoute',
  metadata: { name, namespace: ns, labels },
  spec: { rules: [{ forwardTo: [{ serviceName: 'web', port: 80 }] }], ...spec },
});

t.test('the tutorial shape: selector on route labels, SameNamespace by default', async (t) => {
  const { resources, diagnostics } = decodeDocuments(
    docs(
      { apiVersion: X, kind: 'GatewayClass', metadata: { name: 'c' }, spec: { controller: 'traefik.io/gateway-controller' } },
      gw('default', [{ protocol: 'HTTP', port: 80, routes: { kind: 'HTTPRoute', selector: { matchLabels: { app: 'traefik' } } } }]),
      http('default', 'yes', {}, { app: 'traefik' }),
    ),
  );
  t.same(diagnostics, []);
  t.same(resources.gatewayClasses[0]!.spec, { controllerName: 'traefik.io/gateway-controller' });
  t.equal(resources.gatewayClasses[0]!.convertedFrom, 'v1alpha1');
  const l = resources.gateways[0]!.spec.listeners[0]!;
  t.equal(l.name, 'http-80');
  t.same(l.allowedRoutes, {
    namespaces: { from: 'Same' },
    kinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }],
    routeSelector: { matchLabels: { app: 'traefik' }, matchExpressions: [] },
  });
  const r = resources.httpRoutes[0]!;
  t.equal(r.convertedFrom, 'v1alpha1');
  t.equal(r.apiVersion, X);
  t.same(r.spec.parentRefs, [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw', sectionName: 'http-80' }]);
  t.same(r.spec.rules[0]!.backendRefs, [{ group: '', kind: 'Service', name: 'web', port: 80, weight: 1, filters: [] }]);
  t.same(r.spec.rules[0]!.matches, [{ path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] }]);
});

t.test('both sides must agree', async (t) => {
  const { resources, diagnostics } = decodeDocuments(
    docs(
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', labels: { team: 'a' } } },
      gw('infra', [
        { protocol: 'HTTP', port: 80, routes: { kind: 'HTTPRoute', namespaces: { from: 'All' } } },
        { protocol: 'HTTP', port: 8080, routes: { kind: 'HTTPRoute', namespaces: { from: 'Selector', selector: { matchLabels: { team: 'a' } } } } },
        { protocol: 'HTTP', port: 8081, routes: { kind: 'HTTPRoute', namespaces: { from: 'Selector', selector: { matchLabels: { 'kubernetes.io/metadata.name': 'team-b' } } } } },
        { protocol: 'TCP', port: 9000, routes: { kind: 'TCPRoute', namespaces: { from: 'All' } } },
      ]),
      http('team-a', 'from-list', { gateways: { allow: 'FromList', gatewayRefs: [{ name: 'gw', namespace: 'infra' }] } }),
      http('team-b', 'all', { gateways: { allow: 'All' } }),
      http('team-a', 'same-ns-only', {}),
      http('team-a', 'wrong-list', { gateways: { allow: 'FromList', gatewayRefs: [{ name: 'other', namespace: 'infra' }] } }),
    ),
  );
  const refs = Object.fromEntries(resources.httpRoutes.map((r) => [r.metadata.name, r.spec.parentRefs.map((p) => `${p.namespace}/${p.name}/${p.sectionName}`)]));
  t.same(refs, {
    'from-list': ['infra/gw/http-80', 'infra/gw/http-8080'],
    all: ['infra/gw/http-80', 'infra/gw/http-8081'],
    'same-ns-only': [],
    'wrong-list': [],
  });
  t.same(codes(diagnostics), ['warning V1ALPHA1_UNBOUND spec.gateways', 'warning V1ALPHA1_UNBOUND spec.gateways']);
});

t.test('maps become lists, Prefix becomes PathPrefix, filters convert', async (t) => {
  const { resources, diagnostics } = decodeDocuments(
    docs(
      gw('default', [{ protocol: 'HTTP', port: 80, routes: { kind: 'HTTPRoute' } }]),
      http('default', 'r', {
        hostnames: ['app.example.com'],
        rules: [
          {
            matches: [
              { path: { type: 'Exact', value: '/a' }, headers: { values: { 'x-env': 'prod', 'x-team': 'web' } }, queryParams: { type: 'RegularExpression', values: { q: '^a' } } },
              { path: { type: 'ImplementationSpecific', value: '^/b' } },
            ],
            filters: [
              { type: 'RequestHeaderModifier', requestHeaderModifier: { set: { 'x-a': '1' }, add: { 'x-b': '2' }, remove: ['x-c'] } },
              { type: 'RequestMirror', requestMirror: { serviceName: 'mirror', port: 9000 } },
            ],
            forwardTo: [{ serviceName: 'web', port: 80, weight: 3 }, { backendRef: { group: 'gateway.envoyproxy.io', kind: 'Backend', name: 'ext' } }],
          },
        ],
      }),
    ),
  );
  t.same(diagnostics, []);
  const rule = resources.httpRoutes[0]!.spec.rules[0]!;
  t.same(rule.matches, [
    { path: { type: 'Exact', value: '/a' }, headers: [{ type: 'Exact', name: 'x-env', value: 'prod' }, { type: 'Exact', name: 'x-team', value: 'web' }], queryParams: [{ type: 'RegularExpression', name: 'q', value: '^a' }] },
    { path: { type: 'RegularExpression', value: '^/b' }, headers: [], queryParams: [] },
  ]);
  t.same(rule.filters, [
    { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-a', value: '1' }], add: [{ name: 'x-b', value: '2' }], remove: ['x-c'] } },
    { type: 'RequestMirror', requestMirror: { backendRef: { group: '', kind: 'Service', name: 'mirror', port: 9000 } } },
  ]);
  t.same(rule.backendRefs.map((b) => [b.group, b.kind, b.name, b.port, b.weight]), [
    ['', 'Service', 'web', 80, 3],
    ['gateway.envoyproxy.io', 'Backend', 'ext', undefined, 1],
  ]);
});

t.test('listeners: names, hostnames, TLS', async (t) => {
  const { resources, diagnostics } = decodeDocuments(
    docs(
      gw('default', [
        { protocol: 'HTTP', port: 80, hostname: 'a.example.com', routes: { kind: 'HTTPRoute' } },
        { protocol: 'HTTP', port: 80, hostname: '*.example.com', routes: { kind: 'HTTPRoute' } },
        { protocol: 'HTTPS', port: 443, hostname: '*', tls: { certificateRef: { group: 'core', kind: 'Secret', name: 'cert' } }, routes: { kind: 'HTTPRoute' } },
        { protocol: 'TLS', port: 8443, tls: { mode: 'Passthrough' }, routes: { kind: 'TLSRoute' } },
      ]),
    ),
  );
  t.same(codes(diagnostics), ['warning V1ALPHA1_WILDCARD spec.listeners[1].hostname']);
  const ls = resources.gateways[0]!.spec.listeners;
  t.same(ls.map((l) => [l.name, l.hostname]), [
    ['http-80-a.example.com', 'a.example.com'],
    ['http-80-wildcard.example.com', '*.example.com'],
    ['https-443', undefined],
    ['tls-8443', undefined],
  ]);
  t.same(ls[2]!.tls, { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: 'cert' }], options: {} });
  t.equal(ls[3]!.tls!.mode, 'Passthrough');
});

t.test('TCP/TLS routes: one rule, snis become hostnames, ports filled in', async (t) => {
  const { resources, diagnostics } = decodeDocuments(
    docs(
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db' }, spec: { ports: [{ port: 5432 }] } },
      gw('default', [
        { protocol: 'TCP', port: 5432, routes: { kind: 'TCPRoute' } },
        { protocol: 'TLS', port: 443, tls: { mode: 'Passthrough' }, routes: { kind: 'TLSRoute' } },
      ]),
      { apiVersion: X, kind: 'TCPRoute', metadata: { name: 'db' }, spec: { rules: [{ forwardTo: [{ serviceName: 'db' }] }, { forwardTo: [{ serviceName: 'db2', port: 1 }] }] } },
      { apiVersion: X, kind: 'TLSRoute', metadata: { name: 'tls' }, spec: { rules: [{ matches: [{ snis: ['a.example.com', 'b.example.com'] }], forwardTo: [{ serviceName: 'secure' }] }] } },
      { apiVersion: X, kind: 'UDPRoute', metadata: { name: 'dns' }, spec: { gateways: { allow: 'All' }, rules: [{ forwardTo: [{ serviceName: 'dns' }] }] } },
    ),
  );
  t.same(codes(diagnostics), ['warning V1ALPHA1_EXTRA_RULES spec.rules[1]', 'warning V1ALPHA1_UNBOUND spec.gateways', 'error V1ALPHA1_PORT_REQUIRED spec.rules[0].forwardTo[0]']);
  t.same(resources.tcpRoutes[0]!.spec, {
    parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw', sectionName: 'tcp-5432' }],
    rules: [{ backendRefs: [{ group: '', kind: 'Service', name: 'db', port: 5432, weight: 1 }] }],
  });
  t.same(resources.tlsRoutes[0]!.spec.hostnames, ['a.example.com', 'b.example.com']);
  t.same(resources.tlsRoutes[0]!.spec.rules[0]!.backendRefs[0]!.port, 443, 'from the listener port');
  t.equal(resources.udpRoutes.length, 0, 'the route whose port cannot be inferred is left out');
});

t.test('convertDocuments: v1 manifests and notes', async (t) => {
  const { conversions } = convertDocuments(
    docs(
      gw('default', [{ protocol: 'HTTP', port: 80, routes: { kind: 'HTTPRoute', selector: { matchLabels: { app: 'web' } } } }]),
      http('default', 'r', { rules: [{ forwardTo: [{ serviceName: 'web', port: 80, weight: 3 }, { serviceName: 'b', port: 80 }] }] }, { app: 'web' }),
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'already-v1' }, spec: {} },
    ),
  );
  t.equal(conversions.length, 2);
  t.same(conversions[1]!.manifest, {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'r', namespace: 'default', labels: { app: 'web' } },
    spec: { parentRefs: [{ name: 'gw', sectionName: 'http-80' }], rules: [{ backendRefs: [{ name: 'web', port: 80, weight: 3 }, { name: 'b', port: 80 }] }] },
  });
  t.match(conversions[0]!.notes.join('\n'), /listener names synthesized: http-80/);
  t.match(conversions[0]!.notes.join('\n'), /routes\.selector \(app=web\)/);
  t.match(conversions[1]!.notes.join('\n'), /parentRef default\/gw listener http-80/);
  t.equal(conversions[1]!.object, 'HTTPRoute default/r');
});

t.test('v1alpha1 errors point at v1alpha1 fields', async (t) => {
  const { diagnostics } = decodeDocuments(
    docs(http('default', 'r', { rules: [{ matches: [{ path: { type: 'Prefix', value: 'no-slash' } }], forwardTo: [{ port: 80 }] }] })),
  );
  t.same(codes(diagnostics), ['error MISSING_FIELD spec.rules[0].forwardTo[0]']);
  const d2 = decodeDocuments(docs(http('default', 'r', { rules: [{ matches: [{ path: { value: 'no-slash' } }] }] }))).diagnostics;
  t.same(codes(d2), ['error INVALID_PATH spec.rules[0].matches[0].path.value']);
});
