import t from 'tap';
import { startEchoServer } from '../../src/echo-server.js';
import { closeAgent, request } from '../helpers/client.js';
import { gateway } from '../helpers/gateway.js';
import { freePort } from '../helpers/ir.js';
import { compileYaml } from '../helpers/yaml.js';

function service(name: string, port: number): string {
  return `
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: default }
spec:
  ports: [{ name: http, port: 80, targetPort: ${port} }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${name}
  namespace: default
  labels: { kubernetes.io/service-name: ${name} }
addressType: IPv4
ports: [{ name: http, port: ${port} }]
endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true } }]
---`;
}

t.test('YAML → decode → compile → serve', async (t) => {
  const v1 = await startEchoServer({ name: 'web-v1' });
  const v2 = await startEchoServer({ name: 'web-v2' });
  const port = await freePort();
  const yaml = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: gatehouse }
spec: { controllerName: gatehouse.dev/gateway-controller }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: demo, namespace: default }
spec:
  gatewayClassName: gatehouse
  addresses: [{ type: IPAddress, value: 127.0.0.1 }]
  listeners:
    - { name: http, protocol: HTTP, port: ${port} }
---
${service('web-v1', v1.port)}
${service('web-v2', v2.port)}
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web, namespace: default }
spec:
  parentRefs: [{ name: demo }]
  hostnames: ["www.example.com"]
  rules:
    - matches: [{ path: { type: PathPrefix, value: /old } }]
      filters:
        - type: RequestRedirect
          requestRedirect: { path: { type: ReplacePrefixMatch, replacePrefixMatch: /new }, statusCode: 301 }
    - matches: [{ path: { type: PathPrefix, value: /api } }]
      filters:
        - type: RequestHeaderModifier
          requestHeaderModifier: { set: [{ name: X-Api, value: "yes" }] }
        - type: URLRewrite
          urlRewrite: { path: { type: ReplacePrefixMatch, replacePrefixMatch: /v2 } }
      backendRefs: [{ name: web-v2, port: 80 }]
    - backendRefs:
        - { name: web-v1, port: 80, weight: 3 }
        - { name: web-v2, port: 80, weight: 1 }
        - { name: missing, port: 80, weight: 0 }
`;
  const c = compileYaml(yaml);
  t.same(c.decodeErrors, []);
  t.equal(c.table.ports.length, 1);
  const { rt, port: gw } = await gateway(c.table);
  t.teardown(async () => {
    closeAgent();
    await rt.close(100);
    await v1.close();
    await v2.close();
  });
  const counts: Record<string, number> = {};
  for (let i = 0; i < 40; i++) {
    const r = await request(gw, '/', { host: 'www.example.com' });
    const pod = r.json().pod;
    counts[pod] = (counts[pod] ?? 0) + 1;
  }
  t.same(counts, { 'web-v1': 30, 'web-v2': 10 }, '3:1 canary from YAML');
  let r = await request(gw, '/old/page?x=1', { host: 'www.example.com' });
  t.equal(r.status, 301);
  t.equal(r.headers.location, `http://www.example.com:${port}/new/page?x=1`);
  r = await request(gw, '/api/users', { host: 'www.example.com' });
  t.equal(r.json().pod, 'web-v2');
  t.equal(r.json().path, '/v2/users');
  t.same(r.json().headers['X-Api'], ['yes']);
  r = await request(gw, '/', { host: 'other.example.com' });
  t.equal(r.status, 404, 'hostname not served');
});
