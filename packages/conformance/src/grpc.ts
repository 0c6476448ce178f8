/**
 * Just enough gRPC for the GRPCRoute tests, without a gRPC library: the conformance echo service
 * (`gateway_api_conformance.echo_basic.grpcecho.GrpcEcho`: Echo, EchoTwo, EchoThree = unimplemented)
 * over h2c, and a unary client. Messages follow grpcecho.proto upstream; only strings and nested messages
 * are needed, so the protobuf wire format is written and read by hand.
 */
import { connect as h2connect, constants as h2c, type Http2ServerRequest, type Http2ServerResponse, type IncomingHttpHeaders } from 'node:http2';
import { RequestError } from './client.js';
import type { EchoPodInfo } from './echo.js';

export const GRPC_ECHO_SERVICE = 'gateway_api_conformance.echo_basic.grpcecho.GrpcEcho';
export const GRPC_UNIMPLEMENTED = 12;

// ---------------------------------------------------------------------------------------------- protobuf

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

/** A length-delimited field (strings and nested messages). */
function field(no: number, value: Buffer | string): Buffer {
  const b = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([varint((no << 3) | 2), varint(b.length), b]);
}

/** Length-delimited fields of a message: field number → values (other wire types are skipped). */
export function readFields(buf: Buffer): Map<number, Buffer[]> {
  const out = new Map<number, Buffer[]>();
  let i = 0;
  const readVarint = (): number => {
    let n = 0;
    let shift = 0;
    for (;;) {
      const b = buf[i++]!;
      n += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return n;
      shift += 7;
    }
  };
  while (i < buf.length) {
    const key = readVarint();
    const wire = key & 7;
    const no = key >>> 3;
    if (wire === 2) {
      const len = readVarint();
      (out.get(no) ?? out.set(no, []).get(no)!).push(buf.subarray(i, i + len));
      i += len;
    } else if (wire === 0) readVarint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else break;
  }
  return out;
}

export interface GrpcEchoAssertions {
  fullyQualifiedMethod: string;
  headers: [string, string][];
  authority: string;
  namespace: string;
  pod: string;
}

export function encodeEchoResponse(a: GrpcEchoAssertions): Buffer {
  const context = Buffer.concat([field(1, a.namespace), field(4, a.pod)]);
  const assertions = Buffer.concat([
    field(1, a.fullyQualifiedMethod),
    ...a.headers.map(([k, v]) => field(2, Buffer.concat([field(1, k), field(2, v)]))),
    field(3, a.authority),
    field(4, context),
  ]);
  return Buffer.concat([field(1, assertions), field(2, Buffer.alloc(0))]);
}

export function decodeEchoResponse(buf: Buffer): GrpcEchoAssertions {
  const str = (m: Map<number, Buffer[]>, no: number): string => m.get(no)?.[0]?.toString('utf8') ?? '';
  const a = readFields(readFields(buf).get(1)?.[0] ?? Buffer.alloc(0));
  const ctx = readFields(a.get(4)?.[0] ?? Buffer.alloc(0));
  return {
    fullyQualifiedMethod: str(a, 1),
    headers: (a.get(2) ?? []).map((h) => {
      const f = readFields(h);
      return [str(f, 1), str(f, 2)] as [string, string];
    }),
    authority: str(a, 3),
    namespace: str(ctx, 1),
    pod: str(ctx, 4),
  };
}

/** gRPC length-prefixed message framing (uncompressed). */
export function frame(msg: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(msg.length, 1);
  return Buffer.concat([head, msg]);
}

// ---------------------------------------------------------------------------------------------- server

/** The request handler of a gRPC echo pod (mounted on an h2c server). */
export function grpcEchoHandler(info: EchoPodInfo, log: (line: string) => void) {
  return (req: Http2ServerRequest, res: Http2ServerResponse): void => {
    const path = req.url ?? '';
    req.on('data', () => {});
    req.on('end', () => {
      const ct = String(req.headers['content-type'] ?? '');
      const method = path.startsWith(`/${GRPC_ECHO_SERVICE}/`) ? path.slice(GRPC_ECHO_SERVICE.length + 2) : '';
      if (!ct.startsWith('application/grpc')) {
        res.writeHead(415, { 'content-type': 'text/plain' });
        res.end('gRPC only');
        return;
      }
      log(`Echoing back gRPC request made to ${path} to client`);
      if (method !== 'Echo' && method !== 'EchoTwo') {
        res.writeHead(200, { 'content-type': 'application/grpc', 'grpc-status': String(GRPC_UNIMPLEMENTED), 'grpc-message': `method ${path} not implemented` });
        res.end();
        return;
      }
      const headers: [string, string][] = [];
      const raw = req.rawHeaders;
      for (let i = 0; i + 1 < raw.length; i += 2) if (!raw[i]!.startsWith(':')) headers.push([raw[i]!.toLowerCase(), raw[i + 1]!]);
      const body = encodeEchoResponse({
        fullyQualifiedMethod: path,
        headers,
        authority: req.authority ?? '',
        namespace: info.namespace,
        pod: info.pod,
      });
      res.writeHead(200, { 'content-type': 'application/grpc' });
      res.addTrailers({ 'grpc-status': '0' });
      res.end(frame(body));
    });
  };
}

// ---------------------------------------------------------------------------------------------- client

export function httpToGrpcStatus(http: number): number {
  switch (http) {
    case 400: return 13; // INTERNAL
    case 401: return 16; // UNAUTHENTICATED
    case 403: return 7; // PERMISSION_DENIED
    case 404: return GRPC_UNIMPLEMENTED;
    case 429: case 502: case 503: case 504: return 14; // UNAVAILABLE
    default: return 2; // UNKNOWN
  }
}

export interface GrpcResult {
  /** gRPC status code (from trailers, or from headers for trailers-only answers); -1 when absent. */
  grpcStatus: number;
  httpStatus: number;
  response: GrpcEchoAssertions | null;
}

/** One unary call over h2c (or h2 over TLS when `tls`). */
export function grpcCall(
  target: { port: number; tls: boolean; sni?: string },
  authority: string,
  method: string,
  headers: [string, string][],
  timeoutMs: number,
): Promise<GrpcResult> {
  return new Promise((resolve, reject) => {
    const session = h2connect(
      `${target.tls ? 'https' : 'http'}://127.0.0.1:${target.port}`,
      target.tls ? { servername: target.sni ?? '', rejectUnauthorized: false, ALPNProtocols: ['h2'] } : {},
    );
    let done = false;
    const fail = (e: Error & { code?: string }): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      session.destroy();
      reject(e instanceof RequestError ? e : new RequestError(e.message, e.code ?? 'ERROR'));
    };
    const timer = setTimeout(() => fail(new RequestError(`no gRPC answer within ${timeoutMs}ms`, 'TIMEOUT')), timeoutMs);
    session.on('error', fail);
    const h: Record<string, string> = {
      [h2c.HTTP2_HEADER_METHOD]: 'POST',
      [h2c.HTTP2_HEADER_PATH]: `/${GRPC_ECHO_SERVICE}/${method}`,
      [h2c.HTTP2_HEADER_SCHEME]: target.tls ? 'https' : 'http',
      [h2c.HTTP2_HEADER_AUTHORITY]: authority,
      'content-type': 'application/grpc',
      te: 'trailers',
    };
    for (const [k, v] of headers) h[k.toLowerCase()] = v;
    const stream = session.request(h);
    let httpStatus = 0;
    let grpcStatus = -1;
    const chunks: Buffer[] = [];
    const statusFrom = (hs: IncomingHttpHeaders): void => {
      const s = hs['grpc-status'];
      if (s !== undefined) grpcStatus = Number(s);
    };
    stream.on('response', (hs) => {
      httpStatus = Number(hs[h2c.HTTP2_HEADER_STATUS] ?? 0);
      statusFrom(hs as IncomingHttpHeaders);
    });
    stream.on('trailers', (hs) => statusFrom(hs as IncomingHttpHeaders));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', fail);
    stream.on('end', () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      session.close();
      const body = Buffer.concat(chunks);
      let response: GrpcEchoAssertions | null = null;
      if (body.length >= 5) {
        try {
          response = decodeEchoResponse(body.subarray(5, 5 + body.readUInt32BE(1)));
        } catch {
          response = null;
        }
      }
      // No grpc-status (e.g. a plain HTTP error from a proxy): derive it as gRPC clients do
      // (the "HTTP to gRPC status code mapping" of the gRPC spec).
      if (grpcStatus === -1 && httpStatus !== 200) grpcStatus = httpToGrpcStatus(httpStatus);
      resolve({ grpcStatus, httpStatus, response });
    });
    stream.end(frame(Buffer.alloc(0)));
  });
}
