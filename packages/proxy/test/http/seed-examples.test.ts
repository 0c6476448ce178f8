/**
 * Issue 4: the tutorial's three examples (fixtures/seed/v1alpha1 and fixtures/seed/v1) served unchanged
 * through the in-process gateway, on the engine under test (test/fast/engine-suites re-runs this file on
 * the other engine).
 *
 * Unchanged: every YAML file of the directory is read as it is committed and compiled as one stream
 * (compileYaml: decode → compile, as the cli does). Only two things are added, neither an edit:
 *  - EndpointSlices for the three Services (`traefik` port name `traefik`, `whoami` and `nginx` port name
 *    `http`), appended as extra documents, pointing at 127.0.0.1 echo servers (a Service with a slice
 *    resolves through it, DESIGN.md §5 step 1);
 *  - the listener port 80 is remapped in the COMPILED table, as the conformance runner does
 *    (packages/conformance/src/product.ts remapPorts): the PortIR gets port 0, so the runtime binds a free
 *    port under the same key; the YAML still says 80.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { RoutingTable } from '@gatehouse/core';
import { startEchoServer, type EchoServer } from '../../src/echo-server.js';
import { startGateway } from '../hardening/harness.js';
import { closeAgent, request } from '../helpers/client.js';
import { compileYaml } from '../helpers/yaml.js';

const SEED = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../fixtures/seed');

function slice(service: string, portName: string, port: number): string {
  return `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${service}-test
  namespace: default
  labels:
    kubernetes.io/service-name: ${service}
addressType: IPv4
ports:
  - name: ${portName}
    port: ${port}
endpoints:
  - addresses: ["127.0.0.1"]
    conditions:
      ready: true
`;
}

/** PortIR.port → 0 (the runtime binds a free port under the same key); everything else as compiled. */
function remapPorts(table: RoutingTable): RoutingTable {
  return { ...table, ports: table.ports.map((p) => ({ ...p, port: 0 })) };
}

t.teardown(closeAgent);

for (const version of ['v1alpha1', 'v1']) {
  t.test(`fixtures/seed/${version}: the three tutorial examples, unchanged`, async (t) => {
    const dir = path.join(SEED, version);
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
    t.same(files, ['00-gateway.yaml', '01-dashboard.yaml', '02-whoami-nginx.yaml', '03-canary.yaml', '10-services.yaml'], 'the seed files');
    const echoes: Record<string, EchoServer> = {};
    for (const name of ['traefik', 'whoami', 'nginx']) echoes[name] = await startEchoServer({ host: '127.0.0.1', port: 0, name });
    const text = [
      ...files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8')),
      slice('traefik', 'traefik', echoes.traefik.port),
      slice('whoami', 'http', echoes.whoami.port),
      slice('nginx', 'http', echoes.nginx.port),
    ].join('\n---\n');
    const c = compileYaml(text, `${version}.yaml`);
    t.same(c.decodeErrors, [], 'decodes clean');
    t.same(c.diagnostics.filter((d) => d.severity === 'error'), [], 'compiles clean');
    t.equal(c.table.ports.length, 1, 'one port');
    t.equal(c.table.ports[0].port, 80, 'the YAML says port 80 (remapped below, not edited)');
    t.same(
      c.table.backends.map((b) => [b.id, b.resolution, b.endpoints.map((e) => e.port)]).sort(),
      [
        ['Service default/nginx:80', 'EndpointSlice', [echoes.nginx.port]],
        ['Service default/traefik:9000', 'EndpointSlice', [echoes.traefik.port]],
        ['Service default/whoami:80', 'EndpointSlice', [echoes.whoami.port]],
      ],
      'each Service resolves through its EndpointSlice to its echo server',
    );
    const gw = await startGateway(remapPorts(c.table));
    t.teardown(async () => {
      await gw.close();
      for (const e of Object.values(echoes)) await e.close();
    });
    const who = async (host: string, p: string): Promise<string> => {
      const r = await request(gw.port, p, { host });
      return r.status === 200 ? `${r.json().pod} ${r.json().path}` : String(r.status);
    };

    // Example 1: the dashboard route has no hostnames: /dashboard and /api on any host go to traefik.
    t.equal(await who('traefik.example.com', '/dashboard/'), 'traefik /dashboard/', 'example 1: /dashboard/ → traefik');
    t.equal(await who('localhost', '/api/overview?x=1'), 'traefik /api/overview?x=1', 'example 1: /api/... → traefik, query kept');
    t.equal(await who('localhost', '/apix'), '404', 'example 1: prefixes match whole segments (/apix is no /api)');
    t.equal(await who('localhost', '/'), '404', 'example 1: nothing else on a host without routes');

    // Example 2: nginx.tkdashboard.com, /whoami (Exact) → whoami, the rest → nginx.
    t.equal(await who('nginx.tkdashboard.com', '/whoami'), 'whoami /whoami', 'example 2: /whoami → whoami');
    t.equal(await who('nginx.tkdashboard.com', '/whoami/x'), 'nginx /whoami/x', 'example 2: the Exact match does not cover /whoami/x');
    t.equal(await who('nginx.tkdashboard.com', '/'), 'nginx /', 'example 2: / → nginx');
    t.equal(await who('nginx.tkdashboard.com', '/index.html'), 'nginx /index.html', 'example 2: everything else → nginx');
    t.equal(await who('NGINX.tkdashboard.com:80', '/whoami'), 'whoami /whoami', 'example 2: Host matched case-insensitively, port ignored');
    // The spec's precedence puts a matching hostname before the path: the route naming this host wins over
    // the dashboard route (which has no hostnames) even for /dashboard.
    t.equal(await who('nginx.tkdashboard.com', '/dashboard'), 'nginx /dashboard', 'a route with a matching hostname beats the hostname-less dashboard route');

    // Example 3: nginx01.tkdashboard.com, nginx weight 3, whoami weight 1, over 400 requests.
    const before = { nginx: echoes.nginx.count(), whoami: echoes.whoami.count() };
    const seen: Record<string, number> = {};
    for (let i = 0; i < 400; i++) {
      const r = await request(gw.port, `/canary/${i}`, { host: 'nginx01.tkdashboard.com' });
      const k = r.status === 200 ? r.json().pod : `status ${r.status}`;
      seen[k] = (seen[k] ?? 0) + 1;
    }
    t.same(seen, { nginx: 300, whoami: 100 }, 'example 3: the 3:1 canary is exactly 300/100 (smooth weighted round-robin)');
    t.same(
      { nginx: echoes.nginx.count() - before.nginx, whoami: echoes.whoami.count() - before.whoami },
      { nginx: 300, whoami: 100 },
      'the backends counted the same split',
    );
    t.equal(await who('nginx02.tkdashboard.com', '/'), '404', 'another host of the domain has no route');
  });
}
