/**
 * One attempt of a request case, whatever it speaks (HTTP/1.1, HTTP/2, WebSocket, gRPC, the TCP and UDP
 * echo protocols, DNS), compared with the case's expectation; and one sample for a distribution check.
 * The runner retries attempts until they pass `consecutive` times in a row.
 */
import { randomUUID } from 'node:crypto';
import type { RequestCase, RequestSpec } from './cases.js';
import {
  dnsExchange,
  roundTrip,
  tcpEchoExchange,
  udpEchoExchange,
  webSocketEcho,
  RequestError,
  type OutgoingRequest,
  type RoundTrip,
  type TcpEchoResult,
  type Target,
  type UdpEchoResult,
} from './client.js';
import { compareRoundTrip, type Mismatch } from './compare.js';
import { grpcCall, type GrpcResult } from './grpc.js';

/** Datagram protocols get no answer at all when dropped: wait at most this long for one. */
const DATAGRAM_WAIT_MS = 2000;

/** One attempt: null when it met the expectation. Connection errors count as "rejected" when that is expected. */
export async function probe(
  rc: RequestCase,
  target: Target,
  host: string,
  path: string,
  out: OutgoingRequest,
  timeoutMs: number,
  /** For HTTPS listeners: the certificate (SHA-256 fingerprint) the listener's certificateRef names. */
  expectedCert?: { fingerprint: string; secret: string },
): Promise<Mismatch | null> {
  const spec = rc.request;
  try {
    if (spec.tcpEcho) return compareTcpEcho(rc, await tcpEchoExchange(target, timeoutMs));
    if (spec.udpEcho) {
      const payload = `conformance-${randomUUID()}`;
      return compareUdpEcho(rc, payload, await udpEchoExchange(target.port, payload, Math.min(timeoutMs, DATAGRAM_WAIT_MS)));
    }
    if (spec.dnsQuery) {
      const r = await dnsExchange(target.port, spec.dnsQuery, Math.min(timeoutMs, DATAGRAM_WAIT_MS));
      if (rc.expect.rejected) return { what: 'DNS query', expected: 'no answer', got: `rcode ${r.rcode}` };
      return r.rcode !== 0 || r.answers < 1 ? { what: 'DNS answer', expected: 'NOERROR with an answer', got: `rcode ${r.rcode}, ${r.answers} answers` } : null;
    }
    if (spec.grpcMethod) return compareGrpc(rc, await grpcCall(target, host, spec.grpcMethod, spec.headers, timeoutMs));
    if (spec.webSocket) {
      const msg = `conformance-${randomUUID()}`;
      const ws = await webSocketEcho(target, host, path, msg, timeoutMs);
      if (ws.status !== 101) return { what: 'WebSocket upgrade', expected: '101 Switching Protocols', got: String(ws.status) };
      return ws.echoed !== msg ? { what: 'WebSocket echo', expected: msg, got: String(ws.echoed) } : null;
    }
    const rt = await roundTrip(target, out, timeoutMs);
    if (rc.expect.rejected) {
      return { what: 'connection', expected: 'rejected (refused, reset or closed)', got: `answered ${rt.status}${rt.echo ? ` by ${rt.echo.pod}` : ''}` };
    }
    if (expectedCert && rt.peerCertFingerprint && rt.peerCertFingerprint !== expectedCert.fingerprint) {
      return { what: 'served certificate', expected: `the certificate of Secret ${expectedCert.secret} (${expectedCert.fingerprint.slice(0, 23)}…)`, got: `another one (${rt.peerCertFingerprint.slice(0, 23)}…)` };
    }
    return compareRoundTrip({ ...spec, host, ...(target.tls ? { sni: target.sni ?? '' } : {}) }, path, rc.expect, rt);
  } catch (e) {
    if (rc.expect.rejected) return null;
    const code = e instanceof RequestError ? e.code : 'ERROR';
    const expected = spec.tcpEcho ? 'the TCP echo exchange' : spec.udpEcho || spec.dnsQuery ? 'a datagram back' : `status ${rc.expect.status.join(' or ')}`;
    return { what: 'response', expected, got: `${code}: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** One sample for a distribution check, in the HTTP echo shape (status 200 + echo with the pod when it worked). */
export async function sample(spec: RequestSpec, target: Target, host: string, out: OutgoingRequest, timeoutMs: number): Promise<RoundTrip> {
  if (spec.grpcMethod) return grpcAsEcho(await grpcCall(target, host, spec.grpcMethod, spec.headers, timeoutMs));
  if (spec.tcpEcho) return tcpAsEcho(await tcpEchoExchange(target, timeoutMs));
  if (spec.udpEcho) return udpAsEcho(await udpEchoExchange(target.port, 'weight', Math.min(timeoutMs, DATAGRAM_WAIT_MS)));
  return roundTrip(target, out, timeoutMs);
}

/** gRPC checks of the upstream GRPCRoute tests: grpc-status, then backend pod, namespace and headers seen. */
export function compareGrpc(rc: RequestCase, r: GrpcResult): Mismatch | null {
  const e = rc.expect;
  const want = e.grpcStatus ?? 0;
  if (r.grpcStatus !== want) {
    return { what: 'grpc-status', expected: String(want), got: `${r.grpcStatus === -1 ? 'none' : r.grpcStatus} (HTTP ${r.httpStatus}${r.response ? `, pod ${r.response.pod}` : ''})` };
  }
  if (want !== 0) return null;
  if (!r.response) return { what: 'gRPC response', expected: 'an EchoResponse', got: 'no message' };
  if (e.namespace !== undefined && r.response.namespace !== e.namespace) return { what: 'backend namespace', expected: e.namespace, got: r.response.namespace };
  if (e.backend !== undefined && !r.response.pod.startsWith(e.backend)) return { what: 'backend', expected: `${e.backend}-*`, got: r.response.pod };
  for (const [name, value] of e.request?.headers ?? []) {
    const got = r.response.headers.filter(([k]) => k === name.toLowerCase()).map(([, v]) => v);
    if (!got.length) return { what: `backend saw header ${name}`, expected: value, got: 'absent' };
    // gRPC metadata may arrive as one joined value or as repeated entries: compare without spaces after commas.
    if (got.join(',').replace(/,\s+/g, ',') !== value) return { what: `backend saw header ${name}`, expected: value, got: got.join(',') };
  }
  for (const name of e.request?.absentHeaders ?? []) {
    if (r.response.headers.some(([k]) => k === name.toLowerCase())) return { what: `backend saw header ${name}`, expected: 'absent', got: 'present' };
  }
  return null;
}

/** A gRPC answer in the shape the distribution check reads (status 200 + echo pod when OK). */
function grpcAsEcho(r: GrpcResult): RoundTrip {
  const ok = r.grpcStatus === 0 && r.response !== null;
  return {
    status: ok ? 200 : 500,
    headers: new Map(),
    echo: ok ? { path: r.response!.fullyQualifiedMethod, host: r.response!.authority, method: 'POST', proto: 'HTTP/2.0', headers: {}, namespace: r.response!.namespace, pod: r.response!.pod } : null,
    bodySnippet: '',
    protocol: 'HTTP/2.0',
  };
}

/** UDP echo: the reply must carry our payload, from the expected pod and namespace; `rejected` = no reply. */
export function compareUdpEcho(rc: RequestCase, payload: string, r: UdpEchoResult): Mismatch | null {
  const e = rc.expect;
  if (e.rejected) return { what: 'datagram', expected: 'dropped (no reply)', got: `a reply from pod ${r.pod ?? '?'}` };
  if (r.request !== payload) return { what: 'UDP echo payload', expected: payload, got: String(r.request) };
  if (e.namespace !== undefined && r.namespace !== e.namespace) return { what: 'backend namespace', expected: e.namespace, got: String(r.namespace) };
  if (e.backend !== undefined && !String(r.pod).startsWith(e.backend)) return { what: 'backend', expected: `${e.backend}-*`, got: String(r.pod) };
  return null;
}

function udpAsEcho(r: UdpEchoResult): RoundTrip {
  const ok = typeof r.pod === 'string';
  return {
    status: ok ? 200 : 500,
    headers: new Map(),
    echo: ok ? { path: '', host: '', method: '', proto: 'UDP', headers: {}, namespace: r.namespace ?? '', pod: r.pod! } : null,
    bodySnippet: '',
    protocol: 'UDP',
  };
}

/** A TCP echo exchange in the shape the distribution check reads. */
function tcpAsEcho(r: TcpEchoResult): RoundTrip {
  const ok = r.pong === 'PONG' && r.test !== null && typeof r.test.pod === 'string';
  return {
    status: ok ? 200 : 500,
    headers: new Map(),
    echo: ok ? { path: '', host: '', method: '', proto: 'TCP', headers: {}, namespace: r.test!.namespace ?? '', pod: r.test!.pod! } : null,
    bodySnippet: '',
    protocol: 'TCP',
  };
}

/** The TCP echo checks of the upstream TLS/TCP helpers: welcome, PONG, IS_TLS, then namespace / pod / SNI. */
export function compareTcpEcho(rc: RequestCase, r: TcpEchoResult): Mismatch | null {
  const e = rc.expect;
  if (e.rejected) return { what: 'connection', expected: 'rejected', got: `TCP echo answered (pod ${r.test?.pod ?? '?'})` };
  if (r.welcome !== 'Gateway API Test TCP Server') return { what: 'welcome line', expected: 'Gateway API Test TCP Server', got: r.welcome };
  if (r.pong !== 'PONG') return { what: 'PING', expected: 'PONG', got: r.pong };
  if (e.backendTls !== undefined && r.isTls !== String(e.backendTls)) return { what: 'IS_TLS', expected: String(e.backendTls), got: r.isTls };
  if (!r.test) return { what: 'TEST', expected: 'a JSON line', got: 'unparsable' };
  if (e.namespace !== undefined && r.test.namespace !== e.namespace) return { what: 'backend namespace', expected: e.namespace, got: String(r.test.namespace) };
  if (e.backend !== undefined && !String(r.test.pod).startsWith(e.backend)) return { what: 'backend', expected: `${e.backend}-*`, got: String(r.test.pod) };
  if (e.backendServerName !== undefined && r.test.tls?.serverName !== e.backendServerName) {
    return { what: 'backend TLS server name', expected: e.backendServerName, got: String(r.test.tls?.serverName) };
  }
  return null;
}

export function outgoing(spec: RequestSpec, host: string, path: string): OutgoingRequest {
  const setHeader = (spec.backendSetResponseHeaders ?? []).map(([k, v]) => `${k}:${v}`).join(',');
  const out: OutgoingRequest = {
    method: spec.method,
    host,
    path,
    headers: [...spec.headers, ['X-Echo-Set-Header', setHeader]],
  };
  if (spec.body !== undefined) out.body = spec.body;
  return out;
}
