// withBindFailures: what /status says about sockets the runtime could not bind (the runtime side is
// tested end to end in packages/cli/test/ops/bind-status.e2e.test.ts).
import t from 'tap';
import { compile, withBindFailures } from '../../src/index.js';
import { cond, gateway, gatewayClass, listener, resourceSet } from '../compile/fixtures/builders.js';

function compiled() {
  const gw = gateway('gw', [listener('web', 80, 'HTTP'), listener('alt', 8080, 'HTTP')]);
  const pinned = gateway('pinned', [listener('web', 9000, 'HTTP')]);
  pinned.spec.addresses = [{ type: 'IPAddress', value: '192.0.2.10' }];
  return compile(resourceSet(gatewayClass(), gw, pinned));
}

t.test('no failure: the same report', async (t) => {
  const { table, status } = compiled();
  t.equal(withBindFailures(status, table, []), status);
});

t.test('EADDRINUSE: the listener is Accepted=False PortUnavailable; the others are untouched', async (t) => {
  const { table, status } = compiled();
  const before = JSON.stringify(status);
  const out = withBindFailures(status, table, [{ key: '*:80/tcp', error: 'cannot listen on *:80/tcp: EADDRINUSE' }]);
  t.equal(JSON.stringify(status), before, 'the compiled report is not modified');
  const gw = out.gateways.find((g) => g.name === 'default/gw')!;
  const web = gw.listeners.find((l) => l.name === 'web')!;
  t.match(cond(web.conditions, 'Accepted'), { status: 'False', reason: 'PortUnavailable', message: /already in use/ });
  t.match(cond(web.conditions, 'Programmed'), { status: 'False', reason: 'Invalid' });
  const alt = gw.listeners.find((l) => l.name === 'alt')!;
  t.match(cond(alt.conditions, 'Accepted'), { status: 'True', reason: 'Accepted' });
  t.match(cond(gw.conditions, 'Accepted'), { status: 'True', reason: 'ListenersNotValid', message: /web/ });
  t.match(cond(gw.conditions, 'Programmed'), { status: 'True', message: /1 of 2/ });
});

t.test('EACCES on every listener: the Gateway is not accepted and not programmed', async (t) => {
  const { table, status } = compiled();
  const out = withBindFailures(status, table, [
    { key: '*:80/tcp', error: 'listen EACCES: permission denied', code: 'EACCES' },
    { key: '*:8080/tcp', error: 'listen EACCES: permission denied', code: 'EACCES' },
  ]);
  const gw = out.gateways.find((g) => g.name === 'default/gw')!;
  t.match(cond(gw.listeners[0].conditions, 'Accepted'), { reason: 'PortUnavailable', message: /permission denied/ });
  t.match(cond(gw.conditions, 'Accepted'), { status: 'False', reason: 'ListenersNotValid' });
  t.match(cond(gw.conditions, 'Programmed'), { status: 'False', reason: 'Invalid' });
});

t.test('EADDRNOTAVAIL on a spec.addresses IP: Gateway Programmed=False AddressNotUsable, listener stays Accepted', async (t) => {
  const { table, status } = compiled();
  const key = table.ports.find((p) => p.address === '192.0.2.10')!.key;
  const out = withBindFailures(status, table, [{ key, error: 'cannot listen', code: 'EADDRNOTAVAIL' }]);
  const pinned = out.gateways.find((g) => g.name === 'default/pinned')!;
  t.match(cond(pinned.conditions, 'Programmed'), { status: 'False', reason: 'AddressNotUsable', message: /192\.0\.2\.10/ });
  t.match(cond(pinned.conditions, 'Accepted'), { status: 'True', reason: 'Accepted' });
  t.match(cond(pinned.listeners[0].conditions, 'Accepted'), { status: 'True' });
  t.match(cond(pinned.listeners[0].conditions, 'Programmed'), { status: 'False' });
  t.match(cond(out.gateways.find((g) => g.name === 'default/gw')!.conditions, 'Programmed'), { status: 'True' }, 'other Gateways untouched');
});

t.test('an unknown port key changes nothing', async (t) => {
  const { table, status } = compiled();
  t.same(withBindFailures(status, table, [{ key: '*:1/tcp', error: 'EADDRINUSE' }]), status);
});
