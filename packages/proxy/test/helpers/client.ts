import http from 'node:http';
import net from 'node:net';

export interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
  json: () => Record<string, unknown> & { path: string; host: string; pod: string; method: string; headers: Record<string, string[]> };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/** One HTTP/1.1 request through the gateway (keep-alive agent). */
export function request(
  port: number,
  path: string,
  opts: { method?: string; host?: string; headers?: Record<string, string | string[]>; body?: string | Buffer; agent?: http.Agent | false } = {},
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | string[]> = { ...(opts.headers ?? {}) };
    if (opts.host !== undefined) headers.host = opts.host;
    const req = http.request(
      { host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers, agent: opts.agent ?? agent, setHost: opts.host === undefined },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString();
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            body,
            json: () => JSON.parse(body),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Raw bytes to the port, the whole answer back (the server closes or `untilMs` passes). */
export function raw(port: number, text: string, untilMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    const t = setTimeout(() => {
      s.destroy();
      resolve(out);
    }, untilMs);
    s.on('data', (c) => (out += c.toString('latin1')));
    s.on('end', () => {
      clearTimeout(t);
      resolve(out);
    });
    s.on('error', (e) => {
      clearTimeout(t);
      if (out) resolve(out);
      else reject(e);
    });
    s.write(text);
  });
}

export function closeAgent(): void {
  agent.destroy();
}
