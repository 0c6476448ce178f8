/**
 * `gatehouse quickstart`: starts the three demo echo backends of fixtures/quickstart in-process
 * (127.0.0.1:18081..18083), then `run`s that directory and prints the curl lines to try.
 * Takes the `run` flags too (e.g. `--admin`, `--log-format`); a DIR replaces the bundled config.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startEchoServer, type EchoServer } from '@gatehouse/proxy';
import { parseRunArgs, serve, UsageError } from './run.js';

export const usage = 'quickstart [DIR] [run flags]';

/** The bundled quickstart directory (fixtures/quickstart at the repository root). */
export function quickstartDir(): string {
  return fileURLToPath(new URL('../../../../fixtures/quickstart', import.meta.url));
}

export const DEMO_BACKENDS = [
  { name: 'web-v1', port: 18081 },
  { name: 'web-v2', port: 18082 },
  { name: 'api', port: 18083 },
];

export function tryLines(port = 8080, admin = '127.0.0.1:9901'): string[] {
  const base = `http://127.0.0.1:${port}`;
  return [
    '',
    'Gatehouse quickstart is running. Try:',
    '',
    `  curl -H 'Host: www.example.com' ${base}/                 # 3:1 canary: web-v1 or web-v2 (see "pod")`,
    `  for i in 1 2 3 4 5 6 7 8; do curl -s -H 'Host: www.example.com' ${base}/ | grep '"pod"'; done`,
    `  curl -H 'Host: api.example.com' ${base}/v1/users         # rewritten: the api backend sees /users`,
    `  curl -i -H 'Host: www.example.com' ${base}/old-blog/hi   # 301 redirect to /blog/hi`,
    `  curl -i -H 'Host: nope.example.com' ${base}/             # no route: 404`,
    '',
    `  curl ${admin.startsWith('http') ? admin : `http://${admin}`}/metrics   # also /status, /config, /readyz; POST /reload`,
    '',
    'Edit the YAML in the config directory while this runs: changes apply within a second.',
    'Ctrl-C drains and stops.',
    '',
  ];
}

export async function run(argv: string[]): Promise<number> {
  let config;
  try {
    config = parseRunArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`gatehouse quickstart: ${err.message}\nusage: gatehouse ${usage}\n`);
      return 2;
    }
    throw err;
  }
  if (config.help) {
    process.stdout.write(`usage: gatehouse ${usage}\n`);
    return 0;
  }
  if (!config.dirGiven) config.dir = quickstartDir();
  if (!existsSync(config.dir)) {
    process.stderr.write(`gatehouse quickstart: ${config.dir} not found (run from a checkout of the repository, or give a DIR)\n`);
    return 1;
  }

  const echoes: EchoServer[] = [];
  for (const b of DEMO_BACKENDS) {
    try {
      echoes.push(await startEchoServer({ host: '127.0.0.1', port: b.port, name: b.name, service: b.name, namespace: 'default' }));
    } catch (err) {
      process.stderr.write(`gatehouse quickstart: cannot start the demo backend ${b.name} on 127.0.0.1:${b.port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
      await Promise.all(echoes.map((e) => e.close()));
      return 1;
    }
  }
  const admin = config.admin ? `${config.admin.host}:${config.admin.port}` : '(admin off)';
  const code = await serve(config, {
    onStarted: (gw) => {
      const ports = [...gw.runtime.boundPorts().values()];
      process.stderr.write(tryLines(ports[0] ?? 8080, admin).join('\n') + '\n');
    },
  });
  await Promise.all(echoes.map((e) => e.close()));
  setTimeout(() => process.exit(code), 2000).unref();
  return code;
}
