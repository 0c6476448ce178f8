// DocumentDecoder (one document at a time, value dropped after add, as cli/load does) gives exactly what
// decodeDocuments gives over the same documents: resources, diagnostics and their order, including the
// steps that run after every document was added (duplicates, v1alpha1 route binding).
import t from 'tap';
import { decodeDocuments, DocumentDecoder } from '../../src/index.js';
import { docs, gateway, route, X } from './fixtures/docs.js';

const inputs = () =>
  docs(
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'gatehouse' }, spec: { controllerName: 'x.io/c' } },
    gateway([{ name: 'http', port: 80, protocol: 'HTTP' }]),
    route({ parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'web', port: 80, wieght: 2 }] }] }, 'typo'),
    route({ parentRefs: [{ name: 'gw' }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/a' } }], backendRefs: [{ name: 'web', port: 80 }] }] }, 'dup'),
    route({ parentRefs: [{ name: 'gw' }] }, 'dup'),
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' } },
    { apiVersion: X, kind: 'Gateway', metadata: { name: 'old', namespace: 'default' }, spec: { gatewayClassName: 'traefik', listeners: [{ protocol: 'HTTP', port: 8080, routes: { kind: 'HTTPRoute', selector: { matchLabels: { app: 'a' } } } }] } },
    { apiVersion: X, kind: 'HTTPRoute', metadata: { name: 'bound', namespace: 'default', labels: { app: 'a' } }, spec: { rules: [{ forwardTo: [{ serviceName: 'web', port: 80 }] }] } },
    null,
    'not an object',
  );

t.test('equals decodeDocuments, with every value dropped right after add', async (t) => {
  const batch = decodeDocuments(inputs());
  const decoder = new DocumentDecoder();
  for (const d of inputs()) {
    decoder.add(d);
    d.value = undefined;
  }
  const one = decoder.finish();
  t.same(one.diagnostics, batch.diagnostics, 'the same diagnostics in the same order');
  t.same(JSON.parse(JSON.stringify(one.resources)), JSON.parse(JSON.stringify(batch.resources)), 'the same resources');
  // The inputs exercise what runs after the last add: a duplicate, a v1alpha1 route bound to its Gateway.
  t.ok(batch.diagnostics.some((d) => d.code === 'DUPLICATE_OBJECT'), 'a duplicate is reported');
  t.ok(batch.diagnostics.some((d) => d.code === 'UNKNOWN_FIELD'), 'a typo is reported');
  const bound = one.resources.httpRoutes.find((r) => r.metadata.name === 'bound');
  t.same(bound?.spec.parentRefs.map((p) => p.name), ['gw', 'old'], 'the v1alpha1 route is bound (to both Gateways) after every document was added');
  t.throws(() => decoder.add(inputs()[0]!), /add after finish/);
});
