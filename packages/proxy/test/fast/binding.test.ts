/**
 * The contract of Node's internal llhttp binding that the fast engine relies on (fast/binding.ts). Runs
 * in CI on every Node version we support: when it fails, Gatehouse falls back to node:http at start-up,
 * and this test says which part of the binding changed.
 */
import t from 'tap';
import { checkBinding, loadBinding, type LlBinding } from '../../src/fast/binding.js';
import { selectHttpEngine } from '../../src/fast/engine.js';

t.test('the binding exists and holds the contract on this Node', async (t) => {
  const b = loadBinding();
  t.ok(b, 'process.binding("http_parser") is available');
  const c = checkBinding(b);
  t.equal(c.reason, '', 'no failed check');
  t.ok(c.ok, `contract holds on ${process.version}`);
});

t.test('a binding that differs is refused with a reason, and the engine falls back once', async (t) => {
  t.notOk(checkBinding(null).ok, 'no binding');
  const real = loadBinding()!;
  // slot indices moved
  const moved = { ...real, HTTPParser: Object.assign(function () {}, real.HTTPParser, { kOnBody: 9 }) } as unknown as LlBinding;
  const c = checkBinding(moved);
  t.notOk(c.ok);
  t.match(c.reason, /slot|prototype/);
  // a lenient parser (accepts a smuggling sample) is refused
  const H = real.HTTPParser;
  class Lenient extends (H as unknown as new () => object) {}
  Object.assign(Lenient, H);
  (Lenient.prototype as { initialize: (...a: unknown[]) => void }).initialize = function (this: { __proto__: unknown }, type: number, res: object, max: number) {
    (H.prototype.initialize as (...a: unknown[]) => void).call(this, type, res, max, 0x1ff);
  };
  const lenient = checkBinding({ ...real, HTTPParser: Lenient } as unknown as LlBinding);
  t.notOk(lenient.ok, 'lenient flags detected');
  t.match(lenient.reason, /smuggling|pipelined|callback/);
});

t.test('engine selection: flag, environment, default, fallback', async (t) => {
  const logs: string[] = [];
  const logger = { debug() {}, info() {}, warn: (m: string) => void logs.push(m), error() {} };
  const saved = process.env.GATEHOUSE_HTTP_ENGINE;
  t.teardown(() => {
    if (saved === undefined) delete process.env.GATEHOUSE_HTTP_ENGINE;
    else process.env.GATEHOUSE_HTTP_ENGINE = saved;
  });
  t.equal(selectHttpEngine('node', logger), 'node');
  t.equal(selectHttpEngine('fast', logger), 'fast', 'the contract holds here, so fast is used when asked for');
  process.env.GATEHOUSE_HTTP_ENGINE = 'fast';
  t.equal(selectHttpEngine(undefined, logger), 'fast', 'environment');
  t.equal(selectHttpEngine('node', logger), 'node', 'the flag wins over the environment');
  t.same(logs, []);
});
