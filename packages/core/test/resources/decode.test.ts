import t from 'tap';
import { decodeDocuments, formatDiagnostic, type Diagnostic } from '../../src/index.js';
import { docs, gateway, GW, route } from './fixtures/docs.js';

const errs = (ds: Diagnostic[]) => ds.filter((d) => d.severity === 'error');
const codes = (ds: Diagnostic[]) => ds.map((d) => `${d.code} ${d.path ?? ''}`.trim());

t.test('an HTTPRoute gets every CRD default', async (t) => {
  const { resources, diagnostics } = decodeDocuments(docs(route({ parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] })));
  t.same(diagnostics, []);
  const r = resources.httpRoutes[0]!;
  t.same(r.metadata, { name: 'r', namespace: 'default', labels: {}, annotations: {}, generation: 1 });
  t.same(r.spec.parentRefs, [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw' }]);
  t.same(r.spec.hostnames, []);
  t.same(r.spec.rules, [
    {
      matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] }],
      filters: [],
      backendRefs: [{ group: '', kind: 'Service', name: 'web', port: 80, weight: 1, filters: [] }],
    },
  ]);
  t.same(r.source, { file: 'test.yaml', line: 1, col: 1, order: 0 });
});

t.test('a route with no rules gets the default rule', async (t) => {
  const { resources } = decodeDocuments(docs(route({ parentRefs: [{ name: 'gw' }] })));
  t.same(resources.httpRoutes[0]!.spec.rules, [{ matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] }], filters: [], backendRefs: [] }]);
});

t.test('filters, timeouts and redirects are defaulted and converted', async (t) => {
  const { resources, diagnostics } = decodeDocuments(
    docs(
      route({
        rules: [
          { filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https' } }] },
          {
            matches: [{ path: { value: '/api' }, headers: [{ name: 'x-v', value: '2' }] }],
            timeouts: { request: '1m30s', backendRequest: '500ms' },
            filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { remove: ['x-internal'] } }],
            backendRefs: [{ name: 'api', port: 8080, weight: 0 }],
          },
        ],
      }),
    ),
  );
  t.same(diagnostics, []);
  const [a, b] = resources.httpRoutes[0]!.spec.rules;
  t.same(a!.filters, [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 302 } }]);
  t.same(b!.timeouts, { requestMs: 90_000, backendRequestMs: 500 });
  t.same(b!.matches[0]!.headers, [{ type: 'Exact', name: 'x-v', value: '2' }]);
  t.same(b!.filters[0], { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [], add: [], remove: ['x-internal'] } });
  t.equal(b!.backendRefs[0]!.weight, 0);
});

t.test('Gateway defaults: allowedRoutes Same, tls Terminate, address type', async (t) => {
  const { resources, diagnostics } = decodeDocuments(
    docs({
      apiVersion: GW,
      kind: 'Gateway',
      metadata: { name: 'gw', namespace: 'infra' },
      spec: {
        gatewayClassName: 'gatehouse',
        addresses: [{ value: '127.0.0.1' }],
        listeners: [
          { name: 'https', port: 443, protocol: 'HTTPS', hostname: '*.example.com', tls: { certificateRefs: [{ name: 'cert' }] } },
          { name: 'tls', port: 8443, protocol: 'TLS', tls: { mode: 'Passthrough' } },
        ],
      },
    }),
  );
  t.same(diagnostics, []);
  const g = resources.gateways[0]!;
  t.same(g.spec.addresses, [{ type: 'IPAddress', value: '127.0.0.1' }]);
  t.same(g.spec.listeners[0], {
    name: 'https',
    hostname: '*.example.com',
    port: 443,
    protocol: 'HTTPS',
    tls: { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: 'cert' }], options: {} },
    allowedRoutes: { namespaces: { from: 'Same' }, kinds: [] },
  });
  t.equal(g.spec.listeners[1]!.tls!.mode, 'Passthrough');
});

t.test('served versions normalise to the same v1 model', async (t) => {
  const spec = { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] };
  const versions = ['v1', 'v1beta1', 'v1alpha2'].map((v) => ({ apiVersion: `gateway.networking.k8s.io/${v}`, kind: 'HTTPRoute', metadata: { name: v }, spec }));
  const { resources, diagnostics } = decodeDocuments(docs(...versions));
  t.same(diagnostics, []);
  t.equal(resources.httpRoutes.length, 3);
  t.same(resources.httpRoutes[0]!.spec, resources.httpRoutes[2]!.spec);
  t.same(resources.httpRoutes.map((r) => r.apiVersion), versions.map((v) => v.apiVersion));
});

t.test('TCPRoute v1alpha2 with several rules keeps the first and warns; v1 rejects', async (t) => {
  const spec = { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'a', port: 1 }] }, { backendRefs: [{ name: 'b', port: 2 }] }] };
  const { resources, diagnostics } = decodeDocuments(
    docs(
      { apiVersion: 'gateway.networking.k8s.io/v1alpha2', kind: 'TCPRoute', metadata: { name: 'old' }, spec },
      { apiVersion: GW, kind: 'TCPRoute', metadata: { name: 'new' }, spec },
    ),
  );
  t.same(codes(diagnostics), ['EXTRA_RULES spec.rules[1]', 'TOO_MANY_ITEMS spec.rules']);
  t.equal(diagnostics[0]!.severity, 'warning');
  t.same(resources.tcpRoutes.map((r) => [r.metadata.name, r.spec.rules.length]), [['old', 1]]);
});

t.test('core kinds: Secret, EndpointSlice, Service, ConfigMap, Namespace, Backend', async (t) => {
  const { resources, diagnostics } = decodeDocuments(
    docs(
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cert' }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'Y2VydA==' }, stringData: { 'tls.key': 'key' } },
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'web-1', labels: { 'kubernetes.io/service-name': 'web' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.2'], conditions: { ready: false } }],
        ports: [{ name: 'http', port: 8080 }],
      },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 'http', appProtocol: 'kubernetes.io/h2c' }, { port: 81 }] } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ca' }, data: { 'ca.crt': 'pem' } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { team: 'a' } } },
      { apiVersion: 'gateway.envoyproxy.io/v1alpha1', kind: 'Backend', metadata: { name: 'ext' }, spec: { endpoints: [{ fqdn: { hostname: 'example.com', port: 443 } }] } },
    ),
  );
  t.same(diagnostics, []);
  t.same(resources.secrets[0]!.spec, { type: 'kubernetes.io/tls', data: { 'tls.crt': 'cert', 'tls.key': 'key' } });
  t.same(resources.endpointSlices[0]!.spec, {
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.0.0.1'], ready: true }, { addresses: ['10.0.0.2'], ready: false }],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    serviceName: 'web',
  });
  t.same(resources.services[0]!.spec.ports, [
    { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP', appProtocol: 'kubernetes.io/h2c' },
    { port: 81, targetPort: 81, protocol: 'TCP' },
  ]);
  t.equal(resources.services[0]!.spec.type, 'ClusterIP');
  t.same(resources.configMaps[0]!.spec, { data: { 'ca.crt': 'pem' } });
  t.same(resources.namespaces[0]!.metadata, { name: 'shop', namespace: '', labels: { team: 'a' }, annotations: {}, generation: 1 });
  t.same(resources.backends[0]!.spec, { endpoints: [{ fqdn: { hostname: 'example.com', port: 443 } }], appProtocols: [] });
});

t.test('cluster-scoped kinds have namespace ""', async (t) => {
  const { resources } = decodeDocuments(
    docs({ apiVersion: GW, kind: 'GatewayClass', metadata: { name: 'gh', namespace: 'ignored' }, spec: { controllerName: 'gatehouse.dev/gateway-controller' } }),
  );
  t.equal(resources.gatewayClasses[0]!.metadata.namespace, '');
});

t.test('errors name the object, path and a hint; the object is left out', async (t) => {
  const { resources, diagnostics } = decodeDocuments(
    docs(route({ rules: [{ backendRefs: [{ name: 'web', port: 80, wieght: 2 }] }] }, 'typo', { namespace: 'shop' }), route({}, 'fine')),
  );
  t.same(resources.httpRoutes.map((r) => r.metadata.name), ['fine']);
  t.equal(diagnostics.length, 1);
  t.same(diagnostics[0], {
    severity: 'error',
    code: 'UNKNOWN_FIELD',
    message: 'unknown field "wieght"',
    file: 'test.yaml',
    line: 1,
    col: 7,
    object: 'HTTPRoute shop/typo',
    path: 'spec.rules[0].backendRefs[0].wieght',
    hint: 'did you mean "weight"?',
  });
  t.equal(formatDiagnostic(diagnostics[0]!), 'test.yaml:1:7 HTTPRoute shop/typo UNKNOWN_FIELD: unknown field "wieght" (spec.rules[0].backendRefs[0].wieght) (did you mean "weight"?)');
});

t.test('CEL rules', async (t) => {
  const cases: [string, unknown, string[]][] = [
    ['ReplacePrefixMatch needs one PathPrefix match', route({ rules: [{ matches: [{ path: { value: '/a' } }, { path: { value: '/b' } }], filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } }] }] }), ['CEL_RULE spec.rules[0].filters[0]']],
    ['ReplacePrefixMatch with the default match is fine', route({ rules: [{ filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/x' } } }] }] }), []],
    ['path modifier needs its value', route({ rules: [{ filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath' } } }] }] }), ['CEL_RULE spec.rules[0].filters[0].urlRewrite.path']],
    ['mirror percent and fraction', route({ rules: [{ filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'm', port: 1 }, percent: 5, fraction: { numerator: 1 } } }] }] }), ['CEL_RULE spec.rules[0].filters[0].requestMirror']],
    ['fraction numerator > denominator', route({ rules: [{ filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'm', port: 1 }, fraction: { numerator: 3, denominator: 2 } } }] }] }), ['CEL_RULE spec.rules[0].filters[0].requestMirror.fraction']],
    ['two refs to one parent without sectionName', route({ parentRefs: [{ name: 'gw' }, { name: 'gw', sectionName: 'a' }] }), ['CEL_RULE spec.parentRefs[0]']],
    ['two refs to one parent with distinct sectionNames', route({ parentRefs: [{ name: 'gw', sectionName: 'b' }, { name: 'gw', sectionName: 'a' }] }), []],
    ['same refs in different namespaces', route({ parentRefs: [{ name: 'gw' }, { name: 'gw', namespace: 'other' }] }), []],
    ['listener port/protocol/hostname tuple unique', gateway([{ name: 'a', port: 80, protocol: 'HTTP' }, { name: 'b', port: 80, protocol: 'HTTP' }]), ['CEL_RULE spec.listeners[1]']],
    ['HTTPS Passthrough', gateway([{ name: 'a', port: 443, protocol: 'HTTPS', tls: { mode: 'Passthrough', certificateRefs: [{ name: 'c' }] } }]), ['CEL_RULE spec.listeners[0].tls.mode']],
    ['Selector needs a selector', gateway([{ name: 'a', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Selector' } } }]), ['CEL_RULE spec.listeners[0].allowedRoutes.namespaces.from']],
    ['path rules', route({ rules: [{ matches: [{ path: { type: 'Exact', value: '/a//b' } }, { path: { value: '/a/..' } }, { path: { value: '/a%2fb' } }, { path: { type: 'RegularExpression', value: '^/a.*' } }] }] }), ['INVALID_PATH spec.rules[0].matches[0].path.value', 'INVALID_PATH spec.rules[0].matches[1].path.value', 'INVALID_PATH spec.rules[0].matches[2].path.value']],
    ['duration zero request disables the check', route({ rules: [{ timeouts: { request: '0s', backendRequest: '10s' } }] }), []],
    ['headers unique by name', route({ rules: [{ matches: [{ headers: [{ name: 'a', value: '1' }, { name: 'a', value: '2' }] }] }] }), ['DUPLICATE_ENTRY spec.rules[0].matches[0].headers[1].name']],
    ['rule names unique', route({ rules: [{ name: 'x' }, { name: 'x' }] }), ['DUPLICATE_ENTRY spec.rules[1].name']],
    ['too many hostnames', route({ hostnames: Array.from({ length: 17 }, (_, i) => `h${i}.example.com`) }), ['TOO_MANY_ITEMS spec.hostnames']],
    ['non-Service backend needs no port', route({ rules: [{ backendRefs: [{ group: 'gateway.envoyproxy.io', kind: 'Backend', name: 'ext' }] }] }), []],
    ['GRPC Exact method with a slash', { apiVersion: GW, kind: 'GRPCRoute', metadata: { name: 'g' }, spec: { rules: [{ matches: [{ method: { service: 'a.B', method: 'C/D' } }] }] } }, ['INVALID_VALUE spec.rules[0].matches[0].method.method']],
    ['label selector In without values', gateway([{ name: 'a', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Selector', selector: { matchExpressions: [{ key: 'k', operator: 'In' }] } } } }]), ['CEL_RULE spec.listeners[0].allowedRoutes.namespaces.selector.matchExpressions[0].values']],
  ];
  for (const [name, value, want] of cases) {
    const { diagnostics } = decodeDocuments(docs(value));
    t.same(codes(errs(diagnostics)), want, name);
  }
});

t.test('duplicate objects: the first wins, the second is reported with both places', async (t) => {
  const { resources, diagnostics } = decodeDocuments(docs(route({}, 'same'), route({ hostnames: ['b.example.com'] }, 'same')));
  t.equal(resources.httpRoutes.length, 1);
  t.same(resources.httpRoutes[0]!.spec.hostnames, []);
  t.same(codes(diagnostics), ['DUPLICATE_OBJECT metadata.name']);
  t.match(diagnostics[0]!.message, /first at test\.yaml:1/);
  t.equal(diagnostics[0]!.line, 2);
});

t.test('unknown kinds are skipped with a warning; typos in our groups are errors', async (t) => {
  const { diagnostics } = decodeDocuments(
    docs(
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: {} },
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'BackendTLSPolicy', metadata: { name: 'p' }, spec: {} },
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gatway', metadata: { name: 'g' }, spec: {} },
      { apiVersion: 'gateway.networking.k8s.io/v3', kind: 'Gateway', metadata: { name: 'g' }, spec: {} },
      { apiVersion: 'v1', kind: 'List', items: [route({}, 'in-list'), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } }] },
    ),
  );
  t.same(
    diagnostics.map((d) => `${d.severity} ${d.code} ${d.object}`),
    [
      'warning UNSUPPORTED_KIND Deployment default/d',
      'warning UNSUPPORTED_KIND BackendTLSPolicy default/p',
      'error UNKNOWN_KIND Gatway default/g',
      'error UNKNOWN_API_VERSION Gateway default/g',
      'warning UNSUPPORTED_KIND Pod default/p',
    ],
  );
  t.equal(diagnostics[2]!.hint, 'did you mean "Gateway"?');
});

t.test('documents that are not objects', async (t) => {
  const { diagnostics } = decodeDocuments(docs(null, 'text', [1], { kind: 'Gateway' }, { apiVersion: 3, kind: 'X' }));
  t.same(codes(diagnostics), ['INVALID_DOCUMENT', 'INVALID_DOCUMENT', 'MISSING_FIELD', 'INVALID_TYPE apiVersion']);
});

t.test('fuzz: random values never throw', async (t) => {
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const keys = ['apiVersion', 'kind', 'metadata', 'spec', 'name', 'rules', 'matches', 'path', 'value', 'type', 'backendRefs', 'port', 'weight', 'filters', 'listeners', 'protocol', 'tls', 'hostnames', 'parentRefs', 'timeouts', 'request', 'forwardTo', 'routes', 'gateways', 'data', 'endpoints'];
  const kinds = ['HTTPRoute', 'Gateway', 'GRPCRoute', 'TLSRoute', 'TCPRoute', 'UDPRoute', 'GatewayClass', 'ReferenceGrant', 'Service', 'Secret', 'EndpointSlice', 'Backend', 'Namespace', 'ConfigMap'];
  const apis = ['gateway.networking.k8s.io/v1', 'gateway.networking.k8s.io/v1alpha2', 'networking.x-k8s.io/v1alpha1', 'v1', 'discovery.k8s.io/v1', 'gateway.envoyproxy.io/v1alpha1'];
  const value = (depth: number): unknown => {
    const r = rnd();
    if (depth > 5 || r < 0.25) return [null, true, 0, -1, 70000, 1.5, '', 'x', '/a', 'PathPrefix', 'HTTP', '10s', 'yes'][Math.floor(rnd() * 13)];
    if (r < 0.45) return Array.from({ length: Math.floor(rnd() * 4) }, () => value(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = Math.floor(rnd() * 6); i > 0; i--) o[keys[Math.floor(rnd() * keys.length)]!] = value(depth + 1);
    return o;
  };
  let thrown = 0;
  for (let i = 0; i < 3000; i++) {
    const v = value(0) as Record<string, unknown>;
    const doc = rnd() < 0.8 && v && typeof v === 'object' && !Array.isArray(v)
      ? { ...v, apiVersion: apis[Math.floor(rnd() * apis.length)], kind: kinds[Math.floor(rnd() * kinds.length)], metadata: rnd() < 0.8 ? { name: 'n' } : v.metadata }
      : v;
    try {
      const r = decodeDocuments(docs(doc));
      for (const d of r.diagnostics) if (d.code === 'INTERNAL_ERROR') throw new Error(d.message);
    } catch (e) {
      thrown++;
      if (thrown < 3) t.fail(`threw on ${JSON.stringify(doc)}: ${e}`);
    }
  }
  t.equal(thrown, 0, '3000 random documents decoded without exceptions');
});

t.test('more API-server rules: addresses, precise hostnames, unique codes', async (t) => {
  const cases: [string, unknown, string[]][] = [
    ['IPAddress must be an IP', { apiVersion: GW, kind: 'Gateway', metadata: { name: 'g' }, spec: { gatewayClassName: 'c', listeners: [{ name: 'a', port: 80, protocol: 'HTTP' }], addresses: [{ value: 'example.com' }, { value: '::1' }, { value: '10.0.0.1' }, { type: 'Hostname', value: 'lb.example.com' }] } }, ['CEL_RULE spec.addresses[0].value']],
    ['addresses unique', { apiVersion: GW, kind: 'Gateway', metadata: { name: 'g' }, spec: { gatewayClassName: 'c', listeners: [{ name: 'a', port: 80, protocol: 'HTTP' }], addresses: [{ value: '10.0.0.1' }, { value: '10.0.0.1' }] } }, ['DUPLICATE_ENTRY spec.addresses[1].value']],
    ['redirect hostname is precise', route({ rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { hostname: '*.example.com' } }] }] }), ['INVALID_HOSTNAME spec.rules[0].filters[0].requestRedirect.hostname']],
    ['retry codes 4xx/5xx', route({ rules: [{ retry: { codes: [500, 200] } }] }), ['OUT_OF_RANGE spec.rules[0].retry.codes[1]']],
    ['retry codes unique', route({ rules: [{ retry: { codes: [500, 503, 500] } }] }), ['DUPLICATE_ENTRY spec.rules[0].retry.codes[2]']],
  ];
  for (const [name, value, want] of cases) {
    const { diagnostics } = decodeDocuments(docs(value));
    t.same(codes(errs(diagnostics)), want, name);
  }
  const w = decodeDocuments(docs(route({ rules: [{ filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: 'no-slash' } } }] }] }))).diagnostics;
  t.same(w.map((d) => `${d.severity} ${d.code}`), ['warning PATH_WITHOUT_SLASH']);
});

t.test('fuzz: mutated valid documents never throw', async (t) => {
  const X = 'networking.x-k8s.io/v1alpha1';
  const valid: unknown[] = [
    route({
      parentRefs: [{ name: 'gw', sectionName: 'http' }, { name: 'gw', sectionName: 'https' }],
      hostnames: ['a.example.com', '*.example.com'],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/api' }, headers: [{ name: 'x', value: '1' }], queryParams: [{ name: 'q', value: '1' }], method: 'GET' }],
          filters: [
            { type: 'URLRewrite', urlRewrite: { hostname: 'b.example.com', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } } },
            { type: 'RequestMirror', requestMirror: { backendRef: { name: 'm', port: 80 }, fraction: { numerator: 1, denominator: 2 } } },
            { type: 'CORS', cors: { allowOrigins: ['https://a.example.com'], allowMethods: ['GET'] } },
          ],
          backendRefs: [{ name: 'a', port: 80, weight: 1, filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'a', value: 'b' }] } }] }],
          timeouts: { request: '10s', backendRequest: '1s' },
          retry: { codes: [500], attempts: 2, backoff: '100ms' },
        },
        { filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', port: 443, statusCode: 301 } }] },
      ],
    }),
    gateway([
      { name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Selector', selector: { matchLabels: { a: 'b' }, matchExpressions: [{ key: 'k', operator: 'In', values: ['v'] }] } }, kinds: [{ kind: 'HTTPRoute' }] } },
      { name: 'https', port: 443, protocol: 'HTTPS', hostname: 'a.example.com', tls: { certificateRefs: [{ name: 'c' }] } },
      { name: 'tls', port: 8443, protocol: 'TLS', tls: { mode: 'Passthrough' } },
    ]),
    { apiVersion: GW, kind: 'GRPCRoute', metadata: { name: 'g' }, spec: { rules: [{ matches: [{ method: { service: 'a.B', method: 'C' }, headers: [{ name: 'x', value: 'y' }] }], backendRefs: [{ name: 'g', port: 9000 }] }] } },
    { apiVersion: GW, kind: 'TLSRoute', metadata: { name: 't' }, spec: { hostnames: ['a.example.com'], rules: [{ backendRefs: [{ name: 't', port: 443 }] }] } },
    { apiVersion: X, kind: 'Gateway', metadata: { name: 'old' }, spec: { gatewayClassName: 'c', listeners: [{ protocol: 'HTTP', port: 80, hostname: '*.example.com', routes: { kind: 'HTTPRoute', selector: { matchLabels: { app: 'a' } } } }] } },
    { apiVersion: X, kind: 'HTTPRoute', metadata: { name: 'old', labels: { app: 'a' } }, spec: { gateways: { allow: 'All' }, rules: [{ matches: [{ path: { type: 'Prefix', value: '/' }, headers: { values: { a: 'b' } } }], filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: { a: 'b' } } }], forwardTo: [{ serviceName: 's', port: 80 }] }] } },
    { apiVersion: X, kind: 'TCPRoute', metadata: { name: 'old' }, spec: { rules: [{ forwardTo: [{ serviceName: 's', port: 5432 }] }] } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'YQ==', 'tls.key': 'YQ==' } },
    { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'e', labels: { 'kubernetes.io/service-name': 's' } }, addressType: 'IPv4', endpoints: [{ addresses: ['1.2.3.4'], conditions: { ready: true } }], ports: [{ port: 80 }] },
  ];
  t.same(errs(decodeDocuments(docs(...valid)).diagnostics).map((d) => d.code), [], 'the seeds are valid');
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const junk = [null, undefined, 0, -5, 1e9, 1.5, '', 'x', 'Exact', '/a', '*', {}, [], [{}], { name: 1 }, true];
  const mutate = (v: unknown): unknown => {
    if (rnd() < 0.08) return junk[Math.floor(rnd() * junk.length)];
    if (Array.isArray(v)) return rnd() < 0.1 ? [] : v.map(mutate).concat(rnd() < 0.05 ? [mutate(v[0])] : []);
    if (v && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) if (rnd() > 0.05) o[k] = mutate(x);
      return o;
    }
    return v;
  };
  let internal = 0;
  for (let i = 0; i < 3000; i++) {
    const set = valid.map(mutate);
    try {
      const r = decodeDocuments(docs(...set));
      internal += r.diagnostics.filter((d) => d.code === 'INTERNAL_ERROR').length;
      if (internal && i < 3) t.fail(JSON.stringify(r.diagnostics.filter((d) => d.code === 'INTERNAL_ERROR')));
    } catch (e) {
      internal++;
      t.fail(`threw: ${e}`);
      break;
    }
  }
  t.equal(internal, 0, '3000 mutated sets decoded without an internal error');
});
