import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { BackendIR } from '@gatehouse/core';
import { startEchoServer } from '../../src/echo-server.js';
import { DefaultBackendResolver } from '../../src/upstream/resolver.js';
import { closeAgent, request } from '../helpers/client.js';
import { gateway } from '../helpers/gateway.js';
import { freePort, table } from '../helpers/ir.js';
import http from 'node:http';

const b = (endpoints: BackendIR['endpoints']): BackendIR => ({ id: 'b', resolution: 'DNS', protocol: 'http1', endpoints });

t.test('static endpoints round-robin; a failed one is skipped while others remain', async (t) => {
  const r = new DefaultBackendResolver();
  const be = b([
    { address: '10.0.0.1', port: 80, dns: false, unix: false },
    { address: '10.0.0.2', port: 80, dns: false, unix: false },
    { address: '::1', port: 8080, dns: false, unix: false },
  ]);
  const keys = [0, 1, 2, 3, 4, 5].map(() => r.pick(be)!.key);
  t.same(keys, ['10.0.0.1:80', '10.0.0.2:80', '[::1]:8080', '10.0.0.1:80', '10.0.0.2:80', '[::1]:8080']);
  const first = r.pick(be)!;
  r.reportFailure(be, first);
  const next = [0, 1, 2, 3].map(() => r.pick(be)!.key);
  t.notOk(next.includes(first.key), 'the failed endpoint is skipped');
  r.reportSuccess(be, first);
  t.ok([0, 1, 2].map(() => r.pick(be)!.key).includes(first.key), 'and comes back after a success');
  t.equal(r.pick(b([])), null, 'no endpoints → null (503)');
  r.close();
});

t.test('dns endpoints: resolved on prepare, cached, re-resolved after a failure and periodically', async (t) => {
  let answers: string[] = ['192.0.2.1', '192.0.2.2'];
  let lookups = 0;
  const r = new DefaultBackendResolver({
    refreshMs: 100,
    lookupAll: async (name) => {
      lookups++;
      t.equal(name, 'svc.local');
      return answers;
    },
  });
  const be = b([{ address: 'svc.local', port: 9000, dns: true, unix: false }]);
  await r.prepare({ hash: 'x', ports: [], backends: [be], certificates: [] });
  t.equal(lookups, 1);
  t.same([r.pick(be)!.key, r.pick(be)!.key].sort(), ['192.0.2.1:9000', '192.0.2.2:9000'], 'every address is an endpoint');
  answers = ['192.0.2.3'];
  r.reportFailure(be, r.pick(be)!);
  await new Promise((res) => setTimeout(res, 20));
  t.equal(lookups, 2, 're-resolved after a connect failure');
  t.equal(r.pick(be)!.key, '192.0.2.3:9000', 'new addresses used');
  await new Promise((res) => setTimeout(res, 250));
  t.ok(lookups >= 3, 'periodic re-resolution');
  r.close();
});

t.test('a name that does not resolve has no endpoints; a unix socket backend is served', async (t) => {
  const r = new DefaultBackendResolver({ lookupAll: async () => Promise.reject(new Error('ENOTFOUND')) });
  const be = b([{ address: 'nowhere.invalid', port: 80, dns: true, unix: false }]);
  await r.prepare({ hash: 'x', ports: [], backends: [be], certificates: [] });
  t.equal(r.pick(be), null);
  r.close();

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-unix-'));
  const sock = path.join(dir, 'up.sock');
  const up = http.createServer((req, res) => res.end(`unix ${req.url}`));
  await new Promise<void>((res) => up.listen(sock, () => res()));
  const port = await freePort();
  const tbl = table([{ port, groups: [{ rules: [{ path: '/', refs: [{ backend: 0 }] }] }] }], [
    { id: 'unix', resolution: 'Backend', protocol: 'http1', endpoints: [{ address: sock, port: 0, dns: false, unix: true }] },
  ]);
  const { rt, port: gw } = await gateway(tbl);
  t.teardown(async () => {
    closeAgent();
    await rt.close(100);
    await new Promise((res) => up.close(res));
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const res = await request(gw, '/over/unix', { host: 'x' });
  t.equal(res.body, 'unix /over/unix');
});

t.test('dns endpoints end to end (localhost)', async (t) => {
  const a = await startEchoServer({ name: 'a', host: '127.0.0.1' });
  const port = await freePort();
  const tbl = table([{ port, groups: [{ rules: [{ path: '/', refs: [{ backend: 0 }] }] }] }], [
    { id: 'dns', resolution: 'DNS', protocol: 'http1', endpoints: [{ address: 'localhost', port: a.port, dns: true, unix: false }] },
  ]);
  const resolver = new DefaultBackendResolver({ lookupAll: async () => ['127.0.0.1'] });
  const { rt, port: gw } = await gateway(tbl, { resolver });
  t.teardown(async () => {
    closeAgent();
    await rt.close(100);
    await a.close();
  });
  const res = await request(gw, '/', { host: 'x' });
  t.equal(res.json().pod, 'a');
});
