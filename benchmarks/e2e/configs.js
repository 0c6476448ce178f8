/**
 * Config generators: the nginx backend, the nginx and HAProxy reverse proxies, and the Gateway API
 * YAML directories Gatehouse serves. All pure functions of the scenario and the ports.
 */

export const SMALL_BODY_LENGTH = 100;
export const LARGE_BODY_LENGTH = 1024 * 1024;

/** Backend `name` ("a", "b") answers a fixed 100-byte body that starts with its name. */
export function smallBody(name) {
  const prefix = `backend-${name} `;
  return prefix + 'x'.repeat(SMALL_BODY_LENGTH - prefix.length);
}

/** The 1,000-route table: 100 hosts x 10 routes, each with a path prefix and a header match. */
export const ROUTES_1K = { hosts: 100, perHost: 10 };
export function routes1k() {
  const out = [];
  for (let h = 0; h < ROUTES_1K.hosts; h++) {
    for (let j = 0; j < ROUTES_1K.perHost; j++) {
      out.push({ index: h * ROUTES_1K.perHost + j, host: `h${h}.bench.test`, prefix: `/p${j}`, header: { name: 'x-tenant', value: `t${j}` } });
    }
  }
  return out;
}
/** The request of the routes-1k scenario hits route #505 of 1,000 (host 50, prefix /p5, x-tenant t5). */
export const ROUTES_1K_TARGET = { host: 'h50.bench.test', path: '/p5/items', headers: { 'x-tenant': 't5' } };

const tempPaths = (dir) =>
  ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${dir}/${k}_temp;`).join('\n');

function nginxMain(dir, { modules = [], workers = 1 } = {}) {
  return [
    ...modules.map((m) => `load_module ${m};`),
    'daemon off;',
    'master_process on;',
    `worker_processes ${workers};`,
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log warn;`,
    'events { worker_connections 8192; }',
  ].join('\n');
}

/** The backend: one server block per backend port, a fixed 100-byte answer and a 1 MiB file at /1m. */
export function nginxBackendConf(dir, backends) {
  const servers = backends
    .map(
      (b) => `
  server {
    listen 127.0.0.1:${b.port};
    location / { return 200 "${smallBody(b.name)}"; }
    location = /1m { root ${dir}/www; }
  }`,
    )
    .join('\n');
  return `${nginxMain(dir)}
http {
  access_log off;
  default_type text/plain;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 75s;
  keepalive_requests 1000000;
${tempPaths(dir)}
${servers}
}
`;
}

function upstreamLines(backends, weighted) {
  return backends.map((b) => `    server 127.0.0.1:${b.port}${weighted ? ` weight=${b.weight}` : ''};`).join('\n');
}

/** nginx as the reverse proxy under test (1 worker, upstream keep-alive). */
export function nginxProxyConf(dir, scenario, port, backends, streamModule, workers = 1) {
  if (scenario.kind === 'tcp') {
    return `${nginxMain(dir, { modules: streamModule ? [streamModule] : [], workers })}
stream {
  server {
    listen 127.0.0.1:${port};
    proxy_pass 127.0.0.1:${backends[0].port};
  }
}
`;
  }
  const proxy = `proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection "";`;
  let servers;
  if (scenario.kind === 'routes1k') {
    const byHost = new Map();
    for (const r of routes1k()) {
      if (!byHost.has(r.host)) byHost.set(r.host, []);
      byHost.get(r.host).push(r);
    }
    servers = [...byHost]
      .map(
        ([host, rs]) => `
  server {
    listen 127.0.0.1:${port};
    server_name ${host};
${rs
  .map(
    (r) =>
      `    location ${r.prefix}/ { if ($http_${r.header.name.replace(/-/g, '_')} != "${r.header.value}") { return 404; } ${proxy} }`,
  )
  .join('\n')}
  }`,
      )
      .join('\n');
    servers += `
  server { listen 127.0.0.1:${port} default_server; location / { return 404; } }`;
  } else {
    servers = `
  server {
    listen 127.0.0.1:${port};
    location / { ${proxy} }
  }`;
  }
  // every proxy under test logs each request, as Gatehouse does (nginx: buffered, its fastest file log)
  return `${nginxMain(dir, { workers })}
http {
  access_log ${dir}/access.log combined buffer=64k flush=1s;
  keepalive_timeout 75s;
  keepalive_requests 1000000;
  server_names_hash_bucket_size 128;
${tempPaths(dir)}
  upstream be {
${upstreamLines(backends, scenario.kind === 'canary')}
    keepalive 64;
    keepalive_requests 1000000;
  }
${servers}
}
`;
}

/** HAProxy as the reverse proxy under test (nbthread 1, `http-reuse always`). */
export function haproxyConf(scenario, port, backends) {
  const tcp = scenario.kind === 'tcp';
  const servers = backends
    .map((b) => `  server ${b.name} 127.0.0.1:${b.port}${scenario.kind === 'canary' ? ` weight ${b.weight}` : ''}`)
    .join('\n');
  let rules = '';
  let extra = '';
  if (scenario.kind === 'routes1k') {
    rules = routes1k()
      .map(
        (r) =>
          `  use_backend be if { req.hdr(host) -m str ${r.host} } { path_beg ${r.prefix}/ } { req.hdr(${r.header.name}) -m str ${r.header.value} }`,
      )
      .join('\n');
    extra = `
backend be_404
  http-request return status 404
`;
  }
  // every proxy under test logs each request (HAProxy: its HTTP/TCP log line to stdout, the output file)
  return `global
  nbthread 1
  maxconn 4096
  log stdout format raw local0

defaults
  mode ${tcp ? 'tcp' : 'http'}
  log global
  option ${tcp ? 'tcplog' : 'httplog'}
  timeout connect 5s
  timeout client 60s
  timeout server 60s
${tcp ? '' : '  timeout http-keep-alive 60s\n'}
frontend fe
  bind 127.0.0.1:${port}
${rules}
  default_backend ${scenario.kind === 'routes1k' ? 'be_404' : 'be'}

backend be
  balance roundrobin
${tcp ? '' : '  http-reuse always\n'}${servers}
${extra}`;
}

// ------------------------------------------------------------------------------------------ Gatehouse

const GW = 'gateway.networking.k8s.io';

function serviceYaml(b) {
  return `apiVersion: v1
kind: Service
metadata:
  name: backend-${b.name}
  namespace: default
spec:
  ports:
  - name: http
    port: 80
    targetPort: ${b.port}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: backend-${b.name}-1
  namespace: default
  labels:
    kubernetes.io/service-name: backend-${b.name}
addressType: IPv4
endpoints:
- addresses: ["127.0.0.1"]
  conditions:
    ready: true
ports:
- name: http
  port: ${b.port}
  protocol: TCP
`;
}

/**
 * The Gateway API directory for a scenario: returns { 'file.yaml': text }. A Gateway `bench` on
 * 127.0.0.1:`port`, Services + EndpointSlices for the nginx backends, and the scenario's routes.
 */
export function gatehouseFiles(scenario, port, backends) {
  const tcp = scenario.kind === 'tcp';
  const files = {};
  files['00-gateway.yaml'] = `apiVersion: ${GW}/v1
kind: GatewayClass
metadata:
  name: gatehouse
spec:
  controllerName: gatehouse.dev/gateway-controller
---
apiVersion: ${GW}/v1
kind: Gateway
metadata:
  name: bench
  namespace: default
spec:
  gatewayClassName: gatehouse
  addresses:
  - type: IPAddress
    value: 127.0.0.1
  listeners:
  - name: ${tcp ? 'tcp' : 'http'}
    protocol: ${tcp ? 'TCP' : 'HTTP'}
    port: ${port}
    allowedRoutes:
      namespaces:
        from: Same
`;
  files['10-backends.yaml'] = backends.map(serviceYaml).join('---\n');
  const ref = (b, weighted) => `    - name: backend-${b.name}\n      port: 80${weighted ? `\n      weight: ${b.weight}` : ''}`;
  if (tcp) {
    files['20-routes.yaml'] = `apiVersion: ${GW}/v1alpha2
kind: TCPRoute
metadata:
  name: tcp
  namespace: default
spec:
  parentRefs:
  - name: bench
    sectionName: tcp
  rules:
  - backendRefs:
${ref(backends[0], false)}
`;
  } else if (scenario.kind === 'routes1k') {
    files['20-routes.yaml'] = routes1k()
      .map(
        (r) => `apiVersion: ${GW}/v1
kind: HTTPRoute
metadata:
  name: route-${String(r.index).padStart(4, '0')}
  namespace: default
spec:
  parentRefs:
  - name: bench
  hostnames: ["${r.host}"]
  rules:
  - matches:
    - path:
        type: PathPrefix
        value: ${r.prefix}
      headers:
      - name: ${r.header.name}
        value: ${r.header.value}
    backendRefs:
${ref(backends[0], false)}
`,
      )
      .join('---\n');
  } else {
    files['20-routes.yaml'] = `apiVersion: ${GW}/v1
kind: HTTPRoute
metadata:
  name: ${scenario.kind}
  namespace: default
spec:
  parentRefs:
  - name: bench
  rules:
  - matches:
    - path:
        type: PathPrefix
        value: /
    backendRefs:
${backends.map((b) => ref(b, scenario.kind === 'canary')).join('\n')}
`;
  }
  return files;
}
