/**
 * `gatehouse healthcheck [--admin ADDR]`: exit 0 when the admin /readyz answers 200 within 2 s, else 1.
 * Meant for Docker's HEALTHCHECK (no curl in the image).
 */
import * as http from 'node:http';
import { parseArgs } from 'node:util';
import { parseHostPort } from '@gatehouse/proxy';

export const usage = 'healthcheck [--admin HOST:PORT] [--timeout 2s]';

/** GET http://ADDR/readyz → status code, or an error message. */
export function probe(host: string, port: number, timeoutMs: number, path = '/readyz'): Promise<{ status: number } | { error: string }> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: { status: number } | { error: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = http.get({ host, port, path, agent: false, headers: { connection: 'close' } }, (res) => {
      res.resume();
      done({ status: res.statusCode ?? 0 });
    });
    const timer = setTimeout(() => {
      req.destroy();
      done({ error: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => done({ error: err.code ?? err.message }));
  });
}

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({ args: argv, options: { admin: { type: 'string' }, timeout: { type: 'string' }, quiet: { type: 'boolean', short: 'q' } } }).values;
  } catch (err) {
    process.stderr.write(`gatehouse healthcheck: ${(err as Error).message}\nusage: gatehouse ${usage}\n`);
    return 2;
  }
  let addr;
  try {
    addr = parseHostPort(values.admin ?? process.env.GATEHOUSE_ADMIN ?? '127.0.0.1:9901');
  } catch (err) {
    process.stderr.write(`gatehouse healthcheck: ${(err as Error).message}\n`);
    return 2;
  }
  const m = /^(\d+)(ms|s)?$/.exec(values.timeout ?? '2s');
  const timeoutMs = m ? Number(m[1]) * (m[2] === 'ms' ? 1 : 1000) : 2000;
  // Asking the wildcard address means asking this host.
  const host = addr.host === '0.0.0.0' ? '127.0.0.1' : addr.host === '::' ? '::1' : addr.host;
  const r = await probe(host, addr.port, timeoutMs);
  const where = `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}/readyz`;
  if ('status' in r && r.status === 200) {
    if (!values.quiet) process.stdout.write(`ready (${where})\n`);
    return 0;
  }
  process.stderr.write(`not ready: ${where} ${'status' in r ? `answered ${r.status}` : r.error}\n`);
  return 1;
}
