import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { Replies, replyForUpstreamError } from '../errors.js';
import { Exchange } from '../engine/exchange.js';
import type { PreparedPort } from '../engine/prepared.js';

const kEx = Symbol('gatehouse.ws.exchange');
type Up = net.Socket & { [kEx]?: Exchange; [kDown]?: Duplex; [kHead]?: Buffer };
const kDown = Symbol('gatehouse.ws.down');
const kHead = Symbol('gatehouse.ws.head');

function onUpConnect(this: Up): void {
  const ex = this[kEx]!;
  const down = this[kDown]!;
  const h = ex.headers;
  let text = `${ex.head.method} ${ex.upstreamPath} HTTP/1.1\r\n`;
  for (let i = 0; i < h.length; i += 2) text += h[i] + ': ' + h[i + 1] + '\r\n';
  text += 'connection: Upgrade\r\nupgrade: ' + String(ex.req.headers.upgrade) + '\r\n\r\n';
  this.write(text, 'latin1');
  const head = this[kHead];
  if (head !== undefined && head.length > 0) this.write(head);
  // The upstream's 101 (or refusal) goes to the client as bytes; then both directions are piped.
  ex.status = 101;
  ex.responded = true;
  ex.upstreamMs = performance.now() - ex.start;
  this.removeListener('error', onUpErrorBeforeConnect);
  this.on('error', onUpErrorAfter);
  down.on('error', onDownError);
  this.pipe(down);
  down.pipe(this);
}

function onUpErrorBeforeConnect(this: Up, err: Error): void {
  const ex = this[kEx]!;
  ex.pp.engine.telemetry.onBackendError(ex.backend!.id, replyForUpstreamError(err).reason);
  if (ex.endpoint !== null) ex.pp.engine.resolver.reportFailure(ex.backend!, ex.endpoint);
  ex.reply(replyForUpstreamError(err));
}

function onUpErrorAfter(this: Up): void {
  this[kDown]?.destroy();
}

function onDownError(this: Duplex): void {
  // the upstream side is destroyed by pipe's unpipe/close below
}

function onUpClose(this: Up): void {
  const ex = this[kEx]!;
  // after an error answer (502) the client socket is ended by reply(); otherwise close it too
  if (ex.responded) this[kDown]?.destroy();
  ex.finish();
}

/**
 * WebSocket (HTTP/1.1 `Upgrade: websocket`): route like any request (filters that answer still answer),
 * then connect to an endpoint with node:net (or node:tls for `wss`/`tls` backends), write the request
 * head and pipe both ways. Request header filters apply; response filters do not (the upstream's 101
 * passes through byte for byte).
 */
export function handleUpgrade(
  pp: PreparedPort,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  secure: boolean,
  sni: string | null,
): void {
  const ex = new Exchange(pp, req, null, secure, socket as net.Socket);
  socket.on('error', () => socket.destroy());
  if (!ex.route(sni)) return;
  const upgrade = req.headers.upgrade;
  if (typeof upgrade !== 'string' || upgrade.toLowerCase() !== 'websocket') {
    ex.reply(Replies.badRequest);
    return;
  }
  const plan = ex.plan!;
  const path = plan.pathRewrite === null ? ex.head.path : plan.pathRewrite.apply(ex.head.path);
  ex.upstreamPath = ex.head.query === '' ? path : path + '?' + ex.head.query;
  ex.headers = ex.buildHeaders(plan);
  const backend = ex.backend!;
  const ep = pp.engine.resolver.pick(backend);
  if (ep === null) {
    ex.reply(Replies.noEndpoints);
    return;
  }
  ex.endpoint = ep;
  const useTls = backend.protocol === 'wss' || backend.protocol === 'tls';
  let up: Up;
  if (ep.unix) up = net.connect(ep.address) as Up;
  else if (useTls) up = tls.connect({ host: ep.address, port: ep.port, servername: net.isIP(ex.head.host) ? undefined : ex.head.host, ALPNProtocols: ['http/1.1'] }) as Up;
  else up = net.connect(ep.port, ep.address) as Up;
  up[kEx] = ex;
  up[kDown] = socket;
  up[kHead] = head;
  up.setNoDelay(true);
  up.once(useTls ? 'secureConnect' : 'connect', onUpConnect);
  up.on('error', onUpErrorBeforeConnect);
  up.once('close', onUpClose);
  socket.once('close', () => up.destroy());
}
