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
  t.equal(c.rawBodies, true, 'bodies of known length can be read around the parser');
});

t.test('a binding whose parser ignores the "2" of kOnHeadersComplete keeps the engine, without raw bodies', async (t) => {
  const real = loadBinding()!;
  const H = real.HTTPParser;
  // kOnHeadersComplete's answer 2 turned into 0: the body would be parsed (and copied) by llhttp
  const wrapped = new WeakSet<object>();
  class NoStop extends (H as unknown as new () => { execute(b: Buffer): unknown; [k: number]: unknown }) {
    override execute(b: Buffer): unknown {
      const f = this[H.kOnHeadersComplete] as ((...a: unknown[]) => number) | undefined;
      if (typeof f === 'function' && !wrapped.has(f)) {
        const g = (...a: unknown[]): number => {
          const r = f(...a);
          return r === 2 ? 0 : r;
        };
        wrapped.add(g);
        this[H.kOnHeadersComplete] = g;
      }
      return super.execute(b);
    }
  }
  Object.assign(NoStop, H);
  const c = checkBinding({ ...real, HTTPParser: NoStop } as unknown as LlBinding);
  t.ok(c.ok, `the rest of the contract still holds: ${c.reason}`);
  t.equal(c.rawBodies, false, 'raw bodies off');
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
  (Lenient.prototype as unknown as Record<string, unknown>).initialize = function (this: { __proto__: unknown }, type: number, res: object, max: number) {
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

t.test('direct head writes (fast/write.ts): available here, bytes arrive in order with stream writes', async (t) => {
  const net = await import('node:net');
  const { directWrites, writeText } = await import('../../src/fast/write.js');
  t.ok(directWrites, `the stream_wrap binding is usable on ${process.version}`);
  const got: Buffer[] = [];
  const server = net.createServer((s) => s.on('data', (d: Buffer) => got.push(d)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const c = net.connect((server.address() as import('node:net').AddressInfo).port, '127.0.0.1');
  await new Promise((r) => c.once('connect', r));
  // a direct write, a stream write, a large direct write the kernel may split, then a stream write
  t.equal(writeText(c, 'one|'), true);
  c.write('two|');
  const big = 'x'.repeat(4 * 1024 * 1024);
  writeText(c, big);
  c.end('three');
  await new Promise<void>((r) => {
    const check = (): void => {
      if (Buffer.concat(got).length >= big.length + 13) r();
      else setTimeout(check, 10);
    };
    check();
  });
  const text = Buffer.concat(got).toString('latin1');
  t.equal(text.length, big.length + 13);
  t.ok(text.startsWith('one|two|') && text.endsWith('three'), 'order kept across direct and stream writes');
});
