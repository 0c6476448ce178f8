// Same input → byte-identical serialisation; shuffling the load order of objects whose order carries
// no meaning (Services, EndpointSlices, Secrets, timestamped Gateways and Routes) changes nothing.
import t from 'tap';
import { compile, serializeTable, stableStringify, type ResourceSet } from '../../src/index.js';
import {
  backendRef,
  endpointSlice,
  gateway,
  gatewayClass,
  httpRoute,
  listener,
  parentRef,
  resourceSet,
  rule,
  secret,
  service,
} from './fixtures/builders.js';

function build(): ResourceSet {
  return resourceSet(
    gatewayClass(),
    gateway('a', [listener('http', 80, 'HTTP'), listener('https', 443, 'HTTPS', { hostname: 'a.example.com', tls: { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: 'cert-a' }], options: {} } })], { creationTimestamp: '2024-01-01T00:00:00Z' }),
    gateway('b', [listener('http', 80, 'HTTP', { hostname: 'b.example.com' }), listener('tls', 80, 'TLS', { hostname: 'x.example.com', tls: { mode: 'Passthrough', certificateRefs: [], options: {} } })], { creationTimestamp: '2024-02-01T00:00:00Z' }),
    httpRoute('r1', [parentRef('a'), parentRef('b')], [rule({ backendRefs: [backendRef('svc1', 80), backendRef('svc2', 80)] })], { creationTimestamp: '2024-03-01T00:00:00Z' }),
    httpRoute('r2', [parentRef('a')], [rule({ backendRefs: [backendRef('svc2', 80)] })], { creationTimestamp: '2024-03-01T00:00:00Z', hostnames: ['a.example.com'] }),
    httpRoute('r3', [parentRef('b')], [rule({ backendRefs: [backendRef('svc3', 80)] })], { creationTimestamp: '2023-03-01T00:00:00Z' }),
    service('svc1', [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }]),
    service('svc2', [{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' }]),
    endpointSlice('svc1-a', 'svc1', [{ address: '10.0.0.1' }], [{ name: 'http', port: 8080, protocol: 'TCP' }]),
    endpointSlice('svc2-a', 'svc2', [{ address: '10.0.0.2' }], [{ name: 'web', port: 3000, protocol: 'TCP' }]),
    secret('cert-a'),
  );
}

function shuffled<T>(list: T[], seed: number): T[] {
  const out = [...list];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

t.test('compiling twice gives the same bytes', async (t) => {
  const a = compile(build());
  const b = compile(build());
  t.equal(serializeTable(a.table), serializeTable(b.table));
  t.equal(stableStringify(a.status), stableStringify(b.status));
  t.equal(a.table.hash, b.table.hash);
});

t.test('shuffling the load order of unrelated objects changes nothing', async (t) => {
  const reference = compile(build());
  for (let seed = 1; seed <= 20; seed++) {
    const set = build();
    // New load order: reverse-ish permutations of every list, with `source.order` renumbered.
    const lists = Object.values(set) as { source: { order: number } }[][];
    let order = 0;
    for (const list of lists) {
      const mixed = shuffled(list, seed);
      list.splice(0, list.length, ...mixed);
    }
    for (const list of shuffled(lists, seed + 100)) for (const o of list) o.source.order = order++;
    const result = compile(set);
    t.equal(serializeTable(result.table), serializeTable(reference.table), `seed ${seed}: table`);
    t.equal(stableStringify(result.status), stableStringify(reference.status), `seed ${seed}: status`);
  }
});

t.test('load order decides between routes without creationTimestamp (documented fallback)', async (t) => {
  const make = (firstLoaded: string) => {
    const [x, y] = firstLoaded === 'x' ? ['x', 'y'] : ['y', 'x'];
    return resourceSet(
      gatewayClass(),
      gateway('gw', [listener('http', 80, 'HTTP')]),
      httpRoute(x, [parentRef('gw')], [rule({ backendRefs: [backendRef(x, 80)] })]),
      httpRoute(y, [parentRef('gw')], [rule({ backendRefs: [backendRef(y, 80)] })]),
    );
  };
  const first = (set: ResourceSet) => compile(set).table.ports[0].httpGroups[0].rules[0].route;
  t.equal(first(make('x')), 'default/x');
  t.equal(first(make('y')), 'default/y');
});

t.test('the hash changes with the content, including a certificate key', async (t) => {
  const a = compile(build());
  const set = build();
  set.secrets[0].spec.data['tls.key'] = '-----BEGIN PRIVATE KEY-----\nOTHER\n-----END PRIVATE KEY-----\n';
  const b = compile(set);
  t.not(a.table.hash, b.table.hash);
  t.equal(serializeTable(a.table).replace(a.table.hash, ''), serializeTable(b.table).replace(b.table.hash, ''), 'redacted output is identical');
  t.match(serializeTable(a.table), /"key": "<redacted>"/);
});
