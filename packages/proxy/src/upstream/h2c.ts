import http2 from 'node:http2';
import net from 'node:net';
import type { ResolvedEndpoint } from '../api.js';

/**
 * h2c (HTTP/2 prior knowledge) client sessions, one per endpoint, for backends with protocol `h2c`
 * (appProtocol kubernetes.io/h2c, GRPCRoute backends). node:http2 rather than undici because gRPC needs
 * response trailers passed through exactly. A session that closes or receives GOAWAY is replaced on the
 * next request.
 */
export class H2cSessions {
  readonly #sessions = new Map<string, http2.ClientHttp2Session>();

  get(ep: ResolvedEndpoint): http2.ClientHttp2Session {
    let s = this.#sessions.get(ep.key);
    if (s !== undefined && !s.closed && !s.destroyed) return s;
    const authority = ep.unix ? 'http://localhost' : `http://${ep.address.includes(':') ? `[${ep.address}]` : ep.address}:${ep.port}`;
    const opts: http2.SecureClientSessionOptions = {};
    if (ep.unix) {
      const path = ep.address;
      opts.createConnection = () => net.connect(path);
    }
    s = http2.connect(authority, opts);
    const key = ep.key;
    const created = s;
    const drop = (): void => {
      if (this.#sessions.get(key) === created) this.#sessions.delete(key);
    };
    s.on('close', drop);
    s.on('goaway', drop);
    s.on('error', drop);
    // Do not keep the process alive for idle sessions.
    s.unref();
    this.#sessions.set(key, s);
    return s;
  }

  retain(keep: Set<string>): void {
    for (const [key, s] of this.#sessions) {
      if (keep.has(key)) continue;
      this.#sessions.delete(key);
      s.close();
    }
  }

  close(): void {
    for (const s of this.#sessions.values()) s.close();
    this.#sessions.clear();
  }

  destroy(): void {
    for (const s of this.#sessions.values()) s.destroy();
    this.#sessions.clear();
  }
}

