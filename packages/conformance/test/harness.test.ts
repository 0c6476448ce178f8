/**
 * The harness's own pieces, without the product: certificates, echo pods + client round trips, the
 * comparison rules, manifest assembly, EndpointSlice generation.
 */
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { createServer } from 'node:http';
import { generateTls } from '../src/certs.js';
import { createEchoPod, canonicalHeaderName, parseGoDuration } from '../src/echo.js';
import { roundTrip } from '../src/client.js';
import { compareRoundTrip } from '../src/compare.js';
import { parseCase } from '../src/cases.js';
import { createBackendSet, backendNameOfPod, podName } from '../src/backends.js';
import { applyMutation, parseObjects, readManifest, GATEWAY_CLASS_NAME } from '../src/manifests.js';
import { remapPorts } from '../src/product.js';
import { DEFAULT_CONFORMANCE_DIR } from '../src/index.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const tls = generateTls();

t.test('generated TLS material has the upstream names and SANs', async (t) => {
  const kp = tls.secrets.get('gateway-conformance-infra/tls-validity-checks-certificate');
  t.ok(kp, 'tls-validity-checks-certificate');
  const san = new X509Certificate(kp!.cert).subjectAltName ?? '';
  t.match(san, /DNS:\*\.wildcard\.org/);
  const checks = new X509Certificate(tls.secrets.get('gateway-conformance-infra/tls-checks-certificate')!.cert);
  t.match(checks.subjectAltName ?? '', /URI:spiffe:\/\/abc\.example\.com\/test-identity/);
  const ca = new X509Certificate(tls.cas.get('gateway-conformance-infra/tls-checks-ca-certificate')!);
  t.ok(checks.verify(ca.publicKey), 'tls-checks-certificate is signed by tls-checks-ca-certificate');
  t.ok(tls.secrets.has('gateway-conformance-app-backend/tls-passthrough-checks-certificate'));
  const secret = tls.objects.find((o) => (o.metadata as { name: string }).name === 'certificate') as { type: string; data: Record<string, string> };
  t.equal(secret.type, 'kubernetes.io/tls');
  t.match(Buffer.from(secret.data['tls.crt']!, 'base64').toString(), /BEGIN CERTIFICATE/);
});

t.test('echo helpers', async (t) => {
  t.equal(canonicalHeaderName('x-header-SET'), 'X-Header-Set');
  t.equal(canonicalHeaderName('version'), 'Version');
  t.equal(parseGoDuration('1s'), 1000);
  t.equal(parseGoDuration('1m30s'), 90_000);
  t.equal(parseGoDuration('500ms'), 500);
  t.equal(parseGoDuration('abc'), null);
  t.equal(backendNameOfPod(podName('infra-backend-v1')), 'infra-backend-v1');
});

t.test('echo pod answers in the echo-basic format, over HTTP, HTTPS and h2c', async (t) => {
  const pod = createEchoPod({ namespace: 'ns1', pod: podName('svc-a'), app: 'svc-a' });
  t.teardown(() => pod.close());
  const httpPort = await pod.listen(3000, 'http');
  const rt = await roundTrip(
    { port: httpPort, tls: false },
    { method: 'GET', host: 'example.com', path: '/a?b=c', headers: [['x-header-add', 'one'], ['X-Header-Add', 'two'], ['X-Echo-Set-Header', 'X-Foo:bar,X-Foo:baz,Other:1']] },
    2000,
  );
  t.equal(rt.status, 200);
  t.same(rt.headers.get('content-type'), ['application/json']);
  t.equal(rt.echo?.path, '/a?b=c');
  t.equal(rt.echo?.host, 'example.com');
  t.equal(rt.echo?.namespace, 'ns1');
  t.equal(rt.echo?.proto, 'HTTP/1.1');
  t.same(rt.echo?.headers['X-Header-Add'], ['one', 'two']);
  t.same(rt.headers.get('x-foo'), ['bar,baz']);
  t.ok(pod.logs.some((l) => l.startsWith('Echoing back request made to /a?b=c to client')));

  const st = await roundTrip({ port: httpPort, tls: false }, { method: 'GET', host: 'x', path: '/status/418', headers: [] }, 2000);
  t.equal(st.status, 418);
  t.equal(st.echo, null);

  const slow = roundTrip({ port: httpPort, tls: false }, { method: 'GET', host: 'x', path: '/?delay=1s', headers: [] }, 200);
  await t.rejects(slow, { code: 'TIMEOUT' });

  const kp = tls.secrets.get('gateway-conformance-infra/tls-checks-certificate')!;
  const httpsPort = await pod.listen(8443, 'https', kp);
  const srt = await roundTrip({ port: httpsPort, tls: true, sni: 'abc.example.com' }, { method: 'GET', host: 'abc.example.com', path: '/', headers: [] }, 2000);
  t.equal(srt.echo?.tls?.serverName, 'abc.example.com');
  t.equal(srt.peerCertFingerprint, new X509Certificate(kp.cert).fingerprint256, 'the served certificate is reported');
  const h2 = await roundTrip({ port: httpsPort, tls: true, sni: 'abc.example.com', http2: true }, { method: 'GET', host: 'abc.example.com', path: '/h2', headers: [] }, 2000);
  t.equal(h2.echo?.proto, 'HTTP/2.0');
  t.equal(h2.echo?.host, 'abc.example.com');
  const h2cPort = await pod.listen(3001, 'h2c');
  const h2c = await roundTrip({ port: h2cPort, tls: false, http2: true }, { method: 'POST', host: 'h.example', path: '/x', headers: [], body: 'hi' }, 2000);
  t.equal(h2c.echo?.method, 'POST');
});

t.test('TCP echo line protocol', async (t) => {
  const pod = createEchoPod({ namespace: 'ns1', pod: podName('tcp-backend'), app: 'tcp-backend' });
  t.teardown(() => pod.close());
  const port = await pod.listen(3000, 'tcp');
  const { connect } = await import('node:net');
  const text = await new Promise<string>((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
      if (buf.split('\n').length >= 5) {
        s.destroy();
        resolve(buf);
      }
    });
    s.on('error', reject);
    s.write('PING\nIS_TLS\nTEST\n');
  });
  const lines = text.split('\n');
  t.equal(lines[0], 'Gateway API Test TCP Server');
  t.equal(lines[1], 'PONG');
  t.equal(lines[2], 'false');
  t.equal(JSON.parse(lines[3]!).namespace, 'ns1');
});

const spec = { method: 'GET', host: 'example.com', path: '/v2', headers: [['Version', 'two']] as [string, string][], gateway: 'ns/gw' };
const echo = (over: Record<string, unknown> = {}) => ({
  status: 200,
  headers: new Map([['content-type', ['application/json']], ['x-resp', ['a']]]),
  echo: { path: '/v2', host: 'example.com', method: 'GET', proto: 'HTTP/1.1', headers: { Version: ['two'] }, namespace: 'gateway-conformance-infra', pod: 'infra-backend-v2-abc-def', ...over },
  bodySnippet: '',
  protocol: 'HTTP/1.1',
});

t.test('comparison rules', async (t) => {
  const exp = { status: [200], backend: 'infra-backend-v2', namespace: 'gateway-conformance-infra' };
  t.equal(compareRoundTrip(spec, '/v2', exp, echo()), null);
  t.match(compareRoundTrip(spec, '/v2', exp, echo({ pod: 'infra-backend-v1-a-b' })), { what: 'backend', got: 'infra-backend-v1-a-b' });
  t.match(compareRoundTrip(spec, '/v2', exp, echo({ path: '/v2/' })), { what: 'backend saw path' });
  t.match(compareRoundTrip(spec, '/v2', exp, echo({ headers: {} })), { what: 'backend saw header Version' });
  t.match(compareRoundTrip(spec, '/v2', { status: [404] }, echo()), { what: 'status', expected: '404' });
  const timeout = { ...echo(), status: 408, echo: null };
  t.equal(compareRoundTrip(spec, '/v2', { status: [504] }, timeout), null, '408 and 504 are the same outcome');
  t.equal(compareRoundTrip(spec, '/v2', { ...exp, request: { headers: [['version', 'two']], absentHeaders: ['X-Gone'] } }, echo()), null);
  t.match(compareRoundTrip(spec, '/v2', { ...exp, request: { absentHeaders: ['version'] } }, echo()), { what: 'backend saw header version' });
  t.match(compareRoundTrip(spec, '/v2', { ...exp, responseHeaders: [['X-Resp', 'b']] }, echo()), { what: 'response header X-Resp', got: 'a' });
  const redirect = (loc: string) => ({ status: 302, headers: new Map([['location', [loc]]]), echo: null, bodySnippet: '', protocol: 'HTTP/1.1' });
  const r = { status: [302], redirect: { host: 'example.org' } };
  t.equal(compareRoundTrip(spec, '/v2', r, redirect('http://example.org/v2')), null);
  t.equal(compareRoundTrip(spec, '/v2', r, redirect('http://example.org:80/v2')), null);
  t.match(compareRoundTrip(spec, '/v2', r, redirect('http://example.org:8080/v2')), { what: 'Location port' });
  t.equal(compareRoundTrip(spec, '/v2', { status: [302], redirect: { port: '8080' } }, redirect('http://example.com:8080/v2')), null);
  t.match(compareRoundTrip(spec, '/v2', { status: [302], redirect: { scheme: 'https' } }, redirect('http://example.com/v2')), { what: 'Location scheme' });
  t.match(compareRoundTrip(spec, '/v2', { status: [302], redirect: { path: '/x' } }, redirect('http://example.com/v2')), { what: 'Location path' });
});

t.test('case format: short forms', async (t) => {
  const c = parseCase(
    `name: HTTPRouteMatching
features: [HTTPRoute]
manifests: [tests/httproute-matching.yaml]
status:
  routes:
    - name: matching
      parents:
        - gateway: same-namespace
          conditions: {Accepted: True, ResolvedRefs: "False:RefNotPermitted"}
requests:
  - {path: /, backend: infra-backend-v1}
  - {path: /v2, headers: {Version: two}, backend: infra-backend-v2}
  - {path: /nope, status: 404}
  - {path: /r, redirect: {host: example.org}}
then:
  - mutate: [{kind: ReferenceGrant, namespace: x, name: g, delete: true}]
    requests: [{path: /, status: 500}]
`,
    'x.yaml',
  );
  t.equal(c.phases.length, 2);
  const [a, b, nope, r] = c.phases[0]!.requests;
  t.equal(a!.request.gateway, 'gateway-conformance-infra/same-namespace');
  t.equal(a!.expect.namespace, 'gateway-conformance-infra');
  t.same(b!.request.headers, [['Version', 'two']]);
  t.same(nope!.expect.status, [404]);
  t.same(r!.expect.status, [302]);
  t.same(c.phases[0]!.status!.routes![0]!.parents![0]!.conditions, [
    { type: 'Accepted', status: 'True', reason: null },
    { type: 'ResolvedRefs', status: 'False', reason: 'RefNotPermitted' },
  ]);
  t.same(c.phases[1]!.mutate, [{ op: 'delete', kind: 'ReferenceGrant', namespace: 'x', name: 'g' }]);
});

t.test('case format: a misspelt key is an error, not a silently dropped check', async (t) => {
  t.throws(() => parseCase('name: X\nrequests:\n  - {path: /, backendsees: {path: /x}}\n', 'x.yaml'), /unknown key "backendsees"/);
  t.throws(() => parseCase('name: X\nstatus: {routes: [{name: r, parent: []}]}\n', 'x.yaml'), /unknown key "parent"/);
  t.throws(() => parseCase('name: X\nstatus: {routes: [{name: r, parents: [{gateway: g, conditions: {Accepted: Yes}}]}]}\n', 'x.yaml'), /True, False or Unknown/);
});

t.test('remapPorts keeps keys and listener ports, binds 127.0.0.1:0', async (t) => {
  const table = { hash: 'h', backends: [], certificates: [], ports: [{ key: ':80/tcp', address: null, port: 80, transport: 'tcp', protocol: 'HTTP', listeners: [{ port: 80 }], httpGroups: [{ listenerPort: 80 }], tlsRoutes: [], l4Route: null }] };
  const out = remapPorts(table as never);
  t.match(out.ports[0], { key: ':80/tcp', port: 0, address: '127.0.0.1', listeners: [{ port: 80 }], httpGroups: [{ listenerPort: 80 }] });
  t.equal(table.ports[0]!.port, 80, 'the input table is not modified');
});

const haveManifests = existsSync(join(DEFAULT_CONFORMANCE_DIR, 'base', 'manifests.yaml'));

t.test('manifests are assembled unchanged except the class placeholder', { skip: !haveManifests && 'upstream manifests not available' }, async (t) => {
  const raw = readFileSync(join(DEFAULT_CONFORMANCE_DIR, 'base', 'manifests.yaml'), 'utf8');
  const f = readManifest(DEFAULT_CONFORMANCE_DIR, 'base/manifests.yaml', 1);
  t.equal(f.text, raw.split('{GATEWAY_CLASS_NAME}').join(GATEWAY_CLASS_NAME));
  t.notMatch(f.text, /\{GATEWAY_CLASS_NAME\}/);
  const files = [f, readManifest(DEFAULT_CONFORMANCE_DIR, 'tests/httproute-reference-grant.yaml', 10)];
  const before = files[1]!.objects.length;
  applyMutation(files, { op: 'delete', kind: 'ReferenceGrant', namespace: 'gateway-conformance-web-backend', name: 'reference-grant', });
  t.equal(files[1]!.objects.length, before - 1);
  t.equal(parseObjects(files[1]!.text, 'x').length, before - 1);
  t.equal(files[0]!.text, raw.split('{GATEWAY_CLASS_NAME}').join(GATEWAY_CLASS_NAME), 'other files untouched');
});

t.test('EndpointSlices point every selected Service at a live echo pod', { skip: !haveManifests && 'upstream manifests not available' }, async (t) => {
  const backends = createBackendSet(tls.secrets);
  t.teardown(() => backends.close());
  const objects = readManifest(DEFAULT_CONFORMANCE_DIR, 'base/manifests.yaml', 1).objects;
  const slices = await backends.endpointSlicesFor(objects);
  const v1 = slices.find((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === 'infra-backend-v1') as unknown as {
    endpoints: { addresses: string[] }[];
    ports: { name: string; port: number; appProtocol?: string }[];
  };
  t.ok(v1, 'infra-backend-v1 has a slice');
  t.same(v1.ports.map((p) => p.name), ['first-port', 'second-port', 'third-port']);
  t.equal(v1.ports[1]!.appProtocol, 'kubernetes.io/h2c');
  t.equal(v1.ports[0]!.port, v1.ports[2]!.port, 'two Service ports with targetPort 3000 share the container port');
  const rt = await roundTrip({ port: v1.ports[0]!.port, tls: false }, { method: 'GET', host: 'h', path: '/', headers: [] }, 2000);
  t.equal(backendNameOfPod(rt.echo!.pod), 'infra-backend-v1');
  const web = slices.find((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === 'web-backend');
  t.equal(web?.metadata?.namespace, 'gateway-conformance-web-backend');
  const tlsBackend = slices.find((s) => s.metadata?.name?.startsWith('tls-backend') && s.metadata?.namespace === 'gateway-conformance-infra') as unknown as { ports: { port: number }[] };
  const trt = await roundTrip({ port: tlsBackend.ports[0]!.port, tls: true, sni: 'abc.example.com' }, { method: 'GET', host: 'abc.example.com', path: '/', headers: [] }, 2000);
  t.equal(trt.status, 200, 'tls-backend answers HTTPS');
  t.equal(backends.podsOfService('gateway-conformance-infra/infra-backend-v2').length, 1);
  void createServer;
});

t.test('gRPC echo: protobuf round trip and an h2c call', async (t) => {
  const { encodeEchoResponse, decodeEchoResponse, grpcCall, GRPC_UNIMPLEMENTED, httpToGrpcStatus } = await import('../src/grpc.js');
  const a = { fullyQualifiedMethod: '/x/Echo', headers: [['k', 'v']] as [string, string][], authority: 'a.example', namespace: 'ns', pod: 'p-1-2' };
  t.same(decodeEchoResponse(encodeEchoResponse(a)), a);
  t.equal(httpToGrpcStatus(404), GRPC_UNIMPLEMENTED);
  const pod = createEchoPod({ namespace: 'ns1', pod: podName('grpc-infra-backend-v1'), app: 'grpc-infra-backend-v1' });
  t.teardown(() => pod.close());
  const port = await pod.listen(3000, 'grpc');
  const ok = await grpcCall({ port, tls: false }, 'grpc.example', 'Echo', [['x-h', '1']], 2000);
  t.equal(ok.grpcStatus, 0);
  t.equal(ok.response?.namespace, 'ns1');
  t.equal(ok.response?.authority, 'grpc.example');
  t.ok(ok.response?.headers.some(([k, v]) => k === 'x-h' && v === '1'));
  const un = await grpcCall({ port, tls: false }, 'grpc.example', 'EchoThree', [], 2000);
  t.equal(un.grpcStatus, GRPC_UNIMPLEMENTED);
});

t.test('UDP echo answers each datagram with JSON', async (t) => {
  const { udpEchoExchange } = await import('../src/client.js');
  const pod = createEchoPod({ namespace: 'ns1', pod: podName('udp-backend-v1'), app: 'udp-backend-v1' });
  t.teardown(() => pod.close());
  const port = await pod.listen(8080, 'udp');
  const r = await udpEchoExchange(port, 'hello', 2000);
  t.equal(r.request, 'hello');
  t.equal(r.namespace, 'ns1');
  t.equal(backendNameOfPod(r.pod!), 'udp-backend-v1');
});

t.test('WebSocket echo on /ws', async (t) => {
  const { webSocketEcho } = await import('../src/client.js');
  const pod = createEchoPod({ namespace: 'ns1', pod: podName('infra-backend-v1'), app: 'infra-backend-v1' });
  t.teardown(() => pod.close());
  const port = await pod.listen(3000, 'http');
  const r = await webSocketEcho({ port, tls: false }, 'h', '/ws', 'hello-ws', 2000);
  t.same(r, { status: 101, echoed: 'hello-ws' });
  const refused = await webSocketEcho({ port, tls: false }, 'h', '/other', 'x', 2000);
  t.equal(refused.echoed, null);
});

t.test('DNS stand-in for coredns answers A queries', async (t) => {
  const { dnsExchange } = await import('../src/client.js');
  const pod = createEchoPod({ namespace: 'ns1', pod: podName('coredns'), app: 'coredns' });
  t.teardown(() => pod.close());
  const port = await pod.listen(53, 'dns');
  t.same(await dnsExchange(port, 'foo.bar.com', 2000), { rcode: 0, answers: 1 });
});

t.test('status checks follow the upstream helper rules', async (t) => {
  const { checkStatus } = await import('../src/status-check.js');
  const cond = (type: string, status: 'True' | 'False', reason: string) => ({ type, status, reason, message: '', observedGeneration: 1 });
  const report = {
    gatewayClasses: [],
    gateways: [
      {
        name: 'ns/gw',
        conditions: [cond('Accepted', 'True', 'Accepted')],
        addresses: [],
        listeners: [
          { name: 'http', attachedRoutes: 1, supportedKinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }, { group: 'gateway.networking.k8s.io', kind: 'GRPCRoute' }], conditions: [cond('ResolvedRefs', 'True', 'ResolvedRefs')] },
        ],
      },
    ],
    routes: [
      {
        kind: 'HTTPRoute' as const,
        name: 'ns/r',
        backends: [],
        parents: [{ parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'ns', name: 'gw' }, controllerName: 'c', conditions: [cond('Accepted', 'False', 'NoMatchingParent')] }],
      },
    ],
  };
  const C = (type: string, status: 'True' | 'False', reason: string | null = null) => ({ type, status, reason });
  t.same(checkStatus(report, { gateways: [{ name: 'ns/gw', conditions: [C('Accepted', 'True')], listeners: [{ name: 'http', attachedRoutes: 1, supportedKinds: ['HTTPRoute'], conditions: [C('ResolvedRefs', 'True')] }] }] }, 'c'), [], 'extra supported kinds are allowed');
  t.match(checkStatus(report, { gateways: [{ name: 'ns/gw', listeners: [{ name: 'http', supportedKinds: [] }] }] }, 'c'), [{ what: /supportedKinds/ }], 'expected [] means none');
  t.match(checkStatus(report, { gateways: [{ name: 'ns/gw', listeners: [{ name: 'http', attachedRoutes: 2 }] }] }, 'c'), [{ what: /attachedRoutes/, expected: '2', got: '1' }]);
  t.match(checkStatus(report, { gateways: [{ name: 'ns/gw', listeners: [{ name: 'http' }, { name: 'https' }] }] }, 'c'), [{ what: /listeners/ }]);
  t.same(checkStatus(report, { routes: [{ kind: 'HTTPRoute', name: 'ns/r', noAcceptedParents: true, parents: [{ gateway: 'ns/gw', conditions: [C('Accepted', 'False', 'NoMatchingParent')] }] }] }, 'c'), []);
  t.match(checkStatus(report, { routes: [{ kind: 'HTTPRoute', name: 'ns/r', parents: [{ gateway: 'ns/gw', conditions: [C('Accepted', 'False', 'NotAllowedByListeners')] }] }] }, 'c'), [{ expected: 'Accepted=False(NotAllowedByListeners)', got: 'Accepted=False(NoMatchingParent)' }]);
  t.match(checkStatus(report, { routes: [{ kind: 'HTTPRoute', name: 'ns/r', parents: [{ gateway: 'ns/gw', conditions: [] }] }] }, 'other'), [{ what: /controllerName/ }]);
  t.match(checkStatus(report, { routes: [{ kind: 'HTTPRoute', name: 'ns/r', parents: [{ gateway: 'ns/gw', sectionName: 'http', conditions: [] }] }] }, 'c'), [{ what: /parent ns\/gw#http/ }], 'sectionName must match');
});

t.test('resolveTarget: listener → bound socket, Host, SNI and the certificate an HTTPS listener must serve', async (t) => {
  const { resolveTarget } = await import('../src/table.js');
  const gw = {
    kind: 'Gateway',
    metadata: { name: 'gw', namespace: 'ns' },
    spec: {
      listeners: [
        { name: 'http', port: 8080, protocol: 'HTTP' },
        { name: 'https', port: 443, protocol: 'HTTPS', tls: { certificateRefs: [{ name: 'cert' }] } },
      ],
    },
  };
  const listener = (name: string, port: number, protocol: string) => ({ id: `ns/gw/${name}`, gateway: 'ns/gw', name, protocol, port, hostname: null, tls: null, group: 0 });
  const table = {
    hash: '', backends: [], certificates: [],
    ports: [
      { key: ':8080/tcp', address: null, port: 8080, transport: 'tcp', protocol: 'HTTP', listeners: [listener('http', 8080, 'HTTP')], httpGroups: [], tlsRoutes: [], l4Route: null },
      { key: ':443/tcp', address: null, port: 443, transport: 'tcp', protocol: 'TLS', listeners: [listener('https', 443, 'HTTPS')], httpGroups: [], tlsRoutes: [], l4Route: null },
    ],
  };
  const bound = new Map([[':8080/tcp', 40001], [':443/tcp', 40002]]);
  const spec = { method: 'GET', host: '', path: '/', headers: [], gateway: 'ns/gw' };
  t.match(resolveTarget(table as never, bound, [gw], spec), { ok: true, target: { port: 40001, tls: false }, host: '127.0.0.1:8080' }, 'first listener by default; Host keeps the manifest port');
  t.match(resolveTarget(table as never, bound, [gw], { ...spec, listener: 'https', host: 'example.org' }), {
    ok: true, target: { port: 40002, tls: true, sni: 'example.org' }, host: 'example.org', certificateRef: { namespace: 'ns', name: 'cert' },
  });
  t.match(resolveTarget(table as never, new Map(), [gw], spec), { ok: false, error: /no bound port/ });
  t.match(resolveTarget({ ...table, ports: [] } as never, bound, [gw], spec), { ok: false, unbound: true });
});

t.test('summaries count a test as Core or under each of its extended features, per profile', async (t) => {
  const { summarise, testLines } = await import('../src/report.js');
  const catalogue = [
    { name: 'A', file: 'a', features: ['HTTPRoute'], profiles: ['GATEWAY-HTTP'], provisional: false, mainOnly: false, summary: '' },
    { name: 'B', file: 'b', features: ['HTTPRoute', 'HTTPRouteCORS'], profiles: ['GATEWAY-HTTP'], provisional: false, mainOnly: false, summary: '' },
    { name: 'G', file: 'g', features: [], profiles: ['GATEWAY-HTTP', 'GATEWAY-TLS'], provisional: false, mainOnly: false, summary: '' },
  ];
  const r = (name: string, outcome: 'PASS' | 'FAIL' | 'SKIP') => ({ name, outcome, reason: '', failures: [], requestsChecked: 1, requestsFailed: 0, statusChecks: 0, durationMs: 1, diagnostics: [], runtimeLog: [], hints: [] });
  const s = summarise([r('A', 'PASS'), r('B', 'FAIL'), r('G', 'SKIP')], catalogue);
  const http = s.find((x) => x.profile === 'GATEWAY-HTTP')!;
  t.same(http.core, { passed: 1, failed: 0, skipped: 1 });
  t.same(http.extended, { passed: 0, failed: 1, skipped: 0 });
  t.same(http.features.HTTPRouteCORS, { passed: 0, failed: 1, skipped: 0 });
  t.same(s.find((x) => x.profile === 'GATEWAY-TLS')!.core, { passed: 0, failed: 0, skipped: 1 }, 'a Gateway-only test counts in every GATEWAY profile');
  const failed = { ...r('B', 'FAIL'), failures: [{ phase: 1, kind: 'request' as const, request: 'GET /x', what: 'status', expected: '200', got: '404' }] };
  t.match(testLines(failed).join('\n'), /FAIL  B .*\n.*\[after step 1\] request: GET \/x: status: expected 200, got 404/);
});
