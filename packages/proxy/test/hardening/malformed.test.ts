/**
 * Hostile and malformed HTTP/1.x requests over raw sockets: each row is raw bytes → the expected status
 * line, the connection closed, and the recording backend saw nothing (not even a TCP connection).
 */
import t from 'tap';
import { backend, freePort, table } from '../helpers/ir.js';
import { rawRequest, recordingBackend, startGateway } from './harness.js';

const H = 'Host: example.com\r\n';

/** [name, raw request, expected status]. */
export const HOSTILE: [string, string | Buffer | string[], number][] = [
  // ---- request smuggling: framing
  ['CL + TE', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400],
  ['TE + CL', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`, 400],
  ['duplicate identical Content-Length', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`, 400],
  ['conflicting Content-Length', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`, 400],
  ['Content-Length list', `POST / HTTP/1.1\r\n${H}Content-Length: 5, 5\r\n\r\nhello`, 400],
  ['Content-Length not a number', `POST / HTTP/1.1\r\n${H}Content-Length: abc\r\n\r\n`, 400],
  ['Content-Length negative', `POST / HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`, 400],
  ['Content-Length with sign', `POST / HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\nhello`, 400],
  ['Content-Length hex', `POST / HTTP/1.1\r\n${H}Content-Length: 0x5\r\n\r\nhello`, 400],
  ['Content-Length overflow', `POST / HTTP/1.1\r\n${H}Content-Length: 99999999999999999999999\r\n\r\n`, 400],
  ['TE gzip (unknown coding)', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\nhello`, 501],
  ['TE gzip, chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`, 501],
  ['TE identity', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n\r\n`, 501],
  ['TE xchunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`, 501],
  ['TE chunked, gzip (chunked not last)', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n`, 400],
  ['TE chunked, chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n`, 400],
  ['TE header twice', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400],
  ['TE empty', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: \r\n\r\n`, 400],
  ['TE in HTTP/1.0', `POST / HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400],
  ['TE with vertical tab', `POST / HTTP/1.1\r\n${H}Transfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n`, 400],
  // ---- chunked bodies
  ['invalid chunk size', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`, 400],
  ['chunk size overflow', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\nhello\r\n0\r\n\r\n`, 400],
  ['chunk size with space', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n`, 400],
  ['chunk extension control byte', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a\x01b\r\nhello\r\n0\r\n\r\n`, 400],
  ['chunk size LF only', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n`, 400],
  ['chunk data without CRLF', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n`, 400],
  ['chunk size negative', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n`, 400],
  // ---- header syntax
  ['whitespace before colon', `GET / HTTP/1.1\r\n${H}X-Foo : bar\r\n\r\n`, 400],
  ['whitespace before colon (Content-Length)', `POST / HTTP/1.1\r\n${H}Content-Length : 5\r\n\r\nhello`, 400],
  ['space in header name', `GET / HTTP/1.1\r\n${H}X Foo: bar\r\n\r\n`, 400],
  ['non-token in header name', `GET / HTTP/1.1\r\n${H}X(Foo): bar\r\n\r\n`, 400],
  ['header without colon', `GET / HTTP/1.1\r\n${H}XFoo\r\n\r\n`, 400],
  ['obs-fold', `GET / HTTP/1.1\r\n${H}X-Foo: bar\r\n baz\r\n\r\n`, 400],
  ['obs-fold with tab', `GET / HTTP/1.1\r\n${H}X-Foo: bar\r\n\tbaz\r\n\r\n`, 400],
  ['NUL in header value', `GET / HTTP/1.1\r\n${H}X-Foo: a\x00b\r\n\r\n`, 400],
  ['bare CR in header value', `GET / HTTP/1.1\r\n${H}X-Foo: a\rb\r\n\r\n`, 400],
  ['bare LF line endings', `GET / HTTP/1.1\n${H.replace('\r', '')}\n`, 400],
  ['first header line starts with space', `GET / HTTP/1.1\r\n ${H}\r\n`, 400],
  // ---- request line
  ['invalid method token', `G@T / HTTP/1.1\r\n${H}\r\n`, 400],
  ['lower-case method', `get / HTTP/1.1\r\n${H}\r\n`, 400],
  ['unknown method', `FOO / HTTP/1.1\r\n${H}\r\n`, 400],
  ['HTTP/1.2', `GET / HTTP/1.2\r\n${H}\r\n`, 400],
  ['HTTP/2.0 on an HTTP/1 connection', `GET / HTTP/2.0\r\n${H}\r\n`, 400],
  ['HTTP/11', `GET / HTTP/11\r\n${H}\r\n`, 400],
  ['HTTP/0.9 (no version)', `GET /\r\n\r\n`, 400],
  ['lower-case version', `GET / http/1.1\r\n${H}\r\n`, 400],
  ['Content-Length with inner space', `POST / HTTP/1.1\r\n${H}Content-Length: 5 5\r\n\r\nhello`, 400],
  ['Content-Length trailing garbage', `POST / HTTP/1.1\r\n${H}Content-Length: 5x\r\n\r\nhello`, 400],
  ['raw space in target', `GET /a b HTTP/1.1\r\n${H}\r\n`, 400],
  ['NUL in target', `GET /a\x00b HTTP/1.1\r\n${H}\r\n`, 400],
  ['asterisk-form GET', `GET * HTTP/1.1\r\n${H}\r\n`, 400],
  ['authority-form GET', `GET example.com:80 HTTP/1.1\r\n${H}\r\n`, 400],
  ['encoded NUL in path', `GET /a%00 HTTP/1.1\r\n${H}\r\n`, 400],
  ['encoded CRLF in path', `GET /a%0d%0aSet-Cookie:x HTTP/1.1\r\n${H}\r\n`, 400],
  ['invalid percent-encoding', `GET /a%zz HTTP/1.1\r\n${H}\r\n`, 400],
  ['control char in query', `GET /?a=\x01 HTTP/1.1\r\n${H}\r\n`, 400],
  // ---- Host
  ['Host missing (HTTP/1.1)', `GET / HTTP/1.1\r\n\r\n`, 400],
  ['Host repeated', `GET / HTTP/1.1\r\n${H}Host: other.com\r\n\r\n`, 400],
  ['Host repeated, same value', `GET / HTTP/1.1\r\n${H}${H}\r\n`, 400],
  ['Host with space', `GET / HTTP/1.1\r\nHost: exa mple.com\r\n\r\n`, 400],
  ['Host with userinfo', `GET / HTTP/1.1\r\nHost: user@example.com\r\n\r\n`, 400],
  ['Host with path', `GET / HTTP/1.1\r\nHost: example.com/admin\r\n\r\n`, 400],
  ['Host with bad port', `GET / HTTP/1.1\r\nHost: example.com:8x\r\n\r\n`, 400],
  ['absolute-form authority ≠ Host', `GET http://other.com/ HTTP/1.1\r\n${H}\r\n`, 400],
  ['absolute-form without authority', `GET http:///x HTTP/1.1\r\n${H}\r\n`, 400],
];

t.test('malformed and hostile requests: answered, closed, never forwarded', async (t) => {
  const be = await recordingBackend();
  const port = await freePort();
  const tbl = table([{ port, groups: [{ rules: [{ path: '/', refs: [{ backend: 0 }] }] }] }], [backend('rec', [{ address: '127.0.0.1', port: be.port }])]);
  const gw = await startGateway(tbl);
  t.teardown(async () => {
    await gw.close();
    await be.close();
  });
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
