/** x-request-id (trust | always-new | off) and traceparent passed through unchanged. */
import t, { type Test } from 'tap';
import { requestLogObject } from '../../src/access-log.js';
import { backend, freePort, table } from '../helpers/ir.js';
import { rawRequest, recordingBackend, startGateway } from './harness.js';
import { newRequestId } from '../../src/limits.js';

const UUIDISH = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function header(text: string, name: string): string | undefined {
  const m = new RegExp(`\\r\\n${name}: ([^\\r]*)\\r\\n`, 'i').exec(text);
  return m?.[1];
}

async function setup(t: Test, mode?: 'trust' | 'always-new' | 'off') {
  const be = await recordingBackend();
  const port = await freePort();
  const tbl = table([{ port, groups: [{ rules: [{ path: '/app', refs: [{ backend: 0 }] }] }] }], [backend('rec', [{ address: '127.0.0.1', port: be.port }])]);
  const gw = await startGateway(tbl, mode === undefined ? {} : { limits: { requestId: mode } });
  t.teardown(async () => {
    await gw.close();
    await be.close();
  });
  return { be, gw };
}

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

t.test('generated ids: unique, UUID-shaped', async (t) => {
  const seen = new Set<string>();
  for (let i = 0; i < 10_000; i++) seen.add(newRequestId());
  t.equal(seen.size, 10_000);
  t.match(newRequestId(), UUIDISH);
});

t.test('trust (default): generated when absent, kept when present; forwarded, returned, logged', async (t) => {
  const { be, gw } = await setup(t);
  const a = await rawRequest(gw.port, `GET /app HTTP/1.1\r\nHost: x\r\ntraceparent: ${TP}\r\nConnection: close\r\n\r\n`);
  t.equal(a.status, 200);
  const id = header(a.text, 'x-request-id');
  t.match(id, UUIDISH, 'generated and returned');
  t.equal(be.requests[0].headers['x-request-id'], id, 'forwarded');
  t.equal(be.requests[0].headers.traceparent, TP, 'traceparent unchanged');
  t.equal(gw.records.at(-1)?.requestId, id, 'in the RequestRecord');
  t.equal(requestLogObject(gw.records.at(-1)!).request_id, id, 'in the access log line');
  const b = await rawRequest(gw.port, `GET /app HTTP/1.1\r\nHost: x\r\nX-Request-ID: client-id-1\r\nConnection: close\r\n\r\n`);
  t.equal(header(b.text, 'x-request-id'), 'client-id-1', 'kept');
  t.equal(be.requests[1].headers['x-request-id'], 'client-id-1');
  t.equal(be.requests[1].rawHeaders.filter((h) => h.toLowerCase() === 'x-request-id').length, 1, 'exactly one upstream');
  const c = await rawRequest(gw.port, `GET /app HTTP/1.1\r\nHost: x\r\nX-Request-ID: ${'z'.repeat(300)}\r\nConnection: close\r\n\r\n`);
  t.match(header(c.text, 'x-request-id'), UUIDISH, 'an unacceptable id (too long) is replaced');
  // the gateway's own answers carry it too
  const d = await rawRequest(gw.port, `GET /nothing HTTP/1.1\r\nHost: x\r\nx-request-id: lost-1\r\nConnection: close\r\n\r\n`);
  t.equal(d.status, 404);
  t.equal(header(d.text, 'x-request-id'), 'lost-1');
  t.equal(gw.records.at(-1)?.requestId, 'lost-1');
});

t.test('always-new replaces the client id', async (t) => {
  const { be, gw } = await setup(t, 'always-new');
  const a = await rawRequest(gw.port, `GET /app HTTP/1.1\r\nHost: x\r\nx-request-id: spoofed\r\ntraceparent: ${TP}\r\nConnection: close\r\n\r\n`);
  const id = header(a.text, 'x-request-id');
  t.match(id, UUIDISH);
  t.equal(be.requests[0].headers['x-request-id'], id);
  t.equal(be.requests[0].headers.traceparent, TP);
});

t.test('off: nothing added, a client id passes through untouched', async (t) => {
  const { be, gw } = await setup(t, 'off');
  const a = await rawRequest(gw.port, `GET /app HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  t.equal(header(a.text, 'x-request-id'), undefined);
  t.equal(be.requests[0].headers['x-request-id'], undefined);
  await rawRequest(gw.port, `GET /app HTTP/1.1\r\nHost: x\r\nx-request-id: mine\r\nConnection: close\r\n\r\n`);
  t.equal(be.requests[1].headers['x-request-id'], 'mine');
  t.equal(gw.records.at(-1)?.requestId, undefined);
});
