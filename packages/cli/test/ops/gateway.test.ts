import t from 'tap';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compile } from '@gatehouse/core';
import { ProcessLogger } from '@gatehouse/proxy';
import { loadResources } from '../../src/load/index.js';
import { Gateway, type GatewayConfig } from '../../src/gateway.js';
import { FakeRuntime, until } from './fakes.js';

const QUICKSTART = resolve(import.meta.dirname, '../../../../fixtures/quickstart');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function copyQuickstart(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'gh-gw-')), 'config');
  cpSync(QUICKSTART, dir, { recursive: true });
  return dir;
}

function config(dir: string, over: Partial<GatewayConfig> = {}): GatewayConfig {
  return {
    dir,
    admin: { host: '127.0.0.1', port: 0 },
    bind: '127.0.0.1',
    logFormat: 'json',
    logLevel: 'debug',
    accessLog: 'off',
    watch: true,
    watchPoll: false,
    backendResolution: 'default',
    drainTimeoutMs: 1234,
    gatewayClasses: [],
    ...over,
  };
}

function make(dir: string, over: Partial<GatewayConfig> = {}) {
  const runtime = new FakeRuntime();
  const logs: string[] = [];
  const errOut: string[] = [];
  const logger = new ProcessLogger({ level: 'debug', format: 'json', out: { write: (s: string) => void logs.push(s) } });
  const gw = new Gateway(config(dir, over), {
    load: loadResources,
    compile,
    createRuntime: () => runtime,
    logger,
    err: { write: (s: string) => void errOut.push(s) },
    debounceMs: 100,
  });
  return { gw, runtime, logs, errOut };
}

async function get(gw: Gateway, path: string, method = 'GET') {
  const a = gw.adminAddress()!;
  const res = await fetch(`http://127.0.0.1:${a.port}${path}`, { method });
  const body = await res.text();
  return { status: res.status, body, json: () => JSON.parse(body) };
}

async function metric(gw: Gateway, name: string): Promise<string | undefined> {
  const text = (await get(gw, '/metrics')).body;
  return text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'));
}

t.test('serve, reload on edit, ignore no-op saves, reject a bad edit and keep serving', async (t) => {
  const dir = copyQuickstart();
  const { gw, runtime, logs } = make(dir);
  const started = await gw.start();
  t.same(started, { ok: true });
  t.teardown(() => gw.stop('test'));

  t.equal((await get(gw, '/healthz')).status, 200);
  t.equal((await get(gw, '/readyz')).status, 200);
  const cfg = (await get(gw, '/config')).json();
  t.equal(cfg.ports[0].key, '127.0.0.1:8080/tcp');
  const st = (await get(gw, '/status')).json();
  t.equal(st.lastReload.result, 'ok');
  t.equal(st.lastReload.trigger, 'startup');
  t.equal(st.gateways[0].name, 'default/demo');
  t.equal(await metric(gw, 'gatehouse_config_last_reload_successful'), 'gatehouse_config_last_reload_successful 1');
  t.equal(runtime.applied.length, 1);

  // an edit is applied within 2 s
  const routes = join(dir, 'routes.yaml');
  const original = readFileSync(routes, 'utf8');
  writeFileSync(routes, original.replace('weight: 3', 'weight: 5'));
  const ms = await until(() => runtime.applied.length === 2, 2000, 'reload after edit');
  t.ok(ms < 2000, `applied ${ms} ms after the edit`);
  const w = runtime.current()!.table.ports[0].httpGroups[0].rules[0].backendRefs[0].weight;
  t.equal(w, 5, 'new table serving');

  // a save without a change: the watcher fires, nothing is applied
  const reloadsBefore = gw.reloader.attempts;
  writeFileSync(routes, readFileSync(routes, 'utf8'));
  await until(() => gw.reloader.attempts > reloadsBefore, 2000, 'watch event');
  await sleep(300);
  t.equal(runtime.applied.length, 2, 'no apply for an unchanged save');
  t.equal(gw.reloader.last()?.result, 'unchanged');

  // an invalid edit: rejected, old table keeps serving, /status shows file:line:col
  const broken = readFileSync(routes, 'utf8').replace('      backendRefs:\n        - name: api', '      backendRefs:\n        - name: api\n          wieght: 2');
  t.not(broken, readFileSync(routes, 'utf8'));
  writeFileSync(routes, broken);
  await until(() => gw.reloader.last()?.result === 'error', 2000, 'rejection');
  t.equal(runtime.applied.length, 2, 'nothing applied');
  t.equal(runtime.current()!.table.ports[0].httpGroups[0].rules[0].backendRefs[0].weight, 5, 'last good table still serving');
  t.equal(await metric(gw, 'gatehouse_config_last_reload_successful'), 'gatehouse_config_last_reload_successful 0');
  t.match(await metric(gw, 'gatehouse_config_reloads_total{result="failure"}'), / 1$/);
  const st2 = (await get(gw, '/status')).json();
  t.equal(st2.lastReload.result, 'error');
  const d = st2.lastReload.diagnostics.find((x: { severity: string }) => x.severity === 'error');
  t.match(d.location, /^config\/routes\.yaml:\d+:\d+$/, `diagnostic at ${d.location}`);
  t.match(d.text, /wieght/);
  t.equal(st2.lastSuccessfulReload.result, 'ok');
  t.equal(st2.ready, true, 'still ready: the old table serves');
  t.equal((await get(gw, '/readyz')).status, 200);
  const errLog = logs.map((l) => JSON.parse(l)).filter((l) => l.level === 'error');
  t.ok(errLog.some((l) => /config\/routes\.yaml:\d+:\d+/.test(l.msg) && typeof l.line === 'number'), 'diagnostic logged at error with file:line:col');

  // POST /reload answers the rejection
  const pr = await get(gw, '/reload', 'POST');
  t.equal(pr.status, 422);
  t.equal(pr.json().result, 'error');

  // fixed: applied again
  writeFileSync(routes, original.replace('weight: 3', 'weight: 7'));
  await until(() => runtime.applied.length === 3, 2000, 'reload after fix');
  t.equal(await metric(gw, 'gatehouse_config_last_reload_successful'), 'gatehouse_config_last_reload_successful 1');
  const ok = await get(gw, '/reload', 'POST');
  t.equal(ok.status, 200);
  t.equal(ok.json().result, 'unchanged');
});

t.test('drain: readyz 503 while the runtime drains, with the configured timeout', async (t) => {
  const dir = copyQuickstart();
  const { gw, runtime } = make(dir, { watch: false });
  t.same(await gw.start(), { ok: true });
  const a = gw.adminAddress()!;
  let during = 0;
  const origClose = runtime.close.bind(runtime);
  runtime.close = async (ms: number) => {
    const r = await fetch(`http://127.0.0.1:${a.port}/readyz`);
    during = r.status;
    return origClose(ms);
  };
  await gw.stop('SIGTERM');
  t.equal(during, 503, 'readyz 503 while draining');
  t.equal(runtime.closedWith, 1234);
  await t.rejects(fetch(`http://127.0.0.1:${a.port}/healthz`), 'admin closed after the drain');
});

t.test('startup with an invalid config: the full report, exit code 1, nothing left listening', async (t) => {
  const dir = copyQuickstart();
  writeFileSync(join(dir, 'bad.yaml'), 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: bad\n  namespace: default\nspec:\n  parentRefs:\n    - name: demo\n  rules:\n    - backendRefs:\n        - name: api\n          port: 99999\n');
  const { gw, runtime, errOut, logs } = make(dir);
  const r = await gw.start();
  t.equal(r.ok, false);
  t.equal((r as { code: number }).code, 1);
  const report = errOut.join('');
  t.match(report, /^config\/bad\.yaml:12:\d+ HTTPRoute default\/bad \w+: /m, report);
  t.match(report, /1 error; not starting/);
  t.equal(runtime.applied.length, 0);
  t.equal(gw.admin, null, 'admin closed');
  t.notOk(logs.some((l) => l.includes('"level":"error"')), 'the report is printed once, not logged twice');
});

t.test('admin address in use: a clear message and exit 1', async (t) => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const { gw, errOut } = make(copyQuickstart(), { admin: { host: '127.0.0.1', port } });
  const r = await gw.start();
  t.equal(r.ok, false);
  t.match(errOut.join(''), new RegExp(`admin server cannot listen on 127\\.0\\.0\\.1:${port}: address already in use`));
});
