/**
 * `gatehouse validate DIR [-o json]`: load and check a configuration directory without opening sockets.
 * Prints one line per diagnostic (sorted by file, line, column), then `N objects, E errors, W warnings`.
 * Exit 0 when there are no errors (warnings allowed), 1 on errors, 2 on usage errors.
 */
import { formatDiagnostic, type Diagnostic } from '@gatehouse/core';
import { countObjects, LoadError, loadResources } from '../load/index.js';

export const usage = 'validate DIR [-o json]';

function usageError(msg: string): number {
  process.stderr.write(`gatehouse validate: ${msg}\nusage: gatehouse ${usage}\n`);
  return 2;
}

export async function run(argv: string[]): Promise<number> {
  let dir: string | undefined;
  let output = 'text';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-o' || a === '--output') {
      const v = argv[++i];
      if (v !== 'json' && v !== 'text') return usageError(`${a} expects "json" or "text"`);
      output = v;
    } else if (a.startsWith('--output=') || a.startsWith('-o=')) {
      const v = a.slice(a.indexOf('=') + 1);
      if (v !== 'json' && v !== 'text') return usageError(`${a.split('=')[0]} expects "json" or "text"`);
      output = v;
    } else if (a === '-h' || a === '--help') {
      process.stdout.write(`usage: gatehouse ${usage}\n`);
      return 0;
    } else if (a.startsWith('-') && a !== '-') return usageError(`unknown flag ${a}`);
    else if (dir === undefined) dir = a;
    else return usageError(`unexpected argument ${a}`);
  }
  if (dir === undefined) return usageError('missing DIR');

  let loaded;
  try {
    loaded = await loadResources(dir);
  } catch (e) {
    if (e instanceof LoadError) {
      process.stderr.write(`gatehouse validate: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const diagnostics: Diagnostic[] = loaded.diagnostics;
  const objects = countObjects(loaded.resources);
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.filter((d) => d.severity === 'warning').length;
  if (output === 'json') {
    process.stdout.write(JSON.stringify({ ok: errors === 0, objects, diagnostics }, null, 2) + '\n');
  } else {
    const lines = diagnostics.map(formatDiagnostic);
    lines.push(summary(objects, errors, warnings));
    process.stdout.write(lines.join('\n') + '\n');
  }
  return errors ? 1 : 0;
}

export function summary(objects: number, errors: number, warnings: number): string {
  const n = (k: number, word: string) => `${k} ${word}${k === 1 ? '' : 's'}`;
  return `${n(objects, 'object')}, ${n(errors, 'error')}, ${n(warnings, 'warning')}`;
}
