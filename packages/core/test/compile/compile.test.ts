import t from 'tap';
import { compile, type HTTPRouteFilter } from '../../src/index.js';
import {
  backendRef,
  cond,
  gateway,
  gatewayClass,
  grpcRoute,
  httpRoute,
  listener,
  parentRef,
  resourceSet,
  rule,
  secret,
  service,
} from './fixtures/builders.js';

const tls = (name: string) => ({ mode: 'Terminate' as const, certificateRefs: [{ group: '', kind: 'Secret', name }], options: {} });

t.test('HTTPS listeners with one hostname in two Gateways merge: the older comes first (its certificate wins)', async (t) => {
  const { table, status } = compile(
    resourceSet(
      gatewayClass(),
      secret('c1'),
      secret('c2'),
      gateway('young', [listener('https', 443, 'HTTPS', { hostname: 'a.example.com', tls: tls('c2') })], { creationTimestamp: '2024-05-01T00:00:00Z' }),
      gateway('old', [listener('https', 443, 'HTTPS', { hostname: 'a.example.com', tls: tls('c1') })], { creationTimestamp: '2024-01-01T00:00:00Z' }),
    ),
  );
  const port = table.ports[0];
  t.same(port.listeners.map((l) => l.id), ['default/old/https', 'default/young/https']);
  t.equal(port.httpGroups.length, 1);
  t.same(port.httpGroups[0].listeners, [0, 1]);
  t.same(port.listeners.map((l) => table.certificates[l.tls!.certificates[0]].secret), ['default/c1', 'default/c2']);
  for (const gw of status.gateways) {
    t.equal(cond(gw.listeners[0].conditions, 'Programmed').status, 'True');
    t.match(cond(gw.listeners[0].conditions, 'OverlappingTLSConfig'), { status: 'True', reason: 'OverlappingHostnames' });
  }
});

t.test('an HTTPS and a TLS listener with one hostname in two Gateways: the younger is HostnameConflict', async (t) => {
  const { table, status } = compile(
    resourceSet(
      gatewayClass(),
      secret('c1'),
      gateway('young', [listener('tls', 443, 'TLS', { hostname: 'a.example.com', tls: { mode: 'Passthrough', certificateRefs: [], options: {} } })], { creationTimestamp: '2024-05-01T00:00:00Z' }),
      gateway('old', [listener('https', 443, 'HTTPS', { hostname: 'a.example.com', tls: tls('c1') })], { creationTimestamp: '2024-01-01T00:00:00Z' }),
    ),
  );
  t.same(table.ports[0].listeners.map((l) => l.id), ['default/old/https']);
  const young = status.gateways.find((g) => g.name === 'default/young')!;
  t.match(cond(young.listeners[0].conditions, 'Conflicted'), { status: 'True', reason: 'HostnameConflict' });
  t.equal(cond(young.listeners[0].conditions, 'Accepted').status, 'True', 'a conflicted listener stays Accepted');
  t.equal(cond(young.listeners[0].conditions, 'Programmed').status, 'False');
  t.match(cond(young.conditions, 'Accepted'), { status: 'False', reason: 'ListenersNotValid' });
});

t.test('a filter type the compiler does not know drops the rule, never throws', async (t) => {
  const bogus = { type: 'Teleport' } as unknown as HTTPRouteFilter;
  const { table, status } = compile(
    resourceSet(
      gatewayClass(),
      gateway('gw', [listener('http', 80, 'HTTP')]),
      httpRoute('r', [parentRef('gw')], [rule({ filters: [bogus] }), rule({ backendRefs: [backendRef('ok', 80)] })]),
    ),
  );
  t.equal(table.ports[0].httpGroups[0].rules.length, 1);
  const parent = status.routes[0].parents[0];
  t.equal(cond(parent.conditions, 'Accepted').status, 'True');
  t.match(cond(parent.conditions, 'PartiallyInvalid'), { status: 'True', reason: 'UnsupportedValue' });
});

t.test('ReplacePrefixMatch needs exactly one PathPrefix match', async (t) => {
  const rewrite: HTTPRouteFilter = { type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/x' } } };
  const { status } = compile(
    resourceSet(
      gatewayClass(),
      gateway('gw', [listener('http', 80, 'HTTP')]),
      httpRoute('r', [parentRef('gw')], [
        rule({
          matches: [
            { path: { type: 'PathPrefix', value: '/a' }, headers: [], queryParams: [] },
            { path: { type: 'PathPrefix', value: '/b' }, headers: [], queryParams: [] },
          ],
          filters: [rewrite],
        }),
      ]),
    ),
  );
  t.match(cond(status.routes[0].parents[0].conditions, 'Accepted'), { status: 'False', reason: 'UnsupportedValue' });
});

t.test('header names are lowercased, the first of a repeated name wins', async (t) => {
  const { table } = compile(
    resourceSet(
      gatewayClass(),
      gateway('gw', [listener('http', 80, 'HTTP')]),
      httpRoute('r', [parentRef('gw')], [
        rule({
          matches: [
            {
              path: { type: 'PathPrefix', value: '/' },
              headers: [
                { type: 'Exact', name: 'X-One', value: 'a' },
                { type: 'Exact', name: 'x-one', value: 'b' },
              ],
              queryParams: [{ type: 'Exact', name: 'Q', value: '1' }],
            },
          ],
        }),
      ]),
    ),
  );
  const entry = table.ports[0].httpGroups[0].entries[0];
  t.same(entry.headers, [{ type: 'Exact', name: 'x-one', value: 'a' }]);
  t.same(entry.queryParams, [{ type: 'Exact', name: 'Q', value: '1' }], 'query names keep their case');
});

t.test('gRPC method matches become paths; backends speak h2c', async (t) => {
  const { table } = compile(
    resourceSet(
      gatewayClass(),
      gateway('gw', [listener('http', 80, 'HTTP')]),
      grpcRoute('g', [parentRef('gw')], [
        { matches: [{ method: { type: 'Exact', service: 'pkg.Svc', method: 'Get' }, headers: [] }], filters: [], backendRefs: [{ ...backendRef('grpc', 9000), filters: [] }] },
        { matches: [{ method: { type: 'Exact', method: 'List.All' }, headers: [] }], filters: [], backendRefs: [] },
      ]),
    ),
  );
  const entries = table.ports[0].httpGroups[0].entries;
  t.same(entries.map((e) => [e.path.type, e.path.value, e.grpc]), [
    ['Exact', '/pkg.Svc/Get', true],
    ['RegularExpression', '/[^/]+/List\\.All', true],
  ]);
  t.equal(table.backends[0].protocol, 'h2c');
  t.equal(table.backends[0].id, 'Service default/grpc:9000');
});

t.test('one Service used by an HTTPRoute (http1) and a GRPCRoute (h2c) gives two backends with distinct ids', async (t) => {
  const { table } = compile(
    resourceSet(
      gatewayClass(),
      gateway('gw', [listener('http', 80, 'HTTP')]),
      service('both', [{ port: 80, targetPort: 80, protocol: 'TCP' }]),
      httpRoute('h', [parentRef('gw')], [rule({ backendRefs: [backendRef('both', 80)] })]),
      grpcRoute('g', [parentRef('gw')], [{ matches: [], filters: [], backendRefs: [{ ...backendRef('both', 80), filters: [] }] }]),
    ),
  );
  t.same(table.backends.map((b) => [b.id, b.protocol]), [
    ['Service default/both:80', 'http1'],
    ['Service default/both:80 (h2c)', 'h2c'],
  ]);
});

t.test('mirror fractions and timeouts', async (t) => {
  const { table } = compile(
    resourceSet(
      gatewayClass(),
      gateway('gw', [listener('http', 80, 'HTTP')]),
      httpRoute('r', [parentRef('gw')], [
        rule({
          filters: [
            { type: 'RequestMirror', requestMirror: { backendRef: { group: '', kind: 'Service', name: 'm', port: 80 }, fraction: { numerator: 1, denominator: 4 } } },
          ],
          timeouts: { requestMs: 0, backendRequestMs: 250 },
          backendRefs: [backendRef('main', 80)],
        }),
      ]),
    ),
  );
  const r = table.ports[0].httpGroups[0].rules[0];
  t.match(r.filters[0], { type: 'RequestMirror', fraction: 0.25 });
  t.equal(table.backends[(r.filters[0] as { backend: number }).backend].id, 'Service default/m:80');
  t.same(r.timeouts, { requestMs: null, backendRequestMs: 250 });
});

t.test('observedGeneration follows metadata.generation', async (t) => {
  const gw = gateway('gw', [listener('http', 80, 'HTTP')]);
  gw.metadata.generation = 7;
  const { status } = compile(resourceSet(gatewayClass(), gw));
  t.equal(cond(status.gateways[0].conditions, 'Accepted').observedGeneration, 7);
  t.equal(cond(status.gateways[0].listeners[0].conditions, 'Programmed').observedGeneration, 7);
});

t.test('an empty ResourceSet compiles to an empty table', async (t) => {
  const { table, status, diagnostics } = compile(resourceSet());
  t.same(table.ports, []);
  t.same(status, { gatewayClasses: [], gateways: [], routes: [] });
  t.same(diagnostics, []);
});

t.test('isolateGateways: each Gateway keeps its own sockets (as with its own address on a cluster)', async (t) => {
  const input = resourceSet(
    gatewayClass(),
    gateway('one', [listener('http', 80, 'HTTP')], { creationTimestamp: '2024-01-01T00:00:00Z' }),
    gateway('two', [listener('http', 80, 'HTTP')], { creationTimestamp: '2024-02-01T00:00:00Z' }),
  );
  const merged = compile(input).table;
  t.same(merged.ports.map((p) => p.key), ['*:80/tcp'], 'default: Gateways on one port share one socket');
  const isolated = compile(input, { isolateGateways: true }).table;
  t.same(isolated.ports.map((p) => p.key), ['*:80/tcp#default/one', '*:80/tcp#default/two']);
  t.same(isolated.ports.map((p) => p.listeners.map((l) => l.id)), [['default/one/http'], ['default/two/http']]);
});
