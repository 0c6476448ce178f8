/**
 * `gatehouse run --trust-forwarded` through the real CLI, on both HTTP/1.1 engines: with the flag the
 * client address is appended to an incoming X-Forwarded-For and an incoming X-Forwarded-Proto is kept;
 * without it both are overwritten with what the gateway saw.
 */
import t from 'tap';
import http from 'node:http';
import { gatehouse, quickstartEnv, waitReady, withTimeout } from './e2e-helpers.js';

interface Echoed {
  headers: Record<string, string[]>;
}

function forwardedHeaders(port: number): Promise<Echoed['headers']> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        agent: false,
        headers: { host: 'www.example.com', 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' },
      },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}: ${body}`));
          else resolve((JSON.parse(body) as Echoed).headers);
        });
      },
    );
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
  });
}

for (const engine of ['fast', 'node'] as const) {
  for (const trust of [true, false]) {
    t.test(`${engine} engine, ${trust ? 'with' : 'without'} --trust-forwarded`, async (t) => {
      const env = await quickstartEnv();
      t.teardown(env.close);
      const args = ['run', env.dir, '--admin', `127.0.0.1:${env.admin}`, '--access-log', 'off', '--no-watch', '--http-engine', engine];
      if (trust) args.push('--trust-forwarded');
      const p = gatehouse(args);
      t.teardown(() => void p.child.kill('SIGKILL'));
      await waitReady(env.admin, p);
      const h = await forwardedHeaders(env.port);
      if (trust) {
        t.same(h['X-Forwarded-For'], ['203.0.113.7, 127.0.0.1'], 'the client address is appended to the incoming X-Forwarded-For');
        t.same(h['X-Forwarded-Proto'], ['https'], 'the incoming X-Forwarded-Proto is kept');
      } else {
        t.same(h['X-Forwarded-For'], ['127.0.0.1'], 'the incoming X-Forwarded-For is overwritten with the client address');
        t.same(h['X-Forwarded-Proto'], ['http'], 'X-Forwarded-Proto says what the gateway saw');
      }
      p.child.kill('SIGTERM');
      t.equal((await withTimeout(p.exited, 8000, 'exit')).code, 0);
    });
  }
}
