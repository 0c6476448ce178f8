// Checks the wrk report parser on captured wrk 4.1 output (no load is generated here).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { parseWrkOutput, parseTimeMs, parseBytes, parseCount } from '../e2e/wrk.js';

const fixture = (name) => fs.readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

test('units', () => {
  assert.equal(parseTimeMs('203.00us'), 0.203);
  assert.equal(parseTimeMs('1.30ms'), 1.3);
  assert.equal(parseTimeMs('2.00s'), 2000);
  assert.equal(parseTimeMs('1.00m'), 60000);
  assert.equal(parseBytes('84.23MB'), 84.23 * 1024 * 1024);
  assert.equal(parseBytes('512.00B'), 512);
  assert.equal(parseCount('178.50k'), 178500);
  assert.equal(parseCount('555.84'), 555.84);
});

test('a clean run with --latency', () => {
  const r = parseWrkOutput(fixture('wrk-latency.txt'));
  assert.equal(r.threads, 1);
  assert.equal(r.connections, 50);
  assert.equal(r.requests, 354692);
  assert.equal(r.durationMs, 2000);
  assert.equal(r.requestsPerSec, 177266.23);
  assert.equal(r.transferPerSecBytes, 42.09 * 1024 * 1024);
  assert.equal(r.latencyMs.avg, 0.20277);
  assert.equal(r.latencyMs.max, 2.13);
  assert.equal(r.latencyMs.p50, 0.203);
  assert.equal(r.latencyMs.p75, 0.214);
  assert.equal(r.latencyMs.p90, 0.228);
  assert.equal(r.latencyMs.p99, 0.326);
  assert.equal(r.threadReqPerSec.avg, 178500);
  assert.equal(r.non2xx3xx, 0);
  assert.deepEqual(r.socketErrors, { connect: 0, read: 0, write: 0, timeout: 0 });
});

test('non-2xx responses and socket errors are counted', () => {
  const r = parseWrkOutput(fixture('wrk-errors.txt'));
  assert.equal(r.requests, 2305);
  assert.equal(r.non2xx3xx, 2305);
  assert.equal(r.latencyMs.p99, 12.14);
  assert.equal(r.threadReqPerSec.stdev, 555.84);
  const withSocketErrors = fixture('wrk-errors.txt').replace(
    'Requests/sec:',
    '  Socket errors: connect 1, read 22, write 0, timeout 7\nRequests/sec:',
  );
  assert.deepEqual(parseWrkOutput(withSocketErrors).socketErrors, { connect: 1, read: 22, write: 0, timeout: 7 });
});

test('a report without the summary lines is an error, not zeros', () => {
  assert.throws(() => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused\n'), /no Latency line/);
});
