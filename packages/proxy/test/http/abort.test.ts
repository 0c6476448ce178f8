import http from 'node:http';
import t from 'tap';
import { gateway } from '../helpers/gateway.js';
import { backend, freePort, table } from '../helpers/ir.js';
import { upstream } from '../helpers/upstream.js';

t.test('a client that goes away cancels the upstream request; a timeout mid-body cuts the response', async (t) => {
  let upstreamClosed = false;
  let closedResolve: () => void = () => undefined;
  const closed = new Promise<void>((r) => (closedResolve = r));
  const up = await upstream((req, res) => {
    if (req.url === '/stream-forever') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write('tick\n'), 20);
      res.on('close', () => {
        clearInterval(timer);
        upstreamClosed = true;
        closedResolve();
      });
      return;
    }
    if (req.url === '/slow-body') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('start\n');
      const timer = setInterval(() => res.write('more\n'), 50);
      res.on('close', () => clearInterval(timer));
    }
  });
  const port = await freePort();
  const tbl = table(
    [{ port, groups: [{ rules: [{ path: '/stream-forever', refs: [{ backend: 0 }] }, { path: '/slow-body', requestMs: 300, refs: [{ backend: 0 }] }] }] }],
    [backend('up', [{ address: '127.0.0.1', port: up.port }])],
  );
  const { rt, port: gw } = await gateway(tbl);
  t.teardown(async () => {
    await rt.close(100);
    await up.close();
  });

  await new Promise<void>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: gw, path: '/stream-forever', headers: { host: 'x' }, agent: false }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
  });
  await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
  t.ok(upstreamClosed, 'the upstream request was cancelled');

  const result = await new Promise<{ status: number; error: string | null; body: string }>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: gw, path: '/slow-body', headers: { host: 'x' }, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, error: null, body }));
      res.on('error', (e) => resolve({ status: res.statusCode!, error: e.message, body }));
      res.on('aborted', () => resolve({ status: res.statusCode!, error: 'aborted', body }));
    });
    req.on('error', (e) => resolve({ status: 0, error: e.message, body: '' }));
  });
  t.equal(result.status, 200, 'the response had started');
  t.ok(result.error !== null, `then was cut at the request timeout (${result.error})`);
  t.match(result.body, /^start\n/);
});
