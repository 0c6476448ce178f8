/**
 * Hostile and malformed HTTP/1.x requests over raw sockets: each row is raw bytes → the expected status
 * line, the connection closed, and the recording backend saw nothing (not even a TCP connection).
 */
import t from 'tap';
import { gatewayInFront, rawRequest, recordingBackend } from './harness.js';
import { H, HOSTILE } from './hostile-table.js';

t.test('malformed and hostile requests: answered, closed, never forwarded', async (t) => {
  const be = await recordingBackend();
  const gw = await gatewayInFront(t, be, {}, 'rec');
  // a valid request first: the backend and the harness work
  const ok = await rawRequest(gw.port, `GET /ok HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
  t.equal(ok.status, 200, 'a well-formed request is forwarded');
  t.equal(be.requests.length, 1);
  const before = { c: be.connections(), b: be.bytes(), r: be.requests.length };
  for (const [name, bytes, status] of HOSTILE) {
    const a = await rawRequest(gw.port, bytes);
    t.match(a.statusLine, new RegExp(`^HTTP/1\\.1 ${status} `), `${name}: ${status} (got ${JSON.stringify(a.statusLine)})`);
    t.ok(a.closed, `${name}: connection closed`);
    if (a.status !== 0) t.match(a.text, /\r\nconnection: close\r\n/i, `${name}: Connection: close`);
  }
  // give any stray forward the chance to arrive
  await new Promise((r) => setTimeout(r, 100));
  t.equal(be.requests.length, before.r, 'the backend saw no request');
  t.equal(be.bytes(), before.b, 'the backend received no byte');
  t.equal(be.connections(), before.c, 'the backend saw no new connection');
  t.ok(HOSTILE.length >= 30, `${HOSTILE.length} hostile requests`);
});
