/**
 * Test helpers for the L4 port servers: hand-built PortIR/RoutingTable, the real resolver, a
 * recording Telemetry, certificates made at run time with the openssl CLI (nothing private is committed),
 * and small loopback servers (TLS echo, TCP echo, UDP echo, a recording relay).
 */
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import type {
  BackendIR,
  BackendRefIR,
  CertificateIR,
  L4RouteIR,
  ListenerIR,
  PortIR,
  RoutingTable,
  TlsRouteIR,
} from '@gatehouse/core';
import { DefaultBackendResolver } from '../../src/upstream/resolver.js';
import type { BackendResolver, L4Record, Logger, PortServerContext, ResolvedEndpoint, Telemetry } from '../../src/api.js';

// ---------------------------------------------------------------------------------------------- IR builders

export function listener(
  name: string,
  protocol: ListenerIR['protocol'],
  hostname: string | null = null,
  tlsMode: 'Terminate' | 'Passthrough' | null = null,
  certificates: number[] = [],
): ListenerIR {
  return {
    id: `default/gw/${name}`,
    gateway: 'default/gw',
    name,
    protocol,
    port: 0,
    hostname,
    tls: tlsMode ? { mode: tlsMode, certificates } : null,
    group: -1,
  };
}

export function ref(backend: number, weight = 1, name = `Service default/b${backend}:1`): BackendRefIR {
  return {
    name,
    weight,
    backend,
    invalidReason: backend < 0 ? 'BackendNotFound' : null,
    filters: [],
  };
}

export function tlsRoute(
  route: string,
  hostname: string,
  listenerIndex: number,
  refs: BackendRefIR[],
  mode: 'Passthrough' | 'Terminate' = 'Passthrough',
): TlsRouteIR {
  return { route, routeKind: 'TLSRoute', backendRefs: refs, listener: listenerIndex, hostname, mode };
}

export function l4Route(route: string, kind: 'TCPRoute' | 'UDPRoute', refs: BackendRefIR[]): L4RouteIR {
  return { route, routeKind: kind, backendRefs: refs, listener: 0 };
}

export function backend(id: string, ports: number[], address = '127.0.0.1'): BackendIR {
  return {
    id,
    resolution: 'EndpointSlice',
    protocol: 'http1',
    endpoints: ports.map((port) => ({ address, port, dns: false, unix: false })),
  };
}

export function tlsPort(listeners: ListenerIR[], routes: TlsRouteIR[]): PortIR {
  return {
    key: '127.0.0.1:0/tcp',
    address: '127.0.0.1',
    port: 0,
    transport: 'tcp',
    protocol: 'TLS',
    listeners,
    httpGroups: [],
    tlsRoutes: routes,
    l4Route: null,
  };
}

export function l4Port(protocol: 'TCP' | 'UDP', route: L4RouteIR | null): PortIR {
  return {
    key: `127.0.0.1:0/${protocol === 'TCP' ? 'tcp' : 'udp'}`,
    address: '127.0.0.1',
    port: 0,
    transport: protocol === 'TCP' ? 'tcp' : 'udp',
    protocol,
    listeners: [listener(protocol.toLowerCase(), protocol)],
    httpGroups: [],
    tlsRoutes: [],
    l4Route: route,
  };
}

export function table(backends: BackendIR[], certificates: CertificateIR[] = [], ports: PortIR[] = []): RoutingTable {
  return { hash: 'test', ports, backends, certificates };
}

// ---------------------------------------------------------------------------------------------- context

/**
 * The real resolver (upstream/resolver.ts), recording the failures reported to it so tests can assert
 * on them.
 */
export class TestResolver implements BackendResolver {
  readonly inner = new DefaultBackendResolver();
  failures: string[] = [];
  pick(b: BackendIR): ResolvedEndpoint | null {
    return this.inner.pick(b);
  }
  reportFailure(b: BackendIR, e: ResolvedEndpoint): void {
    this.failures.push(e.key);
    this.inner.reportFailure(b, e);
  }
  reportSuccess(b: BackendIR, e: ResolvedEndpoint): void {
    this.inner.reportSuccess(b, e);
  }
}

export class RecordingTelemetry implements Telemetry {
  l4: L4Record[] = [];
  connections = new Map<string, number>();
  backendErrors: { backend: string; reason: string }[] = [];
  udp: { listener: string; direction: 'in' | 'out'; result: 'forwarded' | 'dropped' }[] = [];
  prepare(): void {}
  onRequest(): void {}
  onL4(rec: L4Record): void {
    this.l4.push(rec);
  }
  onConnection(listenerId: string, delta: 1 | -1): void {
    this.connections.set(listenerId, (this.connections.get(listenerId) ?? 0) + delta);
  }
  onBackendError(backend: string, reason: string): void {
    this.backendErrors.push({ backend, reason });
  }
  onUdpDatagram(listener: string, direction: 'in' | 'out', result: 'forwarded' | 'dropped'): void {
    this.udp.push({ listener, direction, result });
  }
}

export class MemoryLogger implements Logger {
  lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  debug(msg: string, fields?: Record<string, unknown>): void {
    this.lines.push({ level: 'debug', msg, fields });
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.lines.push({ level: 'info', msg, fields });
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.lines.push({ level: 'warn', msg, fields });
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.lines.push({ level: 'error', msg, fields });
  }
}

export interface TestContext extends PortServerContext {
  telemetry: RecordingTelemetry;
  logger: MemoryLogger;
  resolver: TestResolver;
}

export function context(t: RoutingTable): TestContext {
  return {
    logger: new MemoryLogger(),
    telemetry: new RecordingTelemetry(),
    resolver: new TestResolver(),
    table: t,
    bindAddress: '127.0.0.1',
  };
}

// ---------------------------------------------------------------------------------------------- certificates

export interface TestPki {
  ca: string;
  /** Leaf certificates by name, each with its key (PEM). */
  leaf(names: string[]): { cert: string; key: string };
}

let pki: TestPki | null = null;

/**
 * A throwaway CA made with the openssl CLI in a temp directory (test-only keys, never committed).
 * Leaves are issued on demand for a list of DNS names (`*.example.com`, `db.example.com`, ...).
 */
export function testPki(): TestPki {
  if (pki) return pki;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-l4-pki-'));
  const run = (args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key',
    '-out', 'ca.crt', '-days', '2', '-subj', '/CN=gatehouse test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  const ca = fs.readFileSync(path.join(dir, 'ca.crt'), 'utf8');
  const cache = new Map<string, { cert: string; key: string }>();
  let n = 0;
  pki = {
    ca,
    leaf(names: string[]) {
      const k = names.join(',');
      const hit = cache.get(k);
      if (hit) return hit;
      const id = `leaf${n++}`;
      const san = names.map((x) => `DNS:${x}`).join(',');
      fs.writeFileSync(path.join(dir, `${id}.ext`), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\n`);
      run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${id}.key`,
        '-out', `${id}.csr`, '-subj', `/CN=${names[0]}`]);
      run(['x509', '-req', '-in', `${id}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
        '-out', `${id}.crt`, '-days', '2', '-extfile', `${id}.ext`]);
      const pair = {
        cert: fs.readFileSync(path.join(dir, `${id}.crt`), 'utf8'),
        key: fs.readFileSync(path.join(dir, `${id}.key`), 'utf8'),
      };
      cache.set(k, pair);
      return pair;
    },
  };
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return pki;
}

// ---------------------------------------------------------------------------------------------- servers

export interface Closable {
  port: number;
  close(): Promise<void>;
}

function closeServer(server: net.Server, sockets: Set<net.Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  return new Promise((r) => server.close(() => r()));
}

function track(server: net.Server): Set<net.Socket> {
  const sockets = new Set<net.Socket>();
  const add = (s: net.Socket): void => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  server.on('connection', add);
  // A TLSSocket takes over the raw socket's handle: destroying the raw one does not close it.
  server.on('secureConnection', add);
  return sockets;
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

/** TLS backend that answers each line with `<name>:<line>` and counts connections. */
export async function tlsNameServer(name: string, cert: { cert: string; key: string }): Promise<Closable & { connections: number }> {
  const server = tls.createServer({ cert: cert.cert, key: cert.key }, (s) => {
    res.connections++;
    s.on('error', () => {});
    s.on('data', (d) => s.write(`${name}:${d.toString()}`));
  });
  server.on('tlsClientError', () => {});
  const sockets = track(server);
  const port = await listen(server);
  const res = { port, connections: 0, close: () => closeServer(server, sockets) };
  return res;
}

/** Plain TCP echo. With `halfClose`, it answers `bytes=<n>` after the client's FIN, then ends. */
export async function tcpEchoServer(opts: { halfClose?: boolean } = {}): Promise<Closable & { connections: number }> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    res.connections++;
    s.on('error', () => {});
    let n = 0;
    s.on('data', (d) => {
      n += d.length;
      if (!opts.halfClose) s.write(d);
    });
    s.on('end', () => {
      if (opts.halfClose) s.write(`bytes=${n}`);
      s.end();
    });
  });
  const sockets = track(server);
  const port = await listen(server);
  const res = { port, connections: 0, close: () => closeServer(server, sockets) };
  return res;
}

/**
 * A TCP relay to `target` that records the bytes in each direction — put one in front of the proxy and
 * one behind it to compare what the client sent with what the backend received.
 */
export async function recordingRelay(target: number): Promise<Closable & { up: Buffer[]; down: Buffer[] }> {
  const up: Buffer[] = [];
  const down: Buffer[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (c) => {
    const u = net.connect({ port: target, host: '127.0.0.1', allowHalfOpen: true });
    c.on('error', () => u.destroy());
    u.on('error', () => c.destroy());
    c.on('data', (d) => up.push(Buffer.from(d)));
    u.on('data', (d) => down.push(Buffer.from(d)));
    c.pipe(u);
    u.pipe(c);
    c.on('close', () => u.destroy());
    u.on('close', () => c.destroy());
  });
  const sockets = track(server);
  const port = await listen(server);
  return { port, up, down, close: () => closeServer(server, sockets) };
}

/** UDP echo that prefixes replies with `name:`. */
export async function udpEchoServer(name: string): Promise<Closable & { received: number; peers: Set<string> }> {
  const sock = dgram.createSocket('udp4');
  const res = {
    port: 0,
    received: 0,
    peers: new Set<string>(),
    close: () => new Promise<void>((r) => sock.close(() => r())),
  };
  sock.on('message', (msg, rinfo) => {
    res.received++;
    res.peers.add(`${rinfo.address}:${rinfo.port}`);
    sock.send(Buffer.concat([Buffer.from(`${name}:`), msg]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  res.port = sock.address().port;
  return res;
}

// ---------------------------------------------------------------------------------------------- clients

/** TLS client through the proxy: connect, verify against the test CA, send a line, return the answer. */
export function tlsAsk(
  port: number,
  servername: string,
  line: string,
  opts: { ca?: string; timeoutMs?: number } = {},
): Promise<{ ok: true; answer: string; peerCN: string } | { ok: false; error: string }> {
  return new Promise((resolve) => {
    const s = tls.connect({ port, host: '127.0.0.1', servername, ca: opts.ca ?? testPki().ca });
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ ok: false, error: 'timeout' });
    }, opts.timeoutMs ?? 3000);
    s.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ ok: false, error: e.code ?? e.message });
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ ok: false, error: 'closed' });
    });
    s.on('secureConnect', () => {
      s.write(line);
      s.once('data', (d) => {
        clearTimeout(timer);
        const peer = s.getPeerCertificate();
        resolve({ ok: true, answer: d.toString(), peerCN: String(peer.subject?.CN ?? '') });
        s.end();
      });
    });
  });
}

/** Resolve when `cond()` holds, polling every 10 ms, or reject after `ms`. */
export async function waitFor(cond: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
