/**
 * Layer 4 from user config: YAML → decode → compile → GatehouseRuntime, with one TLS port carrying an
 * HTTPS listener and a TLS passthrough listener, a TCP port and a UDP port; then a reload that keeps an
 * established TCP connection.
 */
import dgram from 'node:dgram';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import t from 'tap';
import { GatehouseRuntime } from '../../src/runtime.js';
import { emptyStatus, freePorts } from '../helpers/ir.js';
import { compileYaml } from '../helpers/yaml.js';
import { sleep, tcpEchoServer, testPki, tlsAsk, tlsNameServer, udpEchoServer, waitFor } from './helpers.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function service(name: string, port: number, protocol: 'TCP' | 'UDP' = 'TCP'): string {
  return `
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: default }
spec:
  ports: [{ name: p, port: 1000, targetPort: ${port}, protocol: ${protocol} }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ${name}, namespace: default, labels: { kubernetes.io/service-name: ${name} } }
addressType: IPv4
ports: [{ name: p, port: ${port}, protocol: ${protocol} }]
endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true } }]
---`;
}

const indent = (pem: string): string => pem.trim().split('\n').map((l) => `    ${l}`).join('\n');

t.test('TLS (HTTPS + passthrough), TCP and UDP from YAML through the runtime', async (t) => {
  const pki = testPki();
  const db = await tlsNameServer('db', pki.leaf(['db.example.com']));
  const web = http.createServer((req, res) => res.end(`web ${req.headers.host}`));
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  const webPort = (web.address() as net.AddressInfo).port;
  const echoA = await tcpEchoServer();
  const echoB = await tcpEchoServer();
  const dns = await udpEchoServer('dns');
  const [tlsPortNo, tcpPortNo, udpPortNo] = await freePorts(3);
  const cert = pki.leaf(['*.example.com']);

  const yaml = (tcpBackend: string): string => `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: gatehouse }
spec: { controllerName: gatehouse.dev/gateway-controller }
---
apiVersion: v1
kind: Secret
metadata: { name: web-cert, namespace: default }
type: kubernetes.io/tls
stringData:
  tls.crt: |
${indent(cert.cert)}
  tls.key: |
${indent(cert.key)}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: edge, namespace: default }
spec:
  gatewayClassName: gatehouse
  addresses: [{ type: IPAddress, value: 127.0.0.1 }]
  listeners:
    - { name: web, protocol: HTTPS, port: ${tlsPortNo}, hostname: "*.example.com", tls: { mode: Terminate, certificateRefs: [{ name: web-cert }] } }
    - { name: db, protocol: TLS, port: ${tlsPortNo}, hostname: db.example.com, tls: { mode: Passthrough } }
    - { name: tcp, protocol: TCP, port: ${tcpPortNo} }
    - { name: udp, protocol: UDP, port: ${udpPortNo} }
---
${service('web', webPort)}
${service('db', db.port)}
${service('echo-a', echoA.port)}
${service('echo-b', echoB.port)}
${service('dns', dns.port, 'UDP')}
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web, namespace: default }
spec:
  parentRefs: [{ name: edge, sectionName: web }]
  rules: [{ backendRefs: [{ name: web, port: 1000 }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: { name: db, namespace: default }
spec:
  parentRefs: [{ name: edge, sectionName: db }]
  hostnames: [db.example.com]
  rules: [{ backendRefs: [{ name: db, port: 1000 }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata: { name: echo, namespace: default }
spec:
  parentRefs: [{ name: edge, sectionName: tcp }]
  rules: [{ backendRefs: [{ name: ${tcpBackend}, port: 1000 }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: UDPRoute
metadata: { name: dns, namespace: default }
spec:
  parentRefs: [{ name: edge, sectionName: udp }]
  rules: [{ backendRefs: [{ name: dns, port: 1000 }] }]
`;
  const c = compileYaml(yaml('echo-a'));
  t.same(c.decodeErrors, [], 'decodes');
  t.same(
    c.table.ports.map((p) => p.protocol).sort(),
    ['TCP', 'TLS', 'UDP'],
    'one TLS, one TCP and one UDP port',
  );
  const rt = new GatehouseRuntime({ bindAddress: '127.0.0.1', logger: quiet });
  const applied = await rt.apply(c.table, emptyStatus);
  t.same(applied.failed, [], 'all ports bound');
  t.teardown(async () => {
    await rt.close(0);
    await db.close();
    web.closeAllConnections();
    await new Promise<void>((r) => web.close(() => r()));
    await echoA.close();
    await echoB.close();
    await dns.close();
  });

  // HTTPS on the shared TLS port.
  const got = await new Promise<string>((resolve) => {
    const req = https.get(
      { host: '127.0.0.1', port: tlsPortNo, servername: 'www.example.com', headers: { host: 'www.example.com' }, ca: pki.ca, agent: false },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(`${res.statusCode} ${body}`));
      },
    );
    req.on('error', (e) => resolve(`error ${e.message}`));
  });
  t.equal(got, '200 web www.example.com', 'HTTPS listener served');
  t.same(await tlsAsk(tlsPortNo, 'db.example.com', 'q'), { ok: true, answer: 'db:q', peerCN: 'db.example.com' }, 'TLS passthrough on the same port');

  // TCP: an established connection, kept across a reload that moves new connections to echo-b.
  const s = net.connect({ port: tcpPortNo, host: '127.0.0.1' });
  s.on('error', () => {});
  let echoed = '';
  s.on('data', (d) => (echoed += d.toString()));
  s.write('before');
  await waitFor(() => echoed === 'before', 2000, 'TCP echo');

  // UDP round trip.
  const u = dgram.createSocket('udp4');
  const replies: string[] = [];
  u.on('message', (m) => replies.push(m.toString()));
  await new Promise<void>((r) => u.bind(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => u.close(() => r())));
  u.send('query', udpPortNo, '127.0.0.1');
  await waitFor(() => replies.length === 1, 2000, 'UDP reply');
  t.same(replies, ['dns:query'], 'UDP route served');

  const c2 = compileYaml(yaml('echo-b'));
  const re = await rt.apply(c2.table, emptyStatus);
  t.same(re.opened, [], 'no socket reopened by the reload');
  await sleep(100);
  s.write('after');
  await waitFor(() => echoed === 'beforeafter', 2000, 'TCP echo after reload');
  t.equal(echoA.connections, 1, 'the established connection stayed on its backend');
  const fresh = await new Promise<string>((resolve) => {
    const n = net.connect({ port: tcpPortNo, host: '127.0.0.1' }, () => n.write('new'));
    n.on('data', (d) => {
      resolve(d.toString());
      n.destroy();
    });
    n.on('error', (e) => resolve(`error ${e.message}`));
  });
  t.equal(fresh, 'new');
  t.equal(echoB.connections, 1, 'a new connection uses the reloaded route');
  s.destroy();
});
