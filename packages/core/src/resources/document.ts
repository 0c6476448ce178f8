import type { Position } from '../diagnostics.js';

/** A field path inside a document: object keys and array indices. */
export type FieldPath = readonly (string | number)[];

/**
 * One YAML/JSON document as the loader (cli/load) hands it to core. Core never parses YAML itself:
 * the loader parses with positions and gives core a plain JSON-compatible value plus a way to find
 * where any node was written.
 */
export interface RawDocument {
  /** File path as it should be printed (relative to the loaded directory). */
  file: string;
  /** 0-based index of the document inside its file. */
  index: number;
  /** Global load order (files sorted by path, then document index): the fallback age of an object. */
  order: number;
  /** The parsed value (plain objects, arrays, strings, numbers, booleans, null). */
  value: unknown;
  /**
   * Position of the node at `path` (for a key: the key itself). Falls back to the nearest existing
   * ancestor, so it always answers.
   */
  locate(path: FieldPath): Position;
}

/** Renders `['spec', 'rules', 0, 'backendRefs']` as `spec.rules[0].backendRefs`. */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${p}` : p;
  }
  return out;
}
