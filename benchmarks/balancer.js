// Balancer micro-benchmark: picks/s of SmoothWeightedRoundRobin (nginx's smooth WRR) with 2, 16 and 256
// backends, plus EndpointPicker. A pick runs once per request, so it must stay in the tens of ns.
//
//   npx tsc -b && node benchmarks/balancer.js [--quick] [--json]
//
// A benchmark, not a test. Bounded: about 5 s (--quick: 1 s). Times are process CPU time (the machine
// may be shared), best of 3 rounds.
import { EndpointPicker, SmoothWeightedRoundRobin } from '@gatehouse/core';

const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const BUDGET_MS = QUICK ? 80 : 250;
const ROUNDS = QUICK ? 1 : 3;

function cpuNs() {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

function measure(pick) {
  let sink = 0;
  for (let i = 0; i < 200_000; i++) sink += pick();
  let ops = 0;
  const start = cpuNs();
  const deadline = start + BUDGET_MS * 1e6;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 50_000; i++) sink += pick();
    ops += 50_000;
    now = cpuNs();
  }
  return { ns: (now - start) / ops, sink };
}

const fmt = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(1)} M` : `${(x / 1e3).toFixed(0)} k`);
const rows = [];
for (const n of [2, 16, 256]) {
  // weights 1..10, one 0 (never picked) when there is room for it
  const weights = Array.from({ length: n }, (_, i) => (n > 2 && i === n - 1 ? 0 : 1 + ((i * 7) % 10)));
  const swrr = new SmoothWeightedRoundRobin(weights);
  const picker = new EndpointPicker(n);
  const healthy = (i) => i % 5 !== 0;
  const row = { backends: n, swrr: Infinity, swrrUsable: Infinity, rr: Infinity };
  for (let r = 0; r < ROUNDS; r++) {
    row.swrr = Math.min(row.swrr, measure(() => swrr.next()).ns);
    row.swrrUsable = Math.min(row.swrrUsable, measure(() => swrr.nextUsable(healthy)).ns);
    row.rr = Math.min(row.rr, measure(() => picker.next(healthy)).ns);
  }
  rows.push(row);
}

if (args.has('--json')) {
  console.log(JSON.stringify({ node: process.version, rows }, null, 2));
} else {
  console.log(`balancer micro-benchmark — node ${process.version}, best of ${ROUNDS} × ${BUDGET_MS} ms of CPU time`);
  console.log('');
  console.log('| backends | SWRR next() ns (picks/s) | SWRR nextUsable() ns (picks/s) | EndpointPicker next(usable) ns (picks/s) |');
  console.log('|---:|---:|---:|---:|');
  const c = (ns) => `${ns.toFixed(1)} (${fmt(1e9 / ns)})`;
  for (const r of rows) console.log(`| ${r.backends} | ${c(r.swrr)} | ${c(r.swrrUsable)} | ${c(r.rr)} |`);
}
