/**
 * The last-resort classification (cli `run` keeps serving after every unhandled error and labels its log line
 * `class: operational|programmer` with this function; test/ops/process-errors.e2e.test.ts in the cli) and the error table.
 */
import t from 'tap';
import { isOperationalError, replyForUpstreamError } from '../../src/errors.js';
import { PARSER_ERROR_TABLE, checkTransferEncoding, replyForParserError, resolveLimits, setDefaultLimits } from '../../src/limits.js';

t.test('isOperationalError', async (t) => {
  for (const code of ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'HPE_INVALID_METHOD', 'UND_ERR_SOCKET', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_HTTP2_STREAM_ERROR', 'GH_ERR_LISTEN'])
    t.ok(isOperationalError(Object.assign(new Error('x'), { code })), code);
  t.ok(isOperationalError(Object.assign(new Error('x'), { syscall: 'read' })), 'syscall');
  t.notOk(isOperationalError(new TypeError('undefined is not a function')), 'TypeError');
  t.notOk(isOperationalError(new RangeError('x')), 'RangeError');
  t.notOk(isOperationalError(Object.assign(new Error('x'), { code: 'ERR_INVALID_ARG_TYPE' })), 'ERR_INVALID_ARG_TYPE is a bug');
  t.notOk(isOperationalError('string'), 'a thrown string');
  t.notOk(isOperationalError(null));
});

t.test('parser error table and Transfer-Encoding check', async (t) => {
  t.equal(replyForParserError('HPE_HEADER_OVERFLOW')!.status, 431);
  t.equal(replyForParserError('ERR_HTTP_REQUEST_TIMEOUT')!.status, 408);
  t.equal(replyForParserError('HPE_SOMETHING_NEW')!.status, 400, 'unknown HPE_* → 400');
  t.equal(replyForParserError('ECONNRESET'), null, 'socket errors get no answer');
  for (const r of Object.values(PARSER_ERROR_TABLE)) t.match(r.bytes.toString(), /\r\nconnection: close\r\n/);
  t.equal(checkTransferEncoding('chunked'), 0);
  t.equal(checkTransferEncoding('Chunked'), 0);
  t.equal(checkTransferEncoding('gzip'), 501);
  t.equal(checkTransferEncoding('gzip, chunked'), 501);
  t.equal(checkTransferEncoding('chunked, gzip'), 400);
  t.equal(checkTransferEncoding('chunked,chunked'), 400);
  t.equal(checkTransferEncoding(''), 400);
  t.equal(checkTransferEncoding('chunked, '), 400);
  t.equal(checkTransferEncoding('ch@nked'), 400);
  t.equal(replyForUpstreamError(Object.assign(new Error('x'), { code: 'UND_ERR_CONNECT_TIMEOUT' })).status, 503);
  t.equal(replyForUpstreamError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })).status, 502);
});

t.test('limits: defaults, overrides, process-wide defaults', async (t) => {
  const d = resolveLimits();
  t.equal(d.maxHeaderBytes, 60 * 1024);
  t.equal(d.maxPendingPerBackend, 1024);
  t.equal(d.requestId, 'trust');
  t.equal(resolveLimits({ maxHeaderCount: -1 }).maxHeaderCount, 100, 'invalid → default');
  setDefaultLimits({ maxBodyBytes: 5, outlier: { consecutiveFailures: 2 } });
  t.teardown(() => setDefaultLimits({}));
  const p = resolveLimits({ maxUriBytes: 100 });
  t.equal(p.maxBodyBytes, 5);
  t.equal(p.maxUriBytes, 100);
  t.equal(p.outlier.consecutiveFailures, 2);
  t.equal(p.outlier.baseEjectionMs, 30_000);
});
