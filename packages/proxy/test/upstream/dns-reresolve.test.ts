/**
 * Issue 4 / DESIGN.md §5 step 3, end to end on the engine under test (test/fast/engine-suites re-runs this
 * file on the other engine): a backendRef with no Service and no EndpointSlice is resolved by the DNS
 * fallback. Its first answer is an address where nothing listens (127.0.0.2: Linux routes all of 127/8
 * locally, and the echo server is bound to 127.0.0.1 only, so the connection is refused); later answers
 * are the live echo server. The first request fails; the connect error triggers re-resolution (the
 * periodic refresh is 10 minutes here, so it cannot be that), and a later request succeeds without any
 * reload. The resolver is the real one with its injectable lookup (ResolverOptions.lookupAll).
 */
import t from 'tap';
import { startEchoServer } from '../../src/echo-server.js';
import { DefaultBackendResolver } from '../../src/upstream/resolver.js';
import { startGatewayYaml } from '../hardening/harness.js';
import { closeAgent, request } from '../helpers/client.js';
import { freePort } from '../helpers/ir.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.teardown(closeAgent);

t.test('a connect error re-resolves a DNS backend: the first request fails, a later one succeeds, no reload', async (t) => {
  const echo = await startEchoServer({ host: '127.0.0.1', port: 0, name: 'moved' });
  const port = await freePort();
  const lookups: string[] = [];
  const resolver = new DefaultBackendResolver({
    refreshMs: 600_000,
    lookupAll: async (name) => {
      lookups.push(name);
      if (lookups.length === 1) return ['127.0.0.2'];
      // a real lookup takes a moment: the answer comes after the failed request's own retry
      await sleep(100);
      return ['127.0.0.1'];
    },
  });
  const gw = await startGatewayYaml(
    `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: gatehouse }
spec: { controllerName: gatehouse.dev/gateway-controller }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: default }
spec:
  gatewayClassName: gatehouse
  listeners:
    - { name: http, protocol: HTTP, port: ${port} }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: r, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  rules:
    - backendRefs: [{ name: echo-svc, port: ${echo.port} }]
`,
    { resolver },
  );
  t.teardown(async () => {
    await gw.close();
    await echo.close();
  });
  t.same(lookups, ['echo-svc'], 'resolved once at start, by the bare Service name');

  const first = await request(gw.port, '/first', { host: 'x' });
  t.ok(first.status === 502 || first.status === 503, `the first request fails: the only address refuses (${first.status})`);
  t.equal(echo.count(), 0, 'nothing reached the echo server');
  t.ok(gw.backendErrors.some((e) => e.startsWith('Service default/echo-svc:') && e.includes('connect')), `a connect error was recorded (${gw.backendErrors.join(', ')})`);
  t.ok(lookups.length >= 2, 'the connect error started a new lookup');

  // A later request succeeds once the new answer is in (bounded: 40 tries, 50 ms apart).
  let later = first;
  for (let i = 0; i < 40 && later.status !== 200; i++) {
    await sleep(50);
    later = await request(gw.port, '/later', { host: 'x' });
  }
  t.equal(later.status, 200, 'a later request is served');
  t.equal(later.json().pod, 'moved', 'by the server at the new address');
  t.equal(later.json().path, '/later', 'the request as sent');
  t.equal(lookups.length, 2, 'exactly one re-resolution: the one the connect error triggered (no periodic refresh ran)');
});
