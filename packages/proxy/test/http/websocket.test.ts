import net from 'node:net';
import t from 'tap';
import { decodeFrame, encodeFrame, startEchoServer } from '../../src/echo-server.js';
import { gateway } from '../helpers/gateway.js';
import { backend, freePort, table } from '../helpers/ir.js';

function wsConnect(port: number, path: string, host: string): Promise<{ socket: net.Socket; head: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    s.on('error', reject);
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      s.removeListener('data', onData);
      resolve({ socket: s, head: buf.subarray(0, end).toString(), rest: buf.subarray(end + 4) });
    };
    s.on('data', onData);
    s.write(
      `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}

function nextFrame(s: net.Socket, initial: Buffer): Promise<{ opcode: number; payload: Buffer }> {
  return new Promise((resolve) => {
    let buf = initial;
    const check = (): boolean => {
      const f = decodeFrame(buf);
      if (f === null) return false;
      s.removeListener('data', onData);
      resolve(f);
      return true;
    };
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      check();
    };
    if (!check()) s.on('data', onData);
  });
}

t.test('WebSocket upgrade is proxied both ways', async (t) => {
  const a = await startEchoServer({ name: 'a' });
  const port = await freePort();
  const tbl = table(
    [{ port, groups: [{ rules: [{ path: '/ws', refs: [{ backend: 0 }] }, { path: '/wsx', refs: [{ backend: 1 }] }] }] }],
    [backend('a', [{ address: '127.0.0.1', port: a.port }], 'ws'), backend('dead', [{ address: '127.0.0.1', port: await freePort() }])],
  );
  const { rt, port: gw } = await gateway(tbl);
  t.teardown(async () => {
    await rt.close(100);
    await a.close();
  });
  const { socket, head, rest } = await wsConnect(gw, '/ws', 'x');
  t.match(head, /^HTTP\/1\.1 101/);
  t.match(head, /Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/i);
  socket.write(encodeFrame(1, Buffer.from('hello through the gateway'), true));
  const f = await nextFrame(socket, rest);
  t.equal(f.opcode, 1);
  t.equal(f.payload.toString(), 'hello through the gateway');
  const big = Buffer.alloc(200_000, 7);
  socket.write(encodeFrame(2, big, true));
  const g = await nextFrame(socket, Buffer.alloc(0));
  t.equal(g.payload.length, big.length, 'a large binary frame round-trips');
  socket.destroy();

  const refused = await wsConnect(gw, '/wsx', 'x');
  t.match(refused.head, /^HTTP\/1\.1 502/, 'unreachable backend → 502 on the raw socket');
  refused.socket.destroy();
  const none = await wsConnect(gw, '/nothing', 'x');
  t.match(none.head, /^HTTP\/1\.1 404/);
  none.socket.destroy();
});

t.test('a non-WebSocket upgrade (h2c) is declined and served as HTTP/1.1', async (t) => {
  const a = await startEchoServer({ name: 'a' });
  const port = await freePort();
  const tbl = table([{ port, groups: [{ rules: [{ path: '/', refs: [{ backend: 0 }] }] }] }], [backend('a', [{ address: '127.0.0.1', port: a.port }])]);
  const { rt, port: gw } = await gateway(tbl);
  t.teardown(async () => {
    await rt.close(100);
    await a.close();
  });
  const s = net.connect(gw, '127.0.0.1');
  let out = '';
  s.on('data', (c) => (out += c.toString('latin1')));
  s.write('GET /first HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n');
  const until = Date.now() + 2000;
  while (!out.includes('"/first"') && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  t.match(out, /^HTTP\/1\.1 200/);
  t.notMatch(out, /"Upgrade"/, 'the upgrade headers are not forwarded');
  out = '';
  s.write('GET /second HTTP/1.1\r\nHost: x\r\n\r\n');
  const until2 = Date.now() + 2000;
  while (!out.includes('"/second"') && Date.now() < until2) await new Promise((r) => setTimeout(r, 10));
  t.match(out, /^HTTP\/1\.1 200/, 'the connection keeps serving HTTP/1.1');
  s.destroy();
});
