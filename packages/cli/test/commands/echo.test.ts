import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const bin = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

t.test('gatehouse echo answers the conformance JSON shape and logs each request', async (t) => {
  const port = await freePort();
  const child = spawn(process.execPath, [bin, 'echo', '--port', String(port), '--name', 'demo-1', '--host', '127.0.0.1', '--namespace', 'ns'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  t.teardown(() => {
    child.kill('SIGTERM');
  });
  const until = Date.now() + 10_000;
  while (!out.includes('listening') && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  t.match(out, `echo "demo-1" listening on 127.0.0.1:${port}`);
  const body = await new Promise<string>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/x?y=1', headers: { 'x-test': 'v' } }, (res) => {
        let b = '';
        res.on('data', (c) => (b += c));
        res.on('end', () => resolve(b));
      })
      .on('error', reject);
  });
  const j = JSON.parse(body);
  t.equal(j.path, '/x?y=1');
  t.equal(j.host, `127.0.0.1:${port}`);
  t.equal(j.method, 'GET');
  t.equal(j.proto, 'HTTP/1.1');
  t.same(j.headers['X-Test'], ['v']);
  t.equal(j.pod, 'demo-1');
  t.equal(j.service, 'demo-1');
  t.equal(j.namespace, 'ns');
  await new Promise((r) => setTimeout(r, 50));
  t.match(out, 'Echoing back request made to /x?y=1 to client');
  const code = await new Promise<number | null>((resolve) => {
    child.once('exit', (c) => resolve(c));
    child.kill('SIGTERM');
  });
  t.equal(code, 0, 'exits 0 on SIGTERM');
});

t.test('bad --port is a usage error', async (t) => {
  const child = spawn(process.execPath, [bin, 'echo', '--port', 'nope'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  t.equal(code, 2);
});
