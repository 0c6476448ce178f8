// Checks the targets sentence of the End-to-end table (issue 8) on made-up rows: it must say "not met"
// when a target is missed, name the best Node peer, and stay silent without the rows it needs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { targetsMarkdown } from '../e2e/report.js';

const row = (id, label, rps, cpu) => ({ id, label, status: 'ok', requestsPerSec: rps, cpuMicrosPerRequest: cpu });
const run = (gh) => ({
  scenarios: [
    {
      id: 'simple',
      rows: [
        row('gatehouse-1w', 'Gatehouse, 1 worker', gh, 20),
        row('nginx', 'nginx, 1 worker', 80_000, 12),
        row('http-proxy', 'Node: http-proxy', 14_000, 70),
        row('fast-proxy', 'Node: fast-proxy', 20_000, 50),
      ],
    },
  ],
});

test('targets met', () => {
  const md = targetsMarkdown(run(44_000));
  assert.match(md, /\*\*0\.55× nginx\*\* \(1 worker, same core; target ≥ 0\.5×: met\)/);
  assert.match(md, /\*\*2\.20× the best Node peer\*\* \(fast-proxy, 20,000 req\/s; target ≥ 1\.3×: met\)/);
  assert.match(md, /ahead of every Node peer/);
});

test('targets missed are said plainly', () => {
  const md = targetsMarkdown(run(18_000));
  assert.match(md, /0\.23× nginx.*target ≥ 0\.5×: \*\*not met\*\*/);
  assert.match(md, /0\.90× the best Node peer.*target ≥ 1\.3×: \*\*not met\*\*/);
  assert.match(md, /\*\*behind at least one Node peer\*\*/);
});

test('no sentence without the rows it compares', () => {
  const r = run(44_000);
  r.scenarios[0].rows = r.scenarios[0].rows.filter((x) => x.id !== 'nginx');
  assert.equal(targetsMarkdown(r), '');
});
