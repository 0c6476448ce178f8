import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

/** Where an h2c session keeps the client address (its socket is a JS stream wrapper without one). */
export const kRemoteAddress = Symbol.for('gatehouse.remoteAddress');

/**
 * node:http2 reads a net.Socket's handle directly, so bytes already read from the socket (the sniffed
 * h2 preface) would be lost. For h2c connections only, the socket is wrapped in a Duplex that replays
 * the first chunk and then relays both ways with back-pressure. HTTP/1.1 connections are handed over
 * unwrapped (node:http picks up unshifted data).
 */
export function replayingDuplex(socket: Socket, first: Buffer): Duplex {
  const d = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      socket.write(chunk, cb);
    },
    writev(chunks, cb) {
      socket.cork();
      for (const c of chunks) socket.write(c.chunk as Buffer);
      socket.uncork();
      cb();
    },
    final(cb) {
      socket.end();
      cb();
    },
    destroy(err, cb) {
      socket.destroy(err ?? undefined);
      cb(err);
    },
  });
  d.push(first);
  socket.on('data', (c: Buffer) => {
    if (!d.push(c)) socket.pause();
  });
  socket.on('end', () => d.push(null));
  socket.on('error', (e) => d.destroy(e));
  socket.on('close', () => d.destroy());
  return d;
}

/** True when the chunk starts like the HTTP/2 connection preface (`PRI * HTTP/2.0`). */
export function looksLikeH2Preface(chunk: Buffer): boolean {
  return chunk.length >= 3 && chunk[0] === 0x50 && chunk[1] === 0x52 && chunk[2] === 0x49;
}
