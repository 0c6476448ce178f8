/**
 * Requests whose answer the client can never receive are not forwarded: a complete request followed in
 * the same read by bytes the parser refuses, and requests pipelined behind an answer that closes the
 * connection. The backend must not act on a request the client will see refused or unanswered (it
 * would retry it elsewhere). Runs on the default engine and, through test/fast/engine-suites.test.ts,
 * on the other one.
 */
import t, { type Test } from 'tap';
import { gatewayInFront, rawRequest, recordingBackend } from './harness.js';

async function setup(t: Test): Promise<{ port: number; be: Awaited<ReturnType<typeof recordingBackend>> }> {
  const be = await recordingBackend();
  const gw = await gatewayInFront(t, be, {}, 'rec');
  // an idle upstream connection in the pool: a forward then reaches the backend at once
  const warm = await rawRequest(gw.port, 'GET /warm HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  if (warm.status !== 200) throw new Error('warm-up request failed: ' + warm.statusLine);
  be.requests.length = 0;
  return { port: gw.port, be };
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 150));

t.test('a request followed in the same read by bytes the parser refuses: 400, nothing forwarded', async (t) => {
  const { port, be } = await setup(t);
  for (const tail of ['GET /b HTTP/1.1\r\nHost: x\r\n bad-fold: y\r\n\r\n', 'GARBAGE\r\n\r\n', 'POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab']) {
    const a = await rawRequest(port, `POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc${tail}`);
    t.equal(a.status, 400, `400 for ${JSON.stringify(tail.slice(0, 20))}`);
    t.notMatch(a.text, /HTTP\/1\.1 200/, 'the first request is not answered as forwarded');
    t.ok(a.closed, 'closed');
  }
  await settle();
  t.same(be.requests.map((r) => r.url), [], 'the backend saw none of them');
});

t.test('requests pipelined behind an answer that closes the connection are not forwarded', async (t) => {
  const { port, be } = await setup(t);
  // the client asked to close: llhttp (strict) refuses bytes after such a request, so the read is a 400
  const a = await rawRequest(port, 'GET /first HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\n');
  t.equal(a.status, 400, 'data after Connection: close is refused');
  t.equal((a.text.match(/HTTP\/1\.1 /g) ?? []).length, 1, 'one answer');
  // HTTP/1.0 without keep-alive closes after its answer as well
  const b = await rawRequest(port, 'GET /one-oh HTTP/1.0\r\nHost: x\r\n\r\nGET /after-one-oh HTTP/1.1\r\nHost: x\r\n\r\n');
  t.ok(b.closed, 'closed');
  t.ok((b.text.match(/HTTP\/1\.[01] /g) ?? []).length <= 1, 'at most one answer');
  // the gateway's own closing answer (400 for a bad Host) ends the connection: what follows is not served
  const c = await rawRequest(port, 'GET /bad HTTP/1.1\r\nHost: bad host\r\n\r\nPOST /after-bad HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nxxDELETE /after-bad-2 HTTP/1.1\r\nHost: x\r\n\r\n');
  t.equal(c.status, 400);
  t.equal((c.text.match(/HTTP\/1\.1 /g) ?? []).length, 1, 'only the 400');
  t.ok(c.closed, 'closed');
  await settle();
  const seen = be.requests.map((r) => r.url);
  t.notOk(seen.includes('/after-bad') || seen.includes('/after-bad-2') || seen.includes('/second') || seen.includes('/after-one-oh'), `the backend saw no unanswered request (saw ${JSON.stringify(seen)})`);
});

t.test('pipelined keep-alive requests are all forwarded and answered in order', async (t) => {
  const { port, be } = await setup(t);
  const a = await rawRequest(port, 'GET /1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhiGET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  t.equal((a.text.match(/HTTP\/1\.1 200/g) ?? []).length, 3, 'three answers');
  await settle();
  t.same(be.requests.map((r) => r.url).sort(), ['/1', '/2', '/3'], 'all three forwarded');
  t.match(a.text, /"path":"\/1"[\s\S]*"path":"\/2"[\s\S]*"path":"\/3"/, 'answered in order');
});
