/**
 * The stable serialisation of a RoutingTable: object keys sorted, arrays in order, 2-space JSON, a
 * trailing newline. Golden files, `gatehouse routes -o json` and the admin `/config` endpoint use it.
 * Certificate private keys are replaced by `"<redacted>"` unless `redactKeys: false` (used only to
 * compute the table hash, so a key change still changes the hash).
 */
import type { RoutingTable } from './types.js';

export interface SerializeOptions {
  redactKeys?: boolean;
}

export const REDACTED = '<redacted>';

export function serializeTable(table: RoutingTable, options: SerializeOptions = {}): string {
  const redact = options.redactKeys ?? true;
  const value = redact ? { ...table, certificates: table.certificates.map((c) => ({ ...c, key: REDACTED })) } : table;
  return stableStringify(value) + '\n';
}

/** JSON with object keys in sorted order (recursively), 2-space indent. `undefined` fields are dropped. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}
