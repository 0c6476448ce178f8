/**
 * Diagnostics: every user mistake found while loading, decoding, validating or compiling becomes one
 * of these (never an exception). They carry where the mistake is (`file:line:col`), which object it
 * belongs to (`Kind ns/name`), the field path inside the object, a stable code and a message.
 */

export type Severity = 'error' | 'warning' | 'info';

export interface Position {
  /** Path as given to the loader, relative to the loaded directory when possible. */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
}

export interface Diagnostic {
  severity: Severity;
  /**
   * Stable, machine-readable code in UPPER_SNAKE_CASE, e.g. `YAML_SYNTAX`, `UNKNOWN_FIELD`, `INVALID_ENUM`,
   * `OUT_OF_RANGE`, `INVALID_DURATION`, `DUPLICATE_OBJECT`, `CEL_RULE`, `UNKNOWN_KIND`. Scripts match on it.
   */
  code: string;
  message: string;
  /** Where, when known. */
  file?: string;
  line?: number;
  col?: number;
  /** `Kind namespace/name` (or `Kind name` for cluster-scoped kinds), when the diagnostic belongs to an object. */
  object?: string;
  /** Field path inside the object, e.g. `spec.rules[0].backendRefs[1].weight`. */
  path?: string;
  /** Optional extra help, e.g. `did you mean "weight"?`. */
  hint?: string;
}

/** `file:line:col kind ns/name CODE: message` — the one-line human format of `gatehouse validate`. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.file ? `${d.file}:${d.line ?? 0}:${d.col ?? 0}` : '<config>';
  const obj = d.object ? ` ${d.object}` : '';
  const path = d.path ? ` (${d.path})` : '';
  const hint = d.hint ? ` (${d.hint})` : '';
  // DESIGN §3: `file:line:col kind ns/name CODE: message`; a warning says so at the start of its message,
  // so every line keeps that shape for tools that parse it.
  const sev = d.severity === 'error' ? '' : `${d.severity}: `;
  return `${where}${obj} ${d.code}: ${sev}${d.message}${path}${hint}`;
}

/** Sort by file, line, column, then code: the order diagnostics are printed in. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  const fa = a.file ?? '', fb = b.file ?? '';
  if (fa !== fb) return fa < fb ? -1 : 1;
  if ((a.line ?? 0) !== (b.line ?? 0)) return (a.line ?? 0) - (b.line ?? 0);
  if ((a.col ?? 0) !== (b.col ?? 0)) return (a.col ?? 0) - (b.col ?? 0);
  return a.code < b.code ? -1 : a.code > b.code ? 1 : 0;
}

export function hasErrors(ds: readonly Diagnostic[]): boolean {
  for (const d of ds) if (d.severity === 'error') return true;
  return false;
}
