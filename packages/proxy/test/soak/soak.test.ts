/**
 * Soak: 1,000 concurrent keep-alive connections with mixed good and hostile traffic for SOAK_SECONDS
 * (default 20 s in the suite; 60 s recorded in docs/reliability.md). Zero crashes, zero wrong answers:
 * every good request gets 200 with the body for its own path, every hostile one its documented status.
 * Duration: SOAK_SECONDS + ~5 s. SOAK_CONNECTIONS overrides the connection count; SOAK_REPORT=path
 * writes the numbers as JSON.
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import t from 'tap';
import { backend, freePort, table } from '../helpers/ir.js';
import { startGateway } from '../hardening/harness.js';
import { HOSTILE } from '../hardening/hostile-table.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 20);
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? 1000);

interface Stats {
  requests: number;
  good: number;
  hostile: number;
  wrong: number;
  wrongSamples: string[];
  errors: Record<string, number>;
  statuses: Record<string, number>;
  latencies: Float64Array;
  nLat: number;
}

function bump(m: Record<string, number>, k: string): void {
  m[k] = (m[k] ?? 0) + 1;
}

/** One keep-alive client: sequential GETs on one socket, each answer parsed and checked; reconnects when closed. */
async function client(port: number, id: number, until: () => number, st: Stats, ready: () => void): Promise<void> {
  let seq = 0;
  let signalled = false;
  while (Date.now() < until()) {
    const sock = net.connect(port, '127.0.0.1');
    sock.setNoDelay(true);
    let buf: Buffer = Buffer.alloc(0);
    let waiter: (() => void) | null = null;
    let closed = false;
    sock.on('data', (c: Buffer) => {
      buf = buf.length === 0 ? c : Buffer.concat([buf, c]);
      waiter?.();
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      bump(st.errors, 'client_socket_' + (e.code ?? 'error'));
    });
    sock.on('close', () => {
      closed = true;
      waiter?.();
    });
    const ok = await new Promise<boolean>((r) => {
      sock.once('connect', () => r(true));
      sock.once('error', () => r(false));
    });
    if (!ok) {
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    while (!closed && Date.now() < until()) {
      const path = `/ok/c${id}/r${seq++}`;
      const start = performance.now();
      sock.write(`GET ${path} HTTP/1.1\r\nHost: soak.test\r\n\r\n`);
      // read one response: head, then Content-Length bytes
      let status = 0;
      let body = '';
      for (;;) {
        const i = buf.indexOf('\r\n\r\n');
        if (i !== -1) {
          const head = buf.subarray(0, i).toString('latin1');
          const m = /content-length: (\d+)/i.exec(head);
          const len = m ? Number(m[1]) : 0;
          if (buf.length >= i + 4 + len) {
            status = Number(head.slice(9, 12));
            body = buf.subarray(i + 4, i + 4 + len).toString('latin1');
            buf = buf.subarray(i + 4 + len);
            break;
          }
        }
        if (closed) break;
        await new Promise<void>((r) => (waiter = r));
        waiter = null;
      }
      if (status === 0) {
        if (Date.now() < until()) bump(st.errors, 'good_connection_closed');
        break;
      }
      if (!signalled) {
        signalled = true;
        ready();
      }
      st.requests++;
      st.good++;
      bump(st.statuses, String(status));
      if (st.nLat < st.latencies.length) st.latencies[st.nLat++] = performance.now() - start;
      if (status !== 200 || body !== path) {
        st.wrong++;
        if (st.wrongSamples.length < 5) st.wrongSamples.push(`${path} → ${status} ${body.slice(0, 80)}`);
      }
      // a little think time keeps 1,000 connections mostly idle-but-open, like real keep-alive clients
      if (seq % 4 === 0) await new Promise((r) => setTimeout(r, 5 + (id % 20)));
    }
    sock.destroy();
  }
}

/** Hostile traffic: fresh connections sending the hostile table round-robin; each must get its status. */
async function hostileClient(port: number, offset: number, until: number, st: Stats): Promise<void> {
  let i = offset;
  while (Date.now() < until) {
    const [name, bytes, expected] = HOSTILE[i++ % HOSTILE.length];
    const t0 = performance.now();
    let connectedAt = -1;
    let dataAt = -1;
    const answer = await new Promise<{ status: number; closed: boolean }>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      let text = '';
      let done = false;
      const finish = (closed: boolean): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        s.destroy();
        const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
        resolve({ status: m ? Number(m[1]) : 0, closed });
      };
      const timer = setTimeout(() => finish(false), 15_000);
      s.on('data', (c: Buffer) => {
        if (text === '') dataAt = performance.now() - t0;
        text += c.toString('latin1');
      });
      s.on('end', () => finish(true));
      s.on('close', () => finish(true));
      s.on('error', () => finish(true));
      s.on('connect', () => {
        connectedAt = performance.now() - t0;
        for (const p of Array.isArray(bytes) ? bytes : [bytes]) s.write(p);
      });
    });
    st.requests++;
    st.hostile++;
    bump(st.statuses, 'hostile_' + answer.status);
    if (answer.status !== expected || !answer.closed) {
      st.wrong++;
      if (st.wrongSamples.length < 5) st.wrongSamples.push(`${name}: expected ${expected}, got ${answer.status} closed=${answer.closed} at=${Date.now() % 100000} connect=${Math.round(connectedAt)}ms data=${Math.round(dataAt)}ms`);
    }
  }
}

t.test(`soak: ${CONNECTIONS} keep-alive connections, good + hostile traffic, ${SECONDS} s`, { timeout: (SECONDS + 90) * 1000 }, async (t) => {
  let exceptions = 0;
  const onUncaught = (): void => void exceptions++;
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  const upstream = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const body = req.url ?? '';
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  upstream.maxConnections = 10_000;
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', 4096, () => r()));
  const bePort = (upstream.address() as net.AddressInfo).port;
  const port = await freePort();
  const tbl = table([{ port, groups: [{ rules: [{ path: '/', refs: [{ backend: 0 }] }] }] }], [backend('soak', [{ address: '127.0.0.1', port: bePort }])]);
  const gw = await startGateway(tbl);
  t.teardown(async () => {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
    await gw.close();
    upstream.closeAllConnections();
    await new Promise<void>((r) => upstream.close(() => r()));
  });
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const st: Stats = { requests: 0, good: 0, hostile: 0, wrong: 0, wrongSamples: [], errors: {}, statuses: {}, latencies: new Float64Array(4_000_000), nLat: 0 };
  // ramp up: every connection opened and served once before the clock starts (bounded: 60 s)
  let until = Date.now() + 3_600_000;
  let readyCount = 0;
  let allReady: () => void = () => undefined;
  const ramped = new Promise<void>((r) => (allReady = r));
  const ready = (): void => {
    if (++readyCount === CONNECTIONS) allReady();
  };
  const clients: Promise<void>[] = [];
  const rampStart = Date.now();
  for (let i = 0; i < CONNECTIONS; i++) {
    clients.push(client(port, i, () => until, st, ready));
    if (i % 50 === 49) await new Promise((r) => setTimeout(r, 25));
  }
  let rampTimer: NodeJS.Timeout | undefined;
  await Promise.race([ramped, new Promise((r) => (rampTimer = setTimeout(r, 60_000)))]);
  clearTimeout(rampTimer); // else the process lives on until the 60 s are up
  const rampMs = Date.now() - rampStart;
  // steady state from here: counters and latencies restart (wrong answers stay counted)
  st.requests = st.good = 0;
  st.nLat = 0;
  st.statuses = {};
  const start = Date.now();
  until = start + SECONDS * 1000;
  for (let i = 0; i < 8; i++) clients.push(hostileClient(port, i * 7, until, st));
  let rssPeak = 0;
  // RequestRecords are counted and dropped as they come (the harness would keep them all)
  const byReason: Record<string, number> = {};
  const drain = (): void => {
    for (const r of gw.records) if (r.error !== null) bump(byReason, r.error);
    gw.records.length = 0;
  };
  const loop = monitorEventLoopDelay({ resolution: 20 });
  loop.enable();
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    drain();
  }, 500);
  await Promise.all(clients);
  clearInterval(sampler);
  loop.disable();
  drain();
  const elapsed = (Date.now() - start) / 1000;
  await new Promise((r) => setTimeout(r, 500));
  global.gc?.();
  const rssAfter = process.memoryUsage().rss;
  const lat = st.latencies.subarray(0, st.nLat).sort();
  const pct = (p: number): number => (lat.length === 0 ? 0 : Math.round(lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] * 100) / 100);
  const report = {
    seconds: Math.round(elapsed),
    rampMs,
    readyConnections: readyCount,
    connections: CONNECTIONS,
    requests: st.requests,
    good: st.good,
    hostile: st.hostile,
    rps: Math.round(st.requests / elapsed),
    wrong: st.wrong,
    wrongSamples: st.wrongSamples,
    statuses: st.statuses,
    errors: st.errors,
    gatewayErrorsByReason: byReason,
    eventLoopDelayMs: { p50: Math.round(loop.percentile(50) / 1e6), p99: Math.round(loop.percentile(99) / 1e6), max: Math.round(loop.max / 1e6) },
    latencyMs: { p50: pct(0.5), p99: pct(0.99), max: pct(1) },
    rssMiB: { before: Math.round(rssBefore / 1048576), peak: Math.round(rssPeak / 1048576), after: Math.round(rssAfter / 1048576) },
    exceptions,
    inFlightAfter: gw.rt.engine.inFlight,
    pools: gw.rt.upstreamStats(),
  };
  t.comment(JSON.stringify(report));
  if (process.env.SOAK_REPORT) fs.writeFileSync(process.env.SOAK_REPORT, JSON.stringify(report, null, 2));
  t.equal(exceptions, 0, 'no uncaught exception or unhandled rejection');
  t.equal(st.wrong, 0, `zero wrong answers ${JSON.stringify(st.wrongSamples)}`);
  t.ok(st.good > CONNECTIONS, `good requests served (${st.good})`);
  t.ok(st.hostile > HOSTILE.length, `hostile requests answered (${st.hostile})`);
  t.same(Object.keys(st.errors).filter((k) => k !== 'client_socket_ECONNRESET'), [], `no client-side errors besides resets of hostile sockets ${JSON.stringify(st.errors)}`);
  t.equal(gw.rt.engine.inFlight, 0, 'nothing left in flight');
  t.equal(report.pools.running + report.pools.pending, 0, 'no upstream request left');
});
