import t from 'tap';
import { compile, serializeTable } from '../../src/index.js';
import { backendRef, cond, endpointSlice, gateway, gatewayClass, httpRoute, listener, parentRef, resourceSet, rule, service } from './fixtures/builders.js';

t.test('a Gateway, an HTTPRoute and a Service with an EndpointSlice', async (t) => {
  const set = resourceSet(
    gatewayClass(),
    gateway('gw', [listener('http', 80, 'HTTP')]),
    httpRoute('web', [parentRef('gw')], [rule({ backendRefs: [backendRef('web', 80)] })]),
    service('web', [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }]),
    endpointSlice('web-abc', 'web', [{ address: '10.0.0.1' }, { address: '10.0.0.2', ready: false }], [{ name: 'http', port: 8080, protocol: 'TCP' }]),
  );
  const { table, status, diagnostics } = compile(set);
  t.same(diagnostics, []);
  t.equal(table.ports.length, 1);
  const port = table.ports[0];
  t.equal(port.key, '*:80/tcp');
  t.equal(port.httpGroups.length, 1);
  t.equal(port.httpGroups[0].entries.length, 1);
  t.same(table.backends, [{ id: 'Service default/web:80', resolution: 'EndpointSlice', protocol: 'http1', endpoints: [{ address: '10.0.0.1', port: 8080, dns: false, unix: false }] }]);
  t.equal(cond(status.routes[0].parents[0].conditions, 'Accepted').status, 'True');
  t.equal(status.gateways[0].listeners[0].attachedRoutes, 1);
  t.match(table.hash, /^[0-9a-f]{16}$/);
  t.ok(serializeTable(table).length > 0);
});
