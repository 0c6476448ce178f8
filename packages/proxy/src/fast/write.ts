/**
 * One head (or head + small body) written straight to a plain-TCP socket's handle, as net.Socket's own
 * write does underneath (`handle.writeLatin1String(req, text)` with a WriteWrap), without the Writable
 * stream's per-write bookkeeping (write request object, callback, next-tick). Only when the stream has
 * nothing queued or corked, so bytes keep their order; libuv queues the rest of a partial write itself
 * (bounded: one head and at most a few KB of body per exchange), and later stream writes queue behind
 * it in libuv. Anything else, and any Node without the internal `stream_wrap` binding as used here,
 * takes `socket.write()`.
 *
 * HOT PATH — the fast engine's one write per request and direction.
 */
import type { Socket } from 'node:net';

interface WriteReq {
  handle: unknown;
  oncomplete: (status: number) => void;
  async: boolean;
  bytes: number;
  buffer: null;
  socket: Socket;
}
interface StreamWrapBinding {
  WriteWrap: new () => WriteReq;
  streamBaseState: Int32Array;
  kLastWriteWasAsync: number;
}
interface WritableHandle {
  writeLatin1String(req: WriteReq, text: string): number;
}

function load(): StreamWrapBinding | null {
  try {
    const p = process as unknown as { binding?: (name: string) => unknown };
    if (typeof p.binding !== 'function') return null;
    const emit = process.emitWarning;
    process.emitWarning = () => undefined;
    let b: StreamWrapBinding;
    try {
      b = p.binding('stream_wrap') as StreamWrapBinding;
    } finally {
      process.emitWarning = emit;
    }
    if (typeof b.WriteWrap !== 'function' || !(b.streamBaseState instanceof Int32Array) || typeof b.kLastWriteWasAsync !== 'number') return null;
    return b;
  } catch {
    return null;
  }
}

const binding = load();

/** Whether direct writes are in use in this process (docs/architecture.md). */
export const directWrites = binding !== null;

function onDirectDone(this: WriteReq, status: number): void {
  // a write libuv finished later (the kernel buffer was full): only a failure matters here
  if (status < 0) this.socket.destroy();
}

/**
 * Write `text` (latin1) to `socket`; false when the socket cannot take more now (socket.write()'s
 * answer). A direct write always answers true: what the kernel did not take at once stays queued in
 * libuv (one head, bounded), and 'drain' — which the stream would not emit for it — is never awaited.
 */
export function writeText(socket: Socket, text: string): boolean {
  const h = (socket as unknown as { _handle?: WritableHandle | null })._handle;
  if (binding === null || h == null || socket.writableLength !== 0 || socket.writableCorked !== 0 || !socket.writable || socket.connecting || (socket as { encrypted?: boolean }).encrypted === true) {
    return socket.write(text, 'latin1');
  }
  const req = new binding.WriteWrap();
  req.handle = h;
  req.oncomplete = onDirectDone;
  req.async = false;
  req.bytes = 0;
  req.buffer = null;
  req.socket = socket;
  const err = h.writeLatin1String(req, text);
  if (err !== 0) {
    socket.destroy();
    return false;
  }
  return true;
}
