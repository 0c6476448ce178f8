/**
 * Response bodies of known length on the fast engine, both ways it reads them: around the parser
 * (`rawBodies`, the default where the binding contract holds: the head ends the parse and the body is
 * counted off the socket) and through llhttp's kOnBody (the fallback). Each case runs on both and checks
 * what a client sees: the exact bytes, where one response ends and the next begins on a reused upstream
 * socket, and that nothing after a response is ever taken for the next one.
 */
import * as http from 'node:http';
import { createHash } from 'node:crypto';
import type net from 'node:net';
import t, { type Test } from 'tap';
import { bindingContract } from '../../src/fast/binding.js';
import { fastEngineOf } from '../../src/fast/engine.js';
import { backend, freePort, table } from '../helpers/ir.js';
import { eventually, runtimeGateway, type GatewayUnderTest } from '../hardening/harness.js';
import { rawBackend } from '../faults/helpers.js';

const contract = bindingContract();

async function gatewayTo(t: Test, bePort: number, raw: boolean): Promise<GatewayUnderTest> {
  const port = await freePort();
  const tbl = table([{ port, groups: [{ rules: [{ path: '/', refs: [{ backend: 0 }] }] }] }], [backend('be', [{ address: '127.0.0.1', port: bePort }])]);
  const gw = await runtimeGateway(tbl, { httpEngine: 'fast' });
  t.teardown(() => gw.close());
  const fast = fastEngineOf(gw.rt.engine);
  if (fast === null) throw new Error('no fast engine');
  fast.pools.rawBodies = raw;
  return gw;
}

/** Sequential GETs over one keep-alive client connection; each answer's status and body. */
async function getAll(port: number, paths: string[], slowReader = false): Promise<{ status: number; body: Buffer }[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const out: { status: number; body: Buffer }[] = [];
  try {
    for (const path of paths) {
      out.push(
        await new Promise((resolve, reject) => {
          const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => {
              chunks.push(c);
              if (slowReader) {
                // a long stall first, so the kernel's buffers fill and the gateway's writes must wait
                res.pause();
                setTimeout(() => res.resume(), chunks.length === 1 ? 150 : 1);
              }
            });
            res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
            res.on('error', reject);
          });
          req.on('error', reject);
          req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
        }),
      );
    }
  } finally {
    agent.destroy();
  }
  return out;
}

const pattern = (n: number, seed: number): Buffer => {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
};
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

for (const raw of [true, false]) {
  const mode = raw ? 'read around the parser' : 'read through kOnBody';
  t.test(`bodies of known length, ${mode}`, { skip: raw && contract.rawBodies !== true ? 'the binding contract does not allow raw bodies' : false }, async (t) => {
    t.test('bodies in every split: whole with the head, after it, in many small reads, 1 MiB; one upstream socket for all', async (t) => {
      const bodies: Record<string, Buffer> = { '/small': pattern(100, 1), '/mid': pattern(20_000, 2), '/split': pattern(5_000, 3), '/big': pattern(1 << 20, 4), '/empty': Buffer.alloc(0) };
      const be = await rawBackend((s: net.Socket, head: string) => {
        const path = head.split(' ')[1];
        const body = bodies[path];
        const h = `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`;
        if (path === '/split') {
          // the head alone, then the body in 50 writes 2 ms apart
          s.write(h);
          let i = 0;
          const step = (): void => {
            if (s.destroyed) return;
            s.write(body.subarray(i * 100, (i + 1) * 100));
            if (++i < 50) setTimeout(step, 2);
          };
          setTimeout(step, 5);
        } else s.write(Buffer.concat([Buffer.from(h, 'latin1'), body]));
      });
      t.teardown(() => be.close());
      const gw = await gatewayTo(t, be.port, raw);
      const order = ['/small', '/mid', '/split', '/big', '/empty', '/small', '/big', '/split', '/small'];
      const answers = await getAll(gw.port, order);
      for (let i = 0; i < order.length; i++) {
        t.equal(answers[i].status, 200, `${order[i]} status`);
        t.equal(sha(answers[i].body), sha(bodies[order[i]]), `${order[i]} (#${i}) body, ${bodies[order[i]].length} bytes`);
      }
      t.equal(be.connections(), 1, 'every response read off one reused upstream socket');
      t.same(
        gw.records.map((r) => r.bytesOut),
        order.map((p) => bodies[p].length),
        'bytes_out of each request',
      );
    });

    t.test('6 MiB to slow readers on two connections at once: every byte, in order (the shared read buffer is never written out late)', async (t) => {
      const bigs = [pattern(6 << 20, 9), pattern(6 << 20, 77)];
      const be = await rawBackend((s, head) => {
        const big = bigs[Number(head.split(' ')[1].slice(1)) % 2];
        s.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${big.length}\r\n\r\n`, 'latin1'), big]));
      });
      t.teardown(() => be.close());
      const gw = await gatewayTo(t, be.port, raw);
      const [a, b] = await Promise.all([getAll(gw.port, ['/0', '/1'], true), getAll(gw.port, ['/1', '/0'], true)]);
      t.equal(sha(a[0].body), sha(bigs[0]), 'client 1, first body intact');
      t.equal(sha(a[1].body), sha(bigs[1]), 'client 1, second body intact');
      t.equal(sha(b[0].body), sha(bigs[1]), 'client 2, first body intact');
      t.equal(sha(b[1].body), sha(bigs[0]), 'client 2, second body intact');
      t.equal(be.connections(), 2, 'two upstream sockets reading into the same buffer');
    });

    t.test('bytes after a response in the same read are not the next response: the socket is dropped', async (t) => {
      let n = 0;
      const be = await rawBackend((s) => {
        n++;
        if (n === 1) s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirstHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nunasked!');
        else s.write(`HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nreal-${n}`);
      });
      t.teardown(() => be.close());
      const gw = await gatewayTo(t, be.port, raw);
      const answers = await getAll(gw.port, ['/a', '/b']);
      t.equal(answers[0].body.toString(), 'first');
      t.equal(answers[1].body.toString(), 'real-2', 'the second request got its own answer, not the unrequested one');
      t.equal(be.connections(), 2, 'a new upstream socket for the second request');
    });

    t.test('204 and 304 with a Content-Length have no body; the next response on the socket is read right', async (t) => {
      const be = await rawBackend((s, head) => {
        const path = head.split(' ')[1];
        if (path === '/204') s.write('HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n');
        else if (path === '/304') s.write('HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n');
        else s.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext');
      });
      t.teardown(() => be.close());
      const gw = await gatewayTo(t, be.port, raw);
      const answers = await getAll(gw.port, ['/204', '/x', '/304', '/x']);
      t.same(
        answers.map((a) => [a.status, a.body.toString()]),
        [
          [204, ''],
          [200, 'next'],
          [304, ''],
          [200, 'next'],
        ],
      );
      t.equal(be.connections(), 1, 'one upstream socket');
    });

    t.test('the upstream closes in the middle of a body: the client never sees a complete response', async (t) => {
      const be = await rawBackend((s) => {
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n' + 'z'.repeat(70_000));
        setTimeout(() => s.end(), 30);
      });
      t.teardown(() => be.close());
      const gw = await gatewayTo(t, be.port, raw);
      const r = await new Promise<{ complete: boolean; got: number }>((resolve) => {
        let got = 0;
        const req = http.get({ host: '127.0.0.1', port: gw.port, path: '/', agent: false }, (res) => {
          res.on('data', (c: Buffer) => (got += c.length));
          res.on('end', () => resolve({ complete: res.complete, got }));
          res.on('error', () => resolve({ complete: false, got }));
          res.on('aborted', () => resolve({ complete: false, got }));
        });
        req.on('error', () => resolve({ complete: false, got }));
      });
      t.equal(r.complete, false, `incomplete (${r.got} of 100000 bytes)`);
      t.ok(r.got <= 70_000, 'no byte invented');
      t.ok(await eventually(() => gw.rt.upstreamStats().running === 0), 'nothing left running in the pool');
    });
  });
}
