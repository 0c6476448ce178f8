// compile never throws on user input: random (but decode-shaped) resource sets, bounded in count.
import t from 'tap';
import { compile, serializeTable, type HTTPRouteMatch, type Listener, type ParentReference } from '../../src/index.js';
import {
  backendRef,
  endpointSlice,
  gateway,
  gatewayClass,
  grpcRoute,
  httpRoute,
  l4Route,
  listener,
  namespace,
  parentRef,
  referenceGrant,
  resourceSet,
  rule,
  secret,
  service,
  tlsRoute,
} from './fixtures/builders.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

t.test('random resource sets compile without throwing, deterministically', async (t) => {
  for (let seed = 1; seed <= 150; seed++) {
    const r = rng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
    const hosts = [undefined, 'a.example.com', '*.example.com', '*.com', 'b.example.org', '*.b.example.org'];
    const namespaces = ['default', 'team', 'other'];
    const ports = [80, 443, 8080, 5000];
    const protocols = ['HTTP', 'HTTPS', 'TLS', 'TCP', 'UDP', 'example.com/weird'];
    const objects: { kind: string }[] = [gatewayClass(), namespace('team', { env: 'prod' }), secret('cert'), secret('bad', { type: 'Opaque' })];
    const gatewayNames: string[] = [];
    for (let g = 0; g < 1 + Math.floor(r() * 3); g++) {
      const listeners: Listener[] = [];
      for (let i = 0; i < 1 + Math.floor(r() * 4); i++) {
        const protocol = pick(protocols);
        const hostname = protocol === 'TCP' || protocol === 'UDP' ? undefined : pick(hosts);
        const tls =
          protocol === 'HTTPS' || protocol === 'TLS'
            ? { mode: protocol === 'TLS' && r() < 0.5 ? ('Passthrough' as const) : ('Terminate' as const), certificateRefs: [{ group: '', kind: 'Secret', name: pick(['cert', 'bad', 'missing']) }], options: {} }
            : undefined;
        listeners.push(
          listener(`l${i}`, pick(ports), protocol, {
            ...(hostname ? { hostname } : {}),
            ...(tls ? { tls } : {}),
            allowedRoutes: { namespaces: { from: pick(['Same', 'All', 'Selector'] as const), selector: { matchLabels: { env: 'prod' }, matchExpressions: [] } }, kinds: [] },
          }),
        );
      }
      const name = `gw${g}`;
      gatewayNames.push(name);
      objects.push(gateway(name, listeners, { className: pick(['gatehouse', 'gatehouse', 'missing']), ...(r() < 0.5 ? { creationTimestamp: `2024-0${1 + g}-01T00:00:00Z` } : {}) }));
    }
    const parents = (): ParentReference[] =>
      [parentRef(pick(gatewayNames), { ...(r() < 0.3 ? { sectionName: `l${Math.floor(r() * 4)}` } : {}), ...(r() < 0.2 ? { port: pick(ports) } : {}), namespace: 'default' })];
    const paths: HTTPRouteMatch['path'][] = [
      { type: 'PathPrefix', value: '/' },
      { type: 'PathPrefix', value: '/api/' },
      { type: 'Exact', value: '/x' },
      { type: 'RegularExpression', value: '/r[0-9]+' },
      { type: 'RegularExpression', value: '/(bad' },
    ];
    for (let i = 0; i < Math.floor(r() * 6); i++) {
      const ns = pick(namespaces);
      const refs = [backendRef(pick(['svc', 'gone', 'ext']), 80, r() < 0.3 ? { namespace: pick(namespaces) } : {})];
      objects.push(
        httpRoute(`h${i}`, parents(), [rule({ matches: [{ path: pick(paths), headers: [], queryParams: [] }], backendRefs: refs })], {
          namespace: ns,
          hostnames: r() < 0.5 ? [] : [pick(hosts) ?? 'c.example.com'],
        }),
      );
    }
    if (r() < 0.5) objects.push(grpcRoute('g', parents(), [{ matches: [{ method: { type: 'Exact', service: 'svc.A' }, headers: [] }], filters: [], backendRefs: [{ ...backendRef('svc', 80), filters: [] }] }]));
    if (r() < 0.5) objects.push(tlsRoute('t', parents(), [pick(hosts) ?? 'a.example.com'], 'svc'));
    if (r() < 0.5) objects.push(l4Route(pick(['TCPRoute', 'UDPRoute'] as const), 'l4', parents(), 'svc'));
    objects.push(service('svc', [{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' }]));
    objects.push(service('ext', [], { type: 'ExternalName', externalName: 'ext.example.net' }));
    objects.push(endpointSlice('svc-1', 'svc', [{ address: '10.0.0.1' }, { address: '10.0.0.2', ready: r() < 0.5 }], [{ name: 'web', port: 3000, protocol: 'TCP' }]));
    if (r() < 0.5) objects.push(referenceGrant('g', 'other', { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'default' }], to: [{ group: '', kind: 'Service' }] }));

    const first = compile(resourceSet(...objects), { backendResolution: r() < 0.3 ? 'strict' : 'default' });
    t.ok(first.table.hash.length === 16, `seed ${seed}`);
    t.equal(serializeTable(compile(resourceSet(...objects)).table), serializeTable(compile(resourceSet(...objects)).table), `seed ${seed}: deterministic`);
    // Every index in the table points somewhere.
    for (const port of first.table.ports) {
      for (const l of port.listeners) {
        if (l.group >= 0) t.ok(port.httpGroups[l.group], 'listener group exists');
        for (const c of l.tls?.certificates ?? []) t.ok(first.table.certificates[c], 'certificate exists');
      }
      for (const g of port.httpGroups) {
        for (const e of g.entries) t.ok(g.rules[e.rule] && port.listeners[e.listener], 'entry rule and listener exist');
        for (const rl of g.rules) for (const b of rl.backendRefs) t.ok(b.backend === -1 || first.table.backends[b.backend], 'backend exists');
      }
    }
  }
});
