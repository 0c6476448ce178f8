import t from 'tap';
import type { Diagnostic } from '@gatehouse/core';
import { Metrics } from '@gatehouse/proxy';
import { Reloader, type LoadResult } from '../../src/reload.js';
import { FakeRuntime, fakeCompile, recordingLogger, tableWithHash, emptyStatus } from './fakes.js';
import { emptyResourceSet } from '@gatehouse/core';

function setup() {
  const state: { hash: string; diagnostics: Diagnostic[]; loads: number } = { hash: 'a', diagnostics: [], loads: 0 };
  const runtime = new FakeRuntime();
  const metrics = new Metrics({ version: 't', processMetrics: false });
  const { lines, logger } = recordingLogger();
  const reloader = new Reloader({
    dir: '/cfg',
    load: async (): Promise<LoadResult> => {
      state.loads++;
      return { resources: emptyResourceSet(), diagnostics: state.diagnostics, hash: state.hash };
    },
    compile: () => ({ table: tableWithHash(state.hash), status: emptyStatus(), diagnostics: [] }),
    runtime,
    logger,
    metrics,
  });
  const gauge = async () => (await metrics.registry.getSingleMetric('gatehouse_config_last_reload_successful')!.get()).values[0]?.value;
  const count = async (result: string) =>
    (await metrics.registry.getSingleMetric('gatehouse_config_reloads_total')!.get()).values.find((v) => v.labels.result === result)?.value;
  return { state, runtime, reloader, lines, gauge, count };
}

const bad: Diagnostic = { severity: 'error', code: 'UNKNOWN_FIELD', message: 'unknown field "wieght"', file: 'routes.yaml', line: 12, col: 9, object: 'HTTPRoute default/web', path: 'spec.rules[0].backendRefs[0].wieght', hint: 'did you mean "weight"?' };

t.test('apply, no-op on same hash, reject keeps the last good table', async (t) => {
  const { state, runtime, reloader, lines, gauge, count } = setup();
  const o1 = await reloader.reload('startup');
  t.equal(o1.result, 'ok');
  t.equal(runtime.applied.length, 1);
  t.equal(await gauge(), 1);

  const o2 = await reloader.reload('watch');
  t.equal(o2.result, 'unchanged', 'same content is a no-op');
  t.equal(runtime.applied.length, 1, 'no second apply');
  t.equal(await count('success'), 1, 'no-op not counted');

  state.hash = 'b';
  state.diagnostics = [bad, { severity: 'warning', code: 'DEPRECATED', message: 'old', file: 'a.yaml', line: 1, col: 1 }];
  const o3 = await reloader.reload('watch');
  t.equal(o3.result, 'error');
  t.equal(runtime.applied.length, 1, 'nothing applied');
  t.equal(runtime.current()?.table.hash, 'a', 'old table keeps serving');
  t.equal(o3.servingHash, 'a');
  t.equal(o3.errors, 1);
  t.equal(o3.diagnostics[0].location, 'a.yaml:1:1', 'sorted by file');
  t.equal(o3.diagnostics[1].location, 'routes.yaml:12:9');
  t.match(o3.diagnostics[1].text, /^routes\.yaml:12:9 HTTPRoute default\/web UNKNOWN_FIELD: unknown field "wieght"/);
  t.equal(await gauge(), 0);
  t.equal(await count('failure'), 1);
  const errLines = lines.filter((l) => l.level === 'error');
  t.ok(errLines.some((l) => l.msg.includes('routes.yaml:12:9') && l.msg.includes('UNKNOWN_FIELD')), 'each diagnostic logged at error with file:line:col');
  t.ok(errLines.some((l) => /configuration rejected.*keeping the last good configuration/.test(l.msg)));

  // the same broken content again: same answer, not counted or logged twice
  const before = lines.length;
  const o4 = await reloader.reload('watch');
  t.equal(o4.result, 'error');
  t.equal(await count('failure'), 1);
  t.equal(lines.filter((l) => l.level === 'error').length, errLines.length);
  t.ok(lines.length - before <= 1);

  // fixed by going back to the serving content
  state.hash = 'a';
  state.diagnostics = [];
  const o5 = await reloader.reload('watch');
  t.equal(o5.result, 'unchanged');
  t.equal(await gauge(), 1, 'successful again');
  t.equal(runtime.applied.length, 1);

  state.hash = 'c';
  const o6 = await reloader.reload('SIGHUP');
  t.equal(o6.result, 'ok');
  t.equal(o6.trigger, 'SIGHUP');
  t.equal(runtime.current()?.table.hash, 'c');
  t.equal(reloader.lastApplied()?.hash, 'c');
});

t.test('reloads are serialised; requests during one coalesce into one follow-up', async (t) => {
  const { state, runtime, reloader } = setup();
  runtime.delayMs = 100;
  const first = reloader.reload('startup');
  state.hash = 'b';
  const followers = [reloader.reload('watch'), reloader.reload('watch'), reloader.reload('admin'), reloader.reload('SIGHUP')];
  t.ok(reloader.busy());
  const [o1, ...rest] = await Promise.all([first, ...followers]);
  t.equal(o1.result, 'ok');
  t.equal(state.loads, 2, 'one reload plus exactly one follow-up');
  t.equal(runtime.applied.length, 2);
  for (const r of rest) t.equal(r, rest[0], 'followers share one outcome');
  t.equal(rest[0].hash, 'b');
  t.equal(reloader.attempts, 2);
  t.notOk(reloader.busy());
});

t.test('loader, compiler and apply failures reject without swapping', async (t) => {
  const { runtime, reloader, state } = setup();
  await reloader.reload('startup');
  state.hash = 'x';
  runtime.failNext = 'EADDRINUSE 0.0.0.0:80';
  const o = await reloader.reload('watch');
  t.equal(o.result, 'error');
  t.ok(o.diagnostics.some((d) => d.code === 'APPLY_FAILED'));
  t.equal(runtime.current()?.table.hash, 'a');
  const retry = await reloader.reload('admin');
  t.equal(retry.result, 'ok', 'a transient apply failure is retried with the same content');
  t.equal(runtime.current()?.table.hash, 'x');

  const throwing = new Reloader({
    dir: '/nope',
    load: async () => {
      throw new Error('ENOENT: no such directory');
    },
    compile: fakeCompile,
    runtime: new FakeRuntime(),
    logger: recordingLogger().logger,
  });
  const o2 = await throwing.reload('startup');
  t.equal(o2.result, 'error');
  t.equal(o2.diagnostics[0].code, 'LOAD_FAILED');
  t.match(o2.message, /nothing is serving/);

  const badCompile = new Reloader({
    dir: '/cfg',
    load: async () => ({ resources: emptyResourceSet(), diagnostics: [], hash: 'h' }),
    compile: () => {
      throw new Error('boom');
    },
    runtime: new FakeRuntime(),
    logger: recordingLogger().logger,
  });
  const o3 = await badCompile.reload('startup');
  t.equal(o3.result, 'error');
  t.equal(o3.diagnostics[0].code, 'COMPILE_FAILED');
});
