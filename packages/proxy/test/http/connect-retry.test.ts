/**
 * Issue 4, retries as a user sees them, on the engine under test (test/fast/engine-suites re-runs this
 * file on the other engine):
 *  - without a retry stanza, a connect error (connection refused) on an idempotent request is retried
 *    once, on the next endpoint; a POST is never retried (502, the live endpoint never sees it);
 *  - "once" is exactly once: with only a dead endpoint a GET makes two connect attempts, a POST one;
 *  - an endpoint that accepts and then resets the connection is not a connect error: no retry, 502;
 *  - the experimental retry stanza's backoff is observed between attempts (lower bounds only).
 * Connect attempts on a refused port cannot be counted at the port, so the resolver is wrapped: every
 * attempt that fails to connect is reported to it (`reportFailure(..., 'connect')`), once per attempt.
 */
import net from 'node:net';
import t from 'tap';
import type { BackendIR, RoutingTable } from '@gatehouse/core';
import type { BackendResolver, ResolvedEndpoint } from '../../src/api.js';
import { DefaultBackendResolver } from '../../src/upstream/resolver.js';
import { recordingBackend, startGateway } from '../hardening/harness.js';
import { closeAgent, request } from '../helpers/client.js';
import { backend, freePort, table } from '../helpers/ir.js';

/** The real resolver, recording failures as `backend endpoint kind`. */
class CountingResolver implements BackendResolver {
  readonly inner = new DefaultBackendResolver();
  readonly failures: string[] = [];
  pick(b: BackendIR): ResolvedEndpoint | null {
    return this.inner.pick(b);
  }
  reportFailure(b: BackendIR, e: ResolvedEndpoint, kind: 'connect' | 'status' | 'reset' | 'timeout' = 'connect'): void {
    this.failures.push(`${b.id} ${e.key} ${kind}`);
    this.inner.reportFailure(b, e, kind);
  }
  reportSuccess(b: BackendIR, e: ResolvedEndpoint): void {
    this.inner.reportSuccess(b, e);
  }
  prepare(tbl: RoutingTable): Promise<void> {
    return this.inner.prepare(tbl);
  }
  close(): void {
    this.inner.close();
  }
  /** Failures of one backend, of one kind. */
  count(id: string, kind: string): number {
    return this.failures.filter((f) => f.startsWith(`${id} `) && f.endsWith(` ${kind}`)).length;
  }
}

/** A port nothing listens on (bound, read, closed): connecting to it is refused. */
async function deadPort(): Promise<number> {
  return freePort();
}

/** Accepts TCP connections and destroys them at once, counting them. */
async function resetter(): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  let n = 0;
  const server = net.createServer((s) => {
    n++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as net.AddressInfo).port, connections: () => n, close: () => new Promise<void>((r) => server.close(() => r())) };
}

t.teardown(closeAgent);

t.test('no retry stanza: a refused connection is retried once for GET, never for POST', async (t) => {
  const dead = await deadPort();
  const live = await recordingBackend();
  const rst = await resetter();
  const ep = (port: number) => ({ address: '127.0.0.1', port });
  const port = await freePort();
  // One backend per case, so each starts its round-robin at the dead endpoint (the first listed).
  const tbl = table(
    [
      {
        port,
        groups: [
          {
            rules: [
              { path: '/get-two', refs: [{ backend: 0 }] },
              { path: '/post-two', refs: [{ backend: 1 }] },
              { path: '/get-dead', refs: [{ backend: 2 }] },
              { path: '/post-dead', refs: [{ backend: 3 }] },
              { path: '/get-reset', refs: [{ backend: 4 }] },
            ],
          },
        ],
      },
    ],
    [
      backend('get-two', [ep(dead), ep(live.port)]),
      backend('post-two', [ep(dead), ep(live.port)]),
      backend('get-dead', [ep(dead)]),
      backend('post-dead', [ep(dead)]),
      backend('get-reset', [ep(rst.port)]),
    ],
  );
  const resolver = new CountingResolver();
  const gw = await startGateway(tbl, { resolver });
  t.teardown(async () => {
    await gw.close();
    await live.close();
    await rst.close();
  });
  const deadKey = `127.0.0.1:${dead}`;

  let r = await request(gw.port, '/get-two', { host: 'x' });
  t.equal(r.status, 200, 'GET, dead endpoint first: the client gets the live endpoint\'s answer');
  t.same(resolver.failures, [`get-two ${deadKey} connect`], 'one refused attempt on the dead endpoint, then the retry succeeded');
  t.equal(live.requests.filter((q) => q.url === '/get-two').length, 1, 'the live endpoint answered it once');

  r = await request(gw.port, '/post-two', { host: 'x', method: 'POST', body: 'payload' });
  t.equal(r.status, 502, 'POST, dead endpoint first: 502, not retried');
  t.match(r.body, /^[^\n]*\n?$/, 'a short plain body');
  t.notMatch(r.body, /at .*\.(ts|js):\d+/, 'no stack trace');
  t.equal(resolver.count('post-two', 'connect'), 1, 'one connect attempt');
  t.equal(live.requests.filter((q) => q.url === '/post-two').length, 0, 'the live endpoint never saw the POST');

  r = await request(gw.port, '/get-dead', { host: 'x' });
  t.equal(r.status, 502, 'GET with only a dead endpoint: 502 after the retry');
  t.equal(resolver.count('get-dead', 'connect'), 2, 'exactly two connect attempts: the first and one retry');

  r = await request(gw.port, '/post-dead', { host: 'x', method: 'POST', body: 'payload' });
  t.equal(r.status, 502, 'POST with only a dead endpoint: 502');
  t.equal(resolver.count('post-dead', 'connect'), 1, 'exactly one connect attempt');

  r = await request(gw.port, '/get-reset', { host: 'x' });
  t.equal(r.status, 502, 'an endpoint that accepts and resets: 502');
  t.equal(rst.connections(), 1, 'one connection: a reset after connect is not a connect error, so not retried');
  t.equal(resolver.count('get-reset', 'connect'), 0, 'and it is not reported as a connect failure');
  t.equal(live.requests.length, 1, 'the live endpoint saw only the first GET');
});

t.test('retry stanza: the backoff separates the attempts', async (t) => {
  const BACKOFF = 250;
  const arrivals: number[] = [];
  const flaky = await recordingBackend((_req, res) => {
    arrivals.push(Date.now());
    res.writeHead(arrivals.length <= 2 ? 503 : 200, { 'content-type': 'text/plain' });
    res.end(`try ${arrivals.length}`);
  });
  const dead = await deadPort();
  const port = await freePort();
  const tbl = table(
    [
      {
        port,
        groups: [
          {
            rules: [
              { path: '/flaky', retry: { codes: [503], attempts: 2, backoffMs: BACKOFF }, refs: [{ backend: 0 }] },
              { path: '/dead', retry: { codes: [503], attempts: 2, backoffMs: BACKOFF }, refs: [{ backend: 1 }] },
            ],
          },
        ],
      },
    ],
    [backend('flaky', [{ address: '127.0.0.1', port: flaky.port }]), backend('dead', [{ address: '127.0.0.1', port: dead }])],
  );
  const resolver = new CountingResolver();
  const gw = await startGateway(tbl, { resolver });
  t.teardown(async () => {
    await gw.close();
    await flaky.close();
  });

  let t0 = Date.now();
  let r = await request(gw.port, '/flaky', { host: 'x' });
  let elapsed = Date.now() - t0;
  t.equal(r.status, 200, '503, 503, then 200: the client sees the 200');
  t.equal(r.body, 'try 3');
  t.equal(arrivals.length, 3, 'three attempts (attempts: 2 retries)');
  t.ok(arrivals[1] - arrivals[0] >= BACKOFF, `first retry ${arrivals[1] - arrivals[0]} ms after the first try (backoff ${BACKOFF})`);
  t.ok(arrivals[2] - arrivals[1] >= BACKOFF, `second retry ${arrivals[2] - arrivals[1]} ms after the first retry`);
  t.ok(elapsed >= 2 * BACKOFF, `the client waited at least both backoffs (${elapsed} ms)`);

  t0 = Date.now();
  r = await request(gw.port, '/dead', { host: 'x' });
  elapsed = Date.now() - t0;
  t.equal(r.status, 502, 'a refused endpoint, retries exhausted: 502');
  t.equal(resolver.count('dead', 'connect'), 3, 'the stanza governs connect errors too: three attempts, no extra implicit retry');
  t.ok(elapsed >= 2 * BACKOFF, `with the backoff before each retry (${elapsed} ms)`);
});
