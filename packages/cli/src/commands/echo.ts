/**
 * `gatehouse echo --port N [--name X] [--host H] [--namespace NS] [--quiet]`: a JSON echo backend
 * (HTTP/1.1 + h2c + WebSocket) in the conformance echo server's shape, for the quickstart, demos,
 * tests and benchmarks. Logs `Echoing back request made to <path> to client (<addr>)` per request
 * unless --quiet. Runs until SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startEchoServer } from '@gatehouse/proxy';

export const usage = 'echo --port N [--name X] [--host H] [--namespace NS] [--quiet]';

export async function run(argv: string[]): Promise<number> {
  let values: { port?: string; name?: string; host?: string; namespace?: string; quiet?: boolean };
  try {
    values = parseArgs({
      args: argv,
      options: {
        port: { type: 'string', short: 'p' },
        name: { type: 'string' },
        host: { type: 'string' },
        namespace: { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
      },
    }).values;
  } catch (err) {
    process.stderr.write(`gatehouse echo: ${(err as Error).message}\nusage: gatehouse ${usage}\n`);
    return 2;
  }
  const port = Number(values.port ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`gatehouse echo: invalid --port ${values.port}\nusage: gatehouse ${usage}\n`);
    return 2;
  }
  const name = values.name ?? 'echo';
  let server;
  try {
    server = await startEchoServer({
      port,
      host: values.host ?? '0.0.0.0',
      name,
      service: name,
      namespace: values.namespace ?? '',
      log: values.quiet ? undefined : (line) => process.stdout.write(line + '\n'),
    });
  } catch (err) {
    process.stderr.write(`gatehouse echo: cannot listen on ${values.host ?? '0.0.0.0'}:${port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`echo "${name}" listening on ${values.host ?? '0.0.0.0'}:${server.port}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
  return 0;
}
