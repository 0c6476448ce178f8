/**
 * A backend that answers one request with two responses in the same bytes (a buggy or hostile upstream)
 * must never have the unrequested second response delivered to another request, even when the next
 * request is pipelined on the same client connection and would reuse the same upstream socket at once.
 * Runs on whichever engine the runtime selects (test/fast/engine-suites.test.ts runs it on the other).
 */
import net from 'node:net';
import t, { type Test } from 'tap';
import { gateway } from '../helpers/gateway.js';
import { backend, freePort, table } from '../helpers/ir.js';
import { raw } from '../helpers/client.js';

/**
 * A raw backend: the first request of every connection gets its answer plus `extra` appended (a whole
 * unrequested `EVIL` response by default).
 */
async function doubleAnswerBackend(extra = 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nEVIL'): Promise<{ port: number; requests: () => number; close: () => void }> {
  let requests = 0;
  const server = net.createServer((s) => {
    let buf = '';
    let first = true;
    s.on('data', (d) => {
      buf += d.toString('latin1');
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) !== -1) {
        const line = buf.slice(0, buf.indexOf('\r\n'));
        buf = buf.slice(end + 4);
        requests++;
        const path = line.split(' ')[1];
        const body = `real ${path}`;
        let out = `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
        if (first) out += extra;
        first = false;
        s.write(out);
      }
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return { port, requests: () => requests, close: () => server.close() };
}

/**
 * A gateway in front of a backend that appends `extra` to its first answer on every connection: the
 * pipelined second request and then `sequential` fresh requests must each get their own response, and
 * nothing matching `leaked` may reach a client.
 */
async function checkNoLeak(t: Test, extra: string | undefined, leaked: RegExp, sequential: number): Promise<void> {
  const be = await doubleAnswerBackend(extra);
  t.teardown(be.close);
  const port = await freePort();
  const { rt, port: gw } = await gateway(table([{ port, groups: [{ rules: [{ path: '/', refs: [{ backend: 0 }] }] }] }], [backend('be', [{ address: '127.0.0.1', port: be.port }])]));
  t.teardown(() => rt.close(0));

  // pipelined: the second request starts as soon as the first answer completes
  const pipelined = await raw(gw, 'GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', 3000);
  t.match(pipelined, /real \/one/, 'first answer');
  t.match(pipelined, /real \/two/, 'second request answered by its own response');
  t.notMatch(pipelined, leaked, 'the unrequested bytes reached no client');

  // then fresh connections, which may reuse the upstream socket
  for (let i = 0; i < sequential; i++) {
    const a = await raw(gw, `GET /seq${i} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`, 3000);
    t.match(a, new RegExp(`^HTTP/1.1 200 [^]*real /seq${i}`), `request ${i} answered by its own response`);
    t.notMatch(a, leaked);
  }
}

t.test('an unrequested second response from the upstream never answers another request', async (t) => {
  await checkNoLeak(t, undefined, /EVIL/, 4);
});

t.test('a partial unrequested message after a response never reaches the next request on that socket', async (t) => {
  // the start of a second response head: a reused socket would parse the next real answer as its rest
  await checkNoLeak(t, 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\nX-Smuggled: ', /smuggled/i, 3);
});
