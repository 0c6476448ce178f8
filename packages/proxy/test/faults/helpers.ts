/** Misbehaving loopback backends (raw `net` servers) and leak checks for the fault tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import type { GatewayUnderTest } from '../hardening/harness.js';

/** A raw TCP backend: `onRequest(socket, head)` is called once per request head received. */
export async function rawBackend(onRequest: (s: net.Socket, head: string) => void): Promise<{ port: number; close: () => Promise<void>; connections: () => number }> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((s) => {
    connections++;
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    let buf = '';
    s.on('data', (c: Buffer) => {
      buf += c.toString('latin1');
      let i: number;
      while ((i = buf.indexOf('\r\n\r\n')) !== -1) {
        const head = buf.slice(0, i);
        buf = buf.slice(i + 4);
        onRequest(s, head);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => connections,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/**
 * A port whose connects hang: a python listener with backlog 0 that never accepts, its queue filled by
 * two idle connections, so the kernel drops further SYNs. Null when python3 is not available.
 */
export async function hangingPort(): Promise<{ port: number; close: () => void } | null> {
  let child: ChildProcess;
  try {
    child = spawn('python3', ['-c', 'import socket,sys,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)'], { stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return null;
  }
  const port = await new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(null));
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    setTimeout(() => resolve(null), 3000).unref();
  });
  if (port === null) {
    child.kill();
    return null;
  }
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 3; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    fillers.push(s);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    close: () => {
      for (const s of fillers) s.destroy();
      child.kill();
    },
  };
}

/**
 * Upstream requests in flight/pending across the gateway's pools, whichever engine serves (must be 0
 * after each fault).
 */
export function poolStats(gw: GatewayUnderTest): { connected: number; pending: number; running: number } {
  return gw.rt.upstreamStats();
}

export function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
}
