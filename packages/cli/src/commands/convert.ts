/**
 * `gatehouse convert DIR`: prints every `networking.x-k8s.io/v1alpha1` object of DIR as
 * `gateway.networking.k8s.io/v1` YAML (multi-document), each preceded by `#` comments saying what
 * changed: synthesized listener names, parentRefs computed from the v1alpha1 binding handshake,
 * maps turned into lists, widened wildcards, dropped fields. A TLSRoute whose rules have different SNI
 * sets prints as several TLSRoutes. A BackendPolicy (no v1 kind) prints as comments only: the Service
 * ports that get its appProtocol. Diagnostics go to stderr.
 * Exit 0; 1 when the directory has errors (the objects with errors are not printed); 2 on usage errors.
 */
import { Document } from 'yaml';
import { compareDiagnostics, convertDocuments, formatDiagnostic } from '@gatehouse/core';
import { LoadError, loadDirectory } from '../load/index.js';

export const usage = 'convert DIR';

export async function run(argv: string[]): Promise<number> {
  let dir: string | undefined;
  for (const a of argv) {
    if (a === '-h' || a === '--help') {
      process.stdout.write(`usage: gatehouse ${usage}\n`);
      return 0;
    }
    if (a.startsWith('-') && a !== '-') return usageError(`unknown flag ${a}`);
    if (dir !== undefined) return usageError(`unexpected argument ${a}`);
    dir = a;
  }
  if (dir === undefined) return usageError('missing DIR');

  let loaded;
  try {
    loaded = await loadDirectory(dir);
  } catch (e) {
    if (e instanceof LoadError) {
      process.stderr.write(`gatehouse convert: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const { conversions, diagnostics } = convertDocuments(loaded.docs);
  const all = [...loaded.diagnostics, ...diagnostics].sort(compareDiagnostics);
  const errors = all.filter((d) => d.severity === 'error');
  for (const d of all) process.stderr.write(formatDiagnostic(d) + '\n');

  if (conversions.length === 0) {
    process.stderr.write(`gatehouse convert: nothing to convert: no networking.x-k8s.io/v1alpha1 objects${errors.length ? ' without errors' : ''} in ${dir}\n`);
    return errors.length ? 1 : 0;
  }
  const comments = (c: (typeof conversions)[number], what: string) =>
    [` ${c.object}: ${what} (${c.source.file}:${c.source.line})`, ...c.notes.map((n) => ` - ${n}`)].join('\n');
  // A BackendPolicy has no v1 kind (manifest null): its notes say what it changed, as a comment-only
  // block after the objects, so that the output stays a list of objects kubectl can apply.
  const out = conversions
    .filter((c) => c.manifest)
    .map((c) => {
      const doc = new Document(c.manifest);
      doc.commentBefore = comments(c, 'converted from networking.x-k8s.io/v1alpha1');
      return doc.toString({ lineWidth: 0 });
    });
  const commentOnly = conversions.filter((c) => !c.manifest).map((c) => comments(c, 'networking.x-k8s.io/v1alpha1, not printed').replace(/^/gm, '#') + '\n');
  process.stdout.write([out.join('---\n'), ...commentOnly].filter(Boolean).join(out.length ? '---\n' : ''));
  return errors.length ? 1 : 0;
}

function usageError(msg: string): number {
  process.stderr.write(`gatehouse convert: ${msg}\nusage: gatehouse ${usage}\n`);
  return 2;
}
