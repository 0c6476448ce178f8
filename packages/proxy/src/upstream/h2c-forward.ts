import http2 from 'node:http2';
import type { Http2ServerResponse } from 'node:http2';
import type { ResolvedEndpoint } from '../api.js';
import type { Exchange } from '../engine/exchange.js';
import { Replies } from '../errors.js';
import { isHopByHop } from './headers.js';

const kEx = Symbol('gatehouse.h2c.exchange');
type Stream = http2.ClientHttp2Stream & { [kEx]?: Exchange };

function onResponse(this: Stream, headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader): void {
  const ex = this[kEx];
  if (ex === undefined || ex.done) return;
  const status = Number(headers[':status'] ?? 502);
  const retry = ex.rule!.retry;
  if (retry !== null && ex.retriesLeft > 0 && ex.replayable() && retry.codes.includes(status)) {
    ex.cancelH2c?.();
    ex.scheduleRetry();
    return;
  }
  const list: string[] = [];
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 || isHopByHop(name)) continue;
    const v = headers[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) list.push(name, x);
    else list.push(name, String(v));
  }
  if (headers['grpc-status'] !== undefined && ex.h2) {
    ex.upstreamStarted(status);
    // gRPC trailers-only answer (grpc-status in the response headers): keep it a single HEADERS frame
    // with END_STREAM, as gRPC clients expect
    const plan = ex.plan!;
    for (const m of plan.response) m.apply(list);
    const out: http2.OutgoingHttpHeaders = { ':status': status };
    for (let i = 0; i < list.length; i += 2) out[list[i]] = list[i + 1];
    const ds = (ex.res as Http2ServerResponse).stream;
    if (!ds.destroyed && !ds.headersSent) ds.respond(out, { endStream: true });
    ex.finish();
    return;
  }
  try {
    ex.writeHead(status, list);
  } catch {
    ex.pp.engine.telemetry.onBackendError(ex.backend!.id, 'malformed');
    ex.reply(Replies.malformed);
    ex.cancelH2c?.();
    return;
  }
  ex.upstreamStarted(status);
}

function onData(this: Stream, chunk: Buffer): void {
  const ex = this[kEx];
  if (ex === undefined || ex.done) return;
  ex.bytesOut += chunk.length;
  const res = ex.res as import('node:http').ServerResponse;
  if (!res.write(chunk)) {
    this.pause();
    res.once('drain', ex.resumeFn!);
  }
}

function onTrailers(this: Stream, trailers: http2.IncomingHttpHeaders): void {
  const ex = this[kEx];
  if (ex === undefined || ex.done) return;
  const t: Record<string, string> = {};
  for (const name in trailers) {
    const v = trailers[name];
    if (name.charCodeAt(0) === 58 || v === undefined) continue;
    t[name] = Array.isArray(v) ? v.join(',') : String(v);
  }
  ex.res!.addTrailers(t);
}

function onEnd(this: Stream): void {
  const ex = this[kEx];
  if (ex === undefined || ex.done) return;
  ex.res!.end();
  ex.finish();
}

function onError(this: Stream, err: Error): void {
  const ex = this[kEx];
  if (ex === undefined || ex.done) return;
  ex.upstreamFailed(err);
}

function onClose(this: Stream): void {
  const ex = this[kEx];
  if (ex === undefined || ex.done) return;
  // closed without 'end' (RST_STREAM / session gone)
  const err = Object.assign(new Error('upstream stream closed'), { code: this.rstCode === 0 ? 'ECONNRESET' : 'ERR_HTTP2_STREAM_ERROR' });
  ex.upstreamFailed(err);
}

/**
 * Forward an exchange to an h2c endpoint over the endpoint's shared http2 session. Request headers are
 * lowercased (HTTP/2), Host becomes :authority, `te: trailers` is kept (gRPC needs it), and response
 * trailers (`grpc-status`) are passed through.
 */
export function forwardH2c(ex: Exchange, ep: ResolvedEndpoint): void {
  let session: http2.ClientHttp2Session;
  try {
    session = ex.pp.engine.h2c.get(ep);
  } catch (err) {
    ex.upstreamFailed(err as Error);
    return;
  }
  const h: http2.OutgoingHttpHeaders = {
    ':method': ex.head.method,
    ':path': ex.upstreamPath,
    ':scheme': 'http',
  };
  const list = ex.headers;
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i].toLowerCase();
    if (name === 'host') {
      h[':authority'] = list[i + 1];
      continue;
    }
    const prev = h[name];
    if (prev === undefined) h[name] = list[i + 1];
    else if (Array.isArray(prev)) prev.push(list[i + 1]);
    else h[name] = [String(prev), list[i + 1]];
  }
  const te = ex.req.headers.te;
  if (typeof te === 'string' && te.includes('trailers')) h.te = 'trailers';
  let stream: Stream;
  try {
    stream = session.request(h, { endStream: !ex.hasBody }) as Stream;
  } catch (err) {
    ex.upstreamFailed(err as Error);
    return;
  }
  stream[kEx] = ex;
  ex.cancelH2c = () => {
    // detach first: callbacks of a cancelled stream must not reach the exchange (it may retry)
    stream[kEx] = undefined;
    if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
  };
  ex.resumeFn = () => stream.resume();
  stream.on('response', onResponse);
  stream.on('data', onData);
  stream.on('trailers', onTrailers);
  stream.on('end', onEnd);
  stream.on('error', onError);
  stream.on('close', onClose);
  if (ex.bodyBuffer !== null) stream.end(ex.bodyBuffer);
  else if (ex.hasBody) (ex.body ?? ex.req).pipe(stream);
}
