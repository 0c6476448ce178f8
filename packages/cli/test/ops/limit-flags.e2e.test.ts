/**
 * The limit flags of `gatehouse run` (docs/reliability.md §2) parse and take effect through the real
 * CLI: each limit is set well below its default, and a request just under it is served while one over
 * it gets the documented status, over plain loopback sockets. ~3 s.
 */
import http2 from 'node:http2';
import net from 'node:net';
import t from 'tap';
import { gatehouse, quickstartEnv, waitReady, withTimeout } from './e2e-helpers.js';

const H = 'Host: www.example.com\r\n';

/** Raw bytes to `port`; the status of the first answer and whether the gateway closed (bounded by waitMs). */
function raw(port: number, data: string | string[], waitMs = 3000, gapMs = 50): Promise<{ status: number; statusLine: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    let closed = false;
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      const statusLine = got.split('\r\n')[0];
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0), statusLine, closed });
    };
    const timer = setTimeout(done, waitMs);
    s.on('data', (d: Buffer) => (got += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => {
      closed = true;
      done();
    });
    const parts = typeof data === 'string' ? [data] : data;
    s.once('connect', async () => {
      for (let i = 0; i < parts.length && !s.destroyed; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, gapMs));
        s.write(parts[i]);
      }
    });
  });
}

t.test('limit flags: --max-header-size, --max-headers, --max-uri-size, --max-body-size, --headers-timeout, --max-streams', async (t) => {
  const env = await quickstartEnv();
  t.teardown(env.close);
  const p = gatehouse([
    'run', env.dir, '--admin', `127.0.0.1:${env.admin}`, '--access-log', 'off',
    '--max-header-size', '1k', '--max-headers', '8', '--max-uri-size', '512', '--max-body-size', '100',
    '--headers-timeout', '500ms', '--max-streams', '3',
  ]);
  t.teardown(() => void p.child.kill('SIGKILL'));
  await waitReady(env.admin, p);
  const close = 'Connection: close\r\n';
  const cases: [string, string | string[], number][] = [
    // --max-header-size 1k (default 60 KiB): a 600-byte header passes, a 2 KiB one is refused
    ['600-byte header', `GET / HTTP/1.1\r\n${H}${close}X-Pad: ${'a'.repeat(600)}\r\n\r\n`, 200],
    ['2 KiB header', `GET / HTTP/1.1\r\n${H}${close}X-Pad: ${'a'.repeat(2048)}\r\n\r\n`, 431],
    // --max-headers 8 (default 100): 6 fields pass, 12 are refused
    ['6 header fields', `GET / HTTP/1.1\r\n${H}${close}${Array.from({ length: 4 }, (_, i) => `X-H${i}: v\r\n`).join('')}\r\n`, 200],
    ['12 header fields', `GET / HTTP/1.1\r\n${H}${close}${Array.from({ length: 10 }, (_, i) => `X-H${i}: v\r\n`).join('')}\r\n`, 431],
    // --max-uri-size 512 (default 8 KiB): a 400-byte target passes, a 600-byte one is refused
    ['400-byte URI', `GET /${'u'.repeat(399)} HTTP/1.1\r\n${H}${close}\r\n`, 200],
    ['600-byte URI', `GET /${'u'.repeat(599)} HTTP/1.1\r\n${H}${close}\r\n`, 414],
    // --max-body-size 100 (default unlimited)
    ['100-byte body', `POST / HTTP/1.1\r\n${H}${close}Content-Length: 100\r\n\r\n${'b'.repeat(100)}`, 200],
    ['101-byte body', `POST / HTTP/1.1\r\n${H}${close}Content-Length: 101\r\n\r\n${'b'.repeat(101)}`, 413],
  ];
  for (const [name, bytes, status] of cases) {
    const a = await raw(env.port, bytes);
    t.equal(a.status, status, `${name}: ${status} (${a.statusLine})`);
  }
  // --headers-timeout 500ms (default 10 s): a head trickled line by line is cut with 408
  const start = Date.now();
  const slow = await raw(env.port, ['GET / HTTP/1.1\r\n', ...Array.from({ length: 40 }, (_, i) => `X-Slow-${i}: v\r\n`)], 5000, 100);
  const ms = Date.now() - start;
  t.equal(slow.status, 408, `slow head: 408 (${slow.statusLine})`);
  t.ok(slow.closed, 'and closed');
  t.ok(ms >= 400 && ms < 2500, `after the 500 ms headers timeout + the 1 s sweep (${ms} ms)`);
  // --max-streams 3 (default 100): advertised on h2c
  const session = http2.connect(`http://127.0.0.1:${env.port}`);
  session.on('error', () => undefined);
  t.teardown(() => session.destroy());
  await withTimeout(new Promise((r) => session.once('remoteSettings', r)), 3000, 'h2c SETTINGS');
  t.equal(session.remoteSettings.maxConcurrentStreams, 3, 'SETTINGS_MAX_CONCURRENT_STREAMS = 3');
});

t.test('an invalid limit flag: exit 2 naming the flag', async (t) => {
  const env = await quickstartEnv();
  t.teardown(env.close);
  for (const args of [['--max-header-size', '1x'], ['--max-streams', '1.5'], ['--headers-timeout', 'soon']]) {
    const p = gatehouse(['run', env.dir, '--admin', `127.0.0.1:${env.admin}`, ...args]);
    t.teardown(() => void p.child.kill('SIGKILL'));
    const ex = await withTimeout(p.exited, 8000, 'exit');
    t.equal(ex.code, 2, `${args.join(' ')}: exit 2`);
    t.match(p.stderr(), new RegExp(`^gatehouse run: ${args[0]}`), `${args.join(' ')}: the message names the flag`);
  }
});
