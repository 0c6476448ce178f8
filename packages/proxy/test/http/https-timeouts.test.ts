/**
 * Slow clients over TLS (HTTP/1.1 after termination): the headers and request timeouts apply as on
 * plain HTTP, on both engines (the fast engine's sweep; for the node engine, whose node:http-over-TLS
 * path has no connection checker, the HttpsTerminator's own sweep).
 */
import tls from 'node:tls';
import t from 'tap';
import { startEchoServer } from '../../src/echo-server.js';
import { GatehouseRuntime } from '../../src/runtime.js';
import { selfSigned } from '../helpers/certs.js';
import { backend, emptyStatus, freePort, table } from '../helpers/ir.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

interface TlsAnswer {
  text: string;
  closedAfterMs: number;
}

/** Writes `parts` over TLS `gapMs` apart; resolves with what came back when the gateway closes (or after `waitMs`). */
function slowTls(port: number, parts: string[], gapMs: number, waitMs = 5000): Promise<TlsAnswer> {
  return new Promise((resolve) => {
    const start = Date.now();
    let text = '';
    let done = false;
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'example.org', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ text, closedAfterMs: Date.now() - start });
    };
    const timer = setTimeout(finish, waitMs);
    s.on('data', (d: Buffer) => (text += d.toString('latin1')));
    s.on('close', finish);
    s.on('error', finish);
    s.on('secureConnect', async () => {
      for (const p of parts) {
        if (done || s.destroyed) return;
        s.write(p);
        await new Promise((r) => setTimeout(r, gapMs));
      }
    });
  });
}

for (const engine of ['fast', 'node'] as const) {
  t.test(`HTTPS, ${engine} engine: slowloris → 408 and closed; an unfinished body is cut; a normal request is served`, async (t) => {
    const echo = await startEchoServer({ name: 'a' });
    const port = await freePort();
    const tbl = table(
      [{ port, protocol: 'TLS', groups: [{ hostname: null, certificate: 0, rules: [{ path: '/', refs: [{ backend: 0 }] }] }] }],
      [backend('a', [{ address: '127.0.0.1', port: echo.port }])],
      [selfSigned('ns/default', ['example.org'])],
    );
    const rt = new GatehouseRuntime({ bindAddress: '127.0.0.1', logger: quiet, httpEngine: engine, limits: { headersTimeoutMs: 400, requestTimeoutMs: 800, idleTimeoutMs: 60_000 } });
    await rt.apply(tbl, emptyStatus);
    t.teardown(async () => {
      await rt.close(100);
      await echo.close();
    });
    t.equal(rt.httpEngine, engine);
    // a head trickled one line every 150 ms, never finished
    const slow = await slowTls(port, ['GET / HTTP/1.1\r\nHost: example.org\r\n', ...Array.from({ length: 40 }, (_, i) => `X-Slow-${i}: v\r\n`)], 150);
    t.match(slow.text, /^HTTP\/1\.1 408 /, `408 (got ${JSON.stringify(slow.text.slice(0, 30))})`);
    t.ok(slow.closedAfterMs >= 350 && slow.closedAfterMs < 2600, `closed after the headers timeout + the 1 s sweep (${slow.closedAfterMs} ms)`);
    // the same after an answered request on a keep-alive connection: the next head is timed too
    const second = await slowTls(port, ['GET /first HTTP/1.1\r\nHost: example.org\r\n\r\n', 'GET /second HTTP/1.1\r\n', ...Array.from({ length: 40 }, (_, i) => `X-Slow-${i}: v\r\n`)], 150);
    t.match(second.text, /^HTTP\/1\.1 200 [\s\S]*HTTP\/1\.1 408 /, 'the first answered, the trickled second one 408');
    t.ok(second.closedAfterMs < 3000, `closed (${second.closedAfterMs} ms)`);
    // a body that never finishes
    const body = await slowTls(port, ['POST / HTTP/1.1\r\nHost: example.org\r\nContent-Length: 100\r\n\r\nabc'], 50, 5000);
    t.ok(body.closedAfterMs < 3000, `an unfinished body is cut (${body.closedAfterMs} ms)`);
    // a head sent at a normal pace is served, and the connection stays open (keep-alive)
    const ok = await slowTls(port, ['GET /fine HTTP/1.1\r\nHost: example.org\r\n\r\n'], 10, 1500);
    t.match(ok.text, /^HTTP\/1\.1 200 /, 'served');
    t.ok(ok.closedAfterMs >= 1400, 'kept open');
  });
}
