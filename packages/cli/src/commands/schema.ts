/**
 * `gatehouse schema [KIND] [--api-version V] [--list]`: prints the JSON Schema (draft-07) of one kind,
 * or of any config document (the same as schemas/all.json) without a KIND. Generated from the
 * decoder's schema descriptions, so it is always the schema of this build. For editors: save it and
 * point a `# yaml-language-server: $schema=...` modeline at it (docs/editors.md).
 */
import { parseArgs } from 'node:util';
import { allJsonSchema, kindJsonSchemas } from '@gatehouse/core';

export const usage = 'schema [KIND] [--api-version APIVERSION] [--list]';

const HELP = `usage: gatehouse ${usage}

Print the JSON Schema of a Gatehouse config document (all kinds, dispatching on apiVersion and kind),
or of one KIND (case-insensitive; the newest served version unless --api-version).

  --api-version V   e.g. gateway.networking.k8s.io/v1beta1, networking.x-k8s.io/v1alpha1, v1
  --list            list the kinds and versions (and their file under schemas/)
`;

export async function run(argv: string[]): Promise<number> {
  // `gatehouse schema | head`: a closed pipe is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { 'api-version': { type: 'string' }, list: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    process.stderr.write(`gatehouse schema: ${(err as Error).message}\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length > 1) {
    process.stderr.write(`gatehouse schema: one KIND at most, got ${positionals.join(' ')}\n${HELP}`);
    return 2;
  }
  const kinds = kindJsonSchemas();
  if (values.list) {
    const w = Math.max(...kinds.map((k) => k.apiVersion.length));
    for (const k of kinds) process.stdout.write(`${k.apiVersion.padEnd(w)}  ${k.kind.padEnd(16)}  schemas/${k.file}\n`);
    return 0;
  }
  const kind = positionals[0];
  if (kind === undefined) {
    if (values['api-version'] !== undefined) {
      process.stderr.write('gatehouse schema: --api-version needs a KIND\n');
      return 2;
    }
    process.stdout.write(JSON.stringify(allJsonSchema(kinds), null, 2) + '\n');
    return 0;
  }
  const sameKind = kinds.filter((k) => k.kind.toLowerCase() === kind.toLowerCase());
  if (!sameKind.length) {
    const known = [...new Set(kinds.map((k) => k.kind))];
    process.stderr.write(`gatehouse schema: unknown kind ${JSON.stringify(kind)}; known kinds: ${known.join(', ')}\n`);
    return 2;
  }
  const want = values['api-version'];
  const pick = want === undefined ? sameKind[0]! : sameKind.find((k) => k.apiVersion === want);
  if (!pick) {
    process.stderr.write(`gatehouse schema: ${sameKind[0]!.kind} is not served at ${want}; served: ${sameKind.map((k) => k.apiVersion).join(', ')}\n`);
    return 2;
  }
  process.stdout.write(JSON.stringify(pick.schema, null, 2) + '\n');
  return 0;
}
