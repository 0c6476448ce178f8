/**
 * `gatehouse validate DIR [-o json]`: load and check a configuration directory without opening sockets,
 * like `nginx -t`. Loading and decoding find every schema mistake (file:line:col); when there are none,
 * the directory is also compiled and the compiler's findings are added.
 * Prints one line per diagnostic (sorted by file, line, column), then `N objects, E errors, W warnings`.
 * Exit 0 when there are no errors (warnings allowed), 1 on errors, 2 on usage errors.
 */
import { compareDiagnostics, compile, formatDiagnostic, hasErrors, type Diagnostic } from '@gatehouse/core';
import { countObjects, LoadError, loadResources } from '../load/index.js';

export const usage = 'validate DIR [-o json]';

export interface ValidateReport {
  ok: boolean;
  objects: number;
  diagnostics: Diagnostic[];
}

/** The whole check, without printing: what `validate` reports for DIR. Throws LoadError for a bad path. */
export async function validateDirectory(dir: string): Promise<ValidateReport> {
  const loaded = await loadResources(dir, { hash: false }); // nothing to compare it with
  const diagnostics = [...loaded.diagnostics];
  if (!hasErrors(diagnostics)) {
    try {
      diagnostics.push(...compile(loaded.resources).diagnostics);
    } catch (e) {
      diagnostics.push({
        severity: 'error',
        code: 'INTERNAL_ERROR',
        message: `the compiler failed on this configuration (${e instanceof Error ? e.message : String(e)}); please report this`,
      });
    }
    diagnostics.sort(compareDiagnostics);
  }
  return { ok: !hasErrors(diagnostics), objects: countObjects(loaded.resources), diagnostics };
}

/** The human output: one line per diagnostic, then the summary line. */
export function formatReport(r: ValidateReport): string[] {
  const errors = r.diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = r.diagnostics.filter((d) => d.severity === 'warning').length;
  return [...r.diagnostics.map(formatDiagnostic), summary(r.objects, errors, warnings)];
}

export function summary(objects: number, errors: number, warnings: number): string {
  const n = (k: number, word: string) => `${k} ${word}${k === 1 ? '' : 's'}`;
  return `${n(objects, 'object')}, ${n(errors, 'error')}, ${n(warnings, 'warning')}`;
}

function usageError(msg: string): number {
  process.stderr.write(`gatehouse validate: ${msg}\nusage: gatehouse ${usage}\n`);
  return 2;
}

export async function run(argv: string[]): Promise<number> {
  let dir: string | undefined;
  let output = 'text';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    let value: string | undefined;
    if (a === '-o' || a === '--output') value = argv[++i] ?? '';
    else if (a.startsWith('-o=') || a.startsWith('--output=')) value = a.slice(a.indexOf('=') + 1);
    else if (a === '-h' || a === '--help') {
      process.stdout.write(`usage: gatehouse ${usage}\n`);
      return 0;
    } else if (a.startsWith('-') && a !== '-') return usageError(`unknown flag ${a}`);
    else if (dir === undefined) dir = a;
    else return usageError(`unexpected argument ${a}`);
    if (value !== undefined) {
      if (value !== 'json' && value !== 'text') return usageError(`-o expects "json" or "text", got ${JSON.stringify(value)}`);
      output = value;
    }
  }
  if (dir === undefined) return usageError('missing DIR');

  let report: ValidateReport;
  try {
    report = await validateDirectory(dir);
  } catch (e) {
    if (e instanceof LoadError) {
      process.stderr.write(`gatehouse validate: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  if (output === 'json') process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else process.stdout.write(formatReport(report).join('\n') + '\n');
  return report.ok ? 0 : 1;
}
