/**
 * The normalisation contract end to end (docs/path-normalisation.md): a route limited to `/public` can
 * never reach `/admin` on the same backend, and what the backend receives is the normalised path.
 */
import t from 'tap';
import { backend, freePort, table } from '../helpers/ir.js';
import { rawRequest, recordingBackend, startGateway } from './harness.js';

/** Targets that try to climb from /public to /admin: each must be refused (400) or miss (404). */
const ESCAPES = [
  '/public/../admin',
  '/public/%2e%2e/admin',
  '/public/%2E%2E/admin',
  '/public/.%2e/admin',
  '/public/%2e./admin',
  '/public/..%2fadmin',
  '/public%2f..%2fadmin',
  '/public%2F..%2Fadmin',
  '/public/..%5cadmin',
  '/public\\..\\admin',
  '/public/..\\admin',
  '/public/..;/admin',
  '/public/.;/../admin',
  '/public/..%3b/admin',
  '/public;/../admin',
  '//admin',
  '///admin',
  '/./admin',
  '/%2e/admin',
  '/public/../../admin',
  '/public/./../admin',
  '/public//../admin',
  '/PUBLIC/../admin',
  '/public/..%00/admin',
  'http://example.com/public/../admin',
];

/** Allowed targets and the exact path the backend must receive. */
const FORWARDED: [string, string][] = [
  ['/public/a', '/public/a'],
  ['/public//a', '/public/a'],
  ['/public/./a', '/public/a'],
  ['/public/x/../a', '/public/a'],
  ['/public/%7Euser', '/public/~user'],
  ['/public/caf%c3%a9', '/public/caf%C3%A9'],
  ['/public/a?x=%2F..%2F&y=1', '/public/a?x=%2F..%2F&y=1'],
  ['/x/../public/a', '/public/a'],
  ['//public/a', '/public/a'],
  // double encoding and overlong UTF-8 stay opaque segments under /public (a backend that decodes twice
  // is broken with or without a proxy; what it is handed never leaves /public)
  ['/public/%252e%252e/admin', '/public/%252e%252e/admin'],
  ['/public/..%c0%af/admin', '/public/..%C0%AF/admin'],
  ['http://example.com/public/a?q', '/public/a?q'],
];

t.test('a /public route never reaches /admin; the backend sees the normalised path', async (t) => {
  const be = await recordingBackend((req, res) => {
    const body = req.url!.startsWith('/admin') ? 'SECRET' : 'public';
    res.writeHead(200, { 'content-length': body.length });
    res.end(body);
  });
  const port = await freePort();
  const tbl = table([{ port, groups: [{ rules: [{ path: '/public', refs: [{ backend: 0 }] }] }] }], [backend('rec', [{ address: '127.0.0.1', port: be.port }])]);
  const gw = await startGateway(tbl);
  t.teardown(async () => {
    await gw.close();
    await be.close();
  });
  for (const target of ESCAPES) {
    const a = await rawRequest(gw.port, `GET ${target} HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n`);
    t.ok(a.status === 400 || a.status === 404, `${target}: ${a.status} (refused or no route)`);
    t.notMatch(a.text, /SECRET/, `${target}: never the admin page`);
  }
  t.equal(be.requests.length, 0, 'none of them reached the backend');
  for (const [target, expected] of FORWARDED) {
    const n = be.requests.length;
    const a = await rawRequest(gw.port, `GET ${target} HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n`);
    t.equal(a.status, 200, `${target}: forwarded`);
    t.equal(be.requests[n]?.url, expected, `${target}: backend received ${expected}`);
  }
  for (const r of be.requests) t.ok(r.url.startsWith('/public'), `backend only ever saw /public paths (${r.url})`);
});
