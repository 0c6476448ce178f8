import t from 'tap';
import { EndpointPicker, SmoothWeightedRoundRobin } from '../../src/balance/swrr.js';

const seq = (w: number[], n: number, names = 'abcdefghij') => {
  const s = new SmoothWeightedRoundRobin(w);
  return Array.from({ length: n }, () => { const i = s.next(); return i < 0 ? '-' : names[i]; }).join(' ');
};

t.test('nginx sequences', async (t) => {
  t.equal(seq([5, 1, 1], 7), 'a a b a c a a');
  t.equal(seq([5, 1, 1], 14), 'a a b a c a a a a b a c a a', 'periodic');
  t.equal(seq([1, 1], 4), 'a b a b');
  t.equal(seq([2, 1], 6), 'a b a a b a');
  t.equal(seq([1, 2, 3], 6), 'c b a c b c');
  t.equal(seq([7], 3), 'a a a');
});

t.test('weight 0 is never picked; all zero → -1', async (t) => {
  t.equal(seq([0, 1, 0, 1], 4), 'b d b d');
  t.equal(seq([0, 0], 3), '- - -');
  t.equal(seq([], 2), '- -');
  t.equal(seq([-1, NaN, Infinity, 2], 2), 'd d', 'invalid weights count as 0');
});

t.test('long-run proportions are exact', async (t) => {
  const s = new SmoothWeightedRoundRobin([3, 1]);
  const counts = [0, 0];
  for (let i = 0; i < 400; i++) counts[s.next()]!++;
  t.same(counts, [300, 100]);
  const w = [10, 0, 3, 7, 1];
  const r = new SmoothWeightedRoundRobin(w);
  const c = [0, 0, 0, 0, 0];
  for (let i = 0; i < 21 * 50; i++) c[r.next()]!++;
  t.same(c, w.map((x) => x * 50));
});

t.test('every window of sum(weights) picks is exact (smoothness)', async (t) => {
  const w = [5, 3, 2];
  const s = new SmoothWeightedRoundRobin(w);
  const picks = Array.from({ length: 100 }, () => s.next());
  for (let start = 0; start + 10 <= 100; start += 10) {
    const c = [0, 0, 0];
    for (let i = start; i < start + 10; i++) c[picks[i]!]!++;
    t.same(c, w);
  }
});

t.test('nextUsable skips unusable items like nginx skips down peers', async (t) => {
  const s = new SmoothWeightedRoundRobin([5, 1, 1]);
  const down = new Set([0]);
  const usable = (i: number) => !down.has(i);
  const got = Array.from({ length: 4 }, () => s.nextUsable(usable));
  t.same(got, [1, 2, 1, 2]);
  t.equal(new SmoothWeightedRoundRobin([1, 1]).nextUsable(() => false), -1);
  s.reset();
  t.equal(s.next(), 0);
});

t.test('EndpointPicker', async (t) => {
  const p = new EndpointPicker(3);
  t.same([p.next(), p.next(), p.next(), p.next()], [0, 1, 2, 0]);
  t.same([p.next((i) => i !== 2), p.next((i) => i !== 2)], [1, 0]);
  t.equal(p.next(() => false), -1);
  t.equal(new EndpointPicker(0).next(), -1);
});

t.test('precomputed period and the nginx scan give the same picks', async (t) => {
  // integral small total → precomputed; fractional weights → scanned every time; compare on scaled weights
  const w = [5, 1, 3, 0, 2];
  const a = new SmoothWeightedRoundRobin(w);
  const b = new SmoothWeightedRoundRobin(w.map((x) => x / 8)); // same ratios, not integral → scan
  const big = new SmoothWeightedRoundRobin([70000, 1]); // period too long → scan
  for (let i = 0; i < 200; i++) t.equal(a.next(), b.next(), `pick ${i}`);
  let ones = 0;
  for (let i = 0; i < 70001; i++) if (big.next() === 1) ones++;
  t.equal(ones, 1);
});
