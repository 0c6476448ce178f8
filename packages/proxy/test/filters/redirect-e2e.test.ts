/**
 * RequestRedirect over real loopback sockets: the Extended status codes 303/307/308 and `port`
 * (features.md §5 and §9.6: the port from the filter, else the scheme's well-known port when the filter
 * sets a scheme, else the Gateway listener's port; 80 with http and 443 with https left out of Location).
 * The listener ports (8080, 443) differ from the sockets the tests connect to, as behind a port mapping.
 */
import https from 'node:https';
import t from 'tap';
import type { FilterIR } from '@gatehouse/core';
import { startEchoServer } from '../../src/echo-server.js';
import { closeAgent, request } from '../helpers/client.js';
import { selfSigned } from '../helpers/certs.js';
import { gateway } from '../helpers/gateway.js';
import { backend, freePort, table } from '../helpers/ir.js';

type Redirect = Extract<FilterIR, { type: 'RequestRedirect' }>;
const redirect = (o: Partial<Omit<Redirect, 'type'>>): FilterIR => ({ type: 'RequestRedirect', scheme: null, hostname: null, port: null, path: null, statusCode: 302, ...o });

t.test('RequestRedirect on an HTTP listener (port 8080): status codes 303/307/308 and port', async (t) => {
  const a = await startEchoServer({ name: 'a' });
  const port = await freePort();
  const rules: { path: string; filter: FilterIR; status: number; location: string }[] = [
    { path: '/s303', filter: redirect({ statusCode: 303 }), status: 303, location: 'http://example.org:8080/s303/x?q=1' },
    { path: '/s307', filter: redirect({ statusCode: 307 }), status: 307, location: 'http://example.org:8080/s307/x?q=1' },
    { path: '/s308', filter: redirect({ statusCode: 308 }), status: 308, location: 'http://example.org:8080/s308/x?q=1' },
    { path: '/port9090', filter: redirect({ port: 9090 }), status: 302, location: 'http://example.org:9090/port9090/x?q=1' },
    { path: '/port80', filter: redirect({ port: 80, statusCode: 301 }), status: 301, location: 'http://example.org/port80/x?q=1' },
    { path: '/port443-http', filter: redirect({ port: 443 }), status: 302, location: 'http://example.org:443/port443-http/x?q=1' },
    { path: '/https-port443', filter: redirect({ scheme: 'https', port: 443, statusCode: 308 }), status: 308, location: 'https://example.org/https-port443/x?q=1' },
    { path: '/https-port8443', filter: redirect({ scheme: 'https', port: 8443, statusCode: 307 }), status: 307, location: 'https://example.org:8443/https-port8443/x?q=1' },
    { path: '/https-port80', filter: redirect({ scheme: 'https', port: 80 }), status: 302, location: 'https://example.org:80/https-port80/x?q=1' },
    { path: '/https-only', filter: redirect({ scheme: 'https', statusCode: 303 }), status: 303, location: 'https://example.org/https-only/x?q=1' },
    { path: '/http-only', filter: redirect({ scheme: 'http' }), status: 302, location: 'http://example.org/http-only/x?q=1' },
    {
      path: '/host-port',
      filter: redirect({ hostname: 'example.net', port: 9090, statusCode: 307, path: { type: 'ReplacePrefixMatch', value: '/new', prefix: '/host-port' } }),
      status: 307,
      location: 'http://example.net:9090/new/x?q=1',
    },
  ];
  const tbl = table(
    [{ port, groups: [{ listenerPort: 8080, rules: [...rules.map((r) => ({ path: r.path, filters: [r.filter] })), { path: '/', refs: [{ backend: 0 }] }] }] }],
    [backend('a', [{ address: '127.0.0.1', port: a.port }])],
  );
  const { rt, port: gw } = await gateway(tbl);
  t.teardown(async () => {
    closeAgent();
    await rt.close(100);
    await a.close();
  });
  for (const r of rules) {
    // the request's Host carries a port: it is stripped, the listener's (or the filter's) is used
    const res = await request(gw, `${r.path}/x?q=1`, { host: 'example.org:9999' });
    t.equal(res.status, r.status, `${r.path}: ${r.status}`);
    t.equal(res.headers.location, r.location, `${r.path}: Location ${r.location}`);
  }
  // 307/308 keep the method and body for the client to resend: the gateway answers a POST itself
  for (const code of [307, 308]) {
    const res = await request(gw, `/s${code}/form`, { host: 'example.org', method: 'POST', body: 'a=1' });
    t.equal(res.status, code, `POST /s${code}: ${code}`);
    t.equal(res.headers.location, `http://example.org:8080/s${code}/form`);
  }
  t.equal(a.count(), 0, 'no redirect reached the backend');
  const ok = await request(gw, '/other', { host: 'example.org' });
  t.equal(ok.status, 200, 'the catch-all rule still forwards');
  t.equal(a.count(), 1);
});

t.test('RequestRedirect on an HTTPS listener (port 443): scheme defaults to https, 443 left out', async (t) => {
  const certs = [selfSigned('ns/default', ['example.org'])];
  const port = await freePort();
  const rules: { path: string; filter: FilterIR; status: number; location: string }[] = [
    { path: '/plain', filter: redirect({ statusCode: 308 }), status: 308, location: 'https://example.org/plain/x' },
    { path: '/to-http-8080', filter: redirect({ scheme: 'http', port: 8080, statusCode: 303 }), status: 303, location: 'http://example.org:8080/to-http-8080/x' },
    { path: '/to-http', filter: redirect({ scheme: 'http', statusCode: 307 }), status: 307, location: 'http://example.org/to-http/x' },
    { path: '/port8443', filter: redirect({ port: 8443 }), status: 302, location: 'https://example.org:8443/port8443/x' },
  ];
  const tbl = table([{ port, protocol: 'TLS', groups: [{ hostname: null, certificate: 0, listenerPort: 443, rules: rules.map((r) => ({ path: r.path, filters: [r.filter] })) }] }], [], certs);
  const { rt, port: gw } = await gateway(tbl);
  t.teardown(() => rt.close(100));
  for (const r of rules) {
    const res = await new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
      const req = https.get({ host: '127.0.0.1', port: gw, path: `${r.path}/x`, servername: 'example.org', headers: { host: 'example.org' }, rejectUnauthorized: false, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location }));
      });
      req.on('error', reject);
      req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    });
    t.equal(res.status, r.status, `${r.path}: ${r.status}`);
    t.equal(res.location, r.location, `${r.path}: Location ${r.location}`);
  }
});
