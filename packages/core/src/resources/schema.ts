/**
 * A small schema language for the Gateway API CRDs and the core kinds, and the one generic walker
 * that checks a value against it: unknown fields (with a did-you-mean hint), types, enums, ranges,
 * lengths, patterns, list sizes and list-map keys, plus the defaults the CRDs declare. Cross-field
 * (CEL) rules are plain functions attached to an object schema; they run only when the object itself
 * decoded cleanly, so they may assume the shape the schema promised.
 *
 * The walker returns a fresh, normalised value (defaults filled in, fields renamed where the typed
 * model wants another name) and reports every problem through the Ctx; it never throws on input.
 */
import type { Diagnostic, Severity } from '../diagnostics.js';
import type { FieldPath, RawDocument } from './document.js';
import { formatPath } from './document.js';
export type { FieldPath } from './document.js';
import { didYouMean } from './suggest.js';

// ---------------------------------------------------------------------------------------------- context

export class Ctx {
  errors = 0;
  constructor(
    readonly doc: RawDocument,
    /** `Kind ns/name`, once known. */
    public object: string | undefined,
    readonly out: Diagnostic[],
  ) {}

  report(severity: Severity, code: string, path: FieldPath, message: string, hint?: string): void {
    const pos = this.doc.locate(path);
    const d: Diagnostic = { severity, code, message, file: pos.file, line: pos.line, col: pos.col };
    if (this.object) d.object = this.object;
    if (path.length) d.path = formatPath(path);
    if (hint) d.hint = hint;
    this.out.push(d);
    if (severity === 'error') this.errors++;
  }
  error(code: string, path: FieldPath, message: string, hint?: string): void {
    this.report('error', code, path, message, hint);
  }
  warn(code: string, path: FieldPath, message: string, hint?: string): void {
    this.report('warning', code, path, message, hint);
  }
}

// ---------------------------------------------------------------------------------------------- schema types

/** A cross-field rule: gets the decoded (defaulted) value and the path it sits at. */
export type Rule = (value: any, ctx: Ctx, path: FieldPath) => void;

export interface StringSchema {
  t: 'string';
  enum?: readonly string[];
  minLength?: number;
  maxLength?: number;
  pattern?: RegExp;
  /** Code and wording when the pattern fails. */
  patternCode?: string;
  patternWhat?: string;
  /** Extra check returning an error message (e.g. the path value rules). */
  check?: (v: string) => string | undefined;
  checkCode?: string;
}
export interface IntSchema {
  t: 'int';
  min?: number;
  max?: number;
  enum?: readonly number[];
}
export interface BoolSchema {
  t: 'bool';
}
/** Go duration subset of GEP-2257; decodes to milliseconds. */
export interface DurationSchema {
  t: 'duration';
}
export interface IntOrStringSchema {
  t: 'intOrString';
}
export interface AnySchema {
  t: 'any';
}
export interface Field {
  schema: Schema;
  required?: boolean;
  /** Walked through `schema` when the field is absent, so nested defaults apply too. */
  default?: unknown;
  /** Name of the field in the typed model when it differs (e.g. `request` → `requestMs`). */
  as?: string;
}
export interface ObjectSchema {
  t: 'object';
  fields: Record<string, Field>;
  rules?: Rule[];
  /** What to call this object in messages (e.g. `listener`). */
  what?: string;
}
export interface ListSchema {
  t: 'list';
  item: Schema;
  minItems?: number;
  maxItems?: number;
  /** list-map keys: items must be unique by this key (`x-kubernetes-list-map-keys`). */
  uniqueBy?: { key: (item: any) => string | undefined; field: string; what: string };
  /** CEL rules on the list as a whole; run when every item decoded cleanly. */
  rules?: Rule[];
}
export interface MapSchema {
  t: 'map';
  value: Schema;
  maxProperties?: number;
  key?: StringSchema;
}

export type Schema =
  | StringSchema
  | IntSchema
  | BoolSchema
  | DurationSchema
  | IntOrStringSchema
  | AnySchema
  | ObjectSchema
  | ListSchema
  | MapSchema;

// ---------------------------------------------------------------------------------------------- builders

export const str = (o: Omit<StringSchema, 't'> = {}): StringSchema => ({ t: 'string', ...o });
export const int = (min?: number, max?: number): IntSchema => ({ t: 'int', min, max });
export const bool = (): BoolSchema => ({ t: 'bool' });
export const duration = (): DurationSchema => ({ t: 'duration' });
export const intOrString = (): IntOrStringSchema => ({ t: 'intOrString' });
export const any = (): AnySchema => ({ t: 'any' });
export const oneOf = (values: readonly string[]): StringSchema => ({ t: 'string', enum: values });
export const obj = (fields: Record<string, Field | Schema>, rules?: Rule[], what?: string): ObjectSchema => {
  const fs: Record<string, Field> = {};
  for (const [k, f] of Object.entries(fields)) fs[k] = 'schema' in f ? f : { schema: f };
  return { t: 'object', fields: fs, rules, what };
};
export const list = (item: Schema, o: Omit<ListSchema, 't' | 'item'> = {}): ListSchema => ({ t: 'list', item, ...o });
export const map = (value: Schema = str(), maxProperties?: number): MapSchema => ({ t: 'map', value, maxProperties });
export const req = (schema: Schema): Field => ({ schema, required: true });
export const opt = (schema: Schema, dflt?: unknown, as?: string): Field => ({ schema, default: dflt, as });

// ---------------------------------------------------------------------------------------------- walker

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'number') return Number.isInteger(v) ? `integer ${v}` : `number ${v}`;
  return `${typeof v} ${String(v)}`;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const DURATION = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** Parses a GEP-2257 duration (`1h30m`, `500ms`) to milliseconds, or undefined. */
export function parseDuration(s: string): number | undefined {
  if (!DURATION.test(s)) return undefined;
  let ms = 0;
  for (const m of s.matchAll(/([0-9]+)(ms|h|m|s)/g)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  return ms;
}

function quoteList(values: readonly (string | number)[]): string {
  return values.map((v) => (typeof v === 'string' ? JSON.stringify(v) : String(v))).join(', ');
}

/**
 * Checks `value` (present in the document at `path`) against `schema`. Returns the normalised value,
 * or undefined when it is unusable (an error was reported). `path` is used as a stack (pushed and
 * popped while walking, the same length on return): pass a fresh array, and copy it before keeping it.
 */
export function walk(schema: Schema, value: unknown, ctx: Ctx, path: FieldPath): any {
  switch (schema.t) {
    case 'any':
      return value;
    case 'string': {
      if (typeof value !== 'string') {
        ctx.error('INVALID_TYPE', path, `expected a string, got ${typeName(value)}`);
        return undefined;
      }
      if (schema.enum && !schema.enum.includes(value)) {
        const hint = didYouMean(value, schema.enum);
        ctx.error('INVALID_ENUM', path, `unsupported value ${JSON.stringify(value)}: expected one of ${quoteList(schema.enum)}`, hint);
        return undefined;
      }
      if (schema.minLength !== undefined && value.length < schema.minLength) {
        ctx.error(
          'INVALID_VALUE',
          path,
          schema.minLength === 1 ? 'must not be empty' : `must be at least ${schema.minLength} characters long`,
        );
        return undefined;
      }
      if (schema.maxLength !== undefined && value.length > schema.maxLength) {
        ctx.error('TOO_LONG', path, `must be at most ${schema.maxLength} characters long, got ${value.length}`);
        return undefined;
      }
      if (schema.pattern && !schema.pattern.test(value)) {
        ctx.error(
          schema.patternCode ?? 'INVALID_VALUE',
          path,
          `${JSON.stringify(value)} is not a valid ${schema.patternWhat ?? `value (must match ${schema.pattern.source})`}`,
        );
        return undefined;
      }
      if (schema.check) {
        const msg = schema.check(value);
        if (msg) {
          ctx.error(schema.checkCode ?? schema.patternCode ?? 'INVALID_VALUE', path, msg);
          return undefined;
        }
      }
      return value;
    }
    case 'int': {
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        const quotedNumber = typeof value === 'string' && /^-?[0-9]+$/.test(value.trim());
        ctx.error(
          'INVALID_TYPE',
          path,
          `expected an integer, got ${typeName(value)}`,
          quotedNumber ? `remove the quotes: ${value.trim()}` : undefined,
        );
        return undefined;
      }
      if (schema.enum && !schema.enum.includes(value)) {
        ctx.error('INVALID_ENUM', path, `unsupported value ${value}: expected one of ${quoteList(schema.enum)}`);
        return undefined;
      }
      const { min, max } = schema;
      if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
        const range =
          min !== undefined && max !== undefined
            ? `between ${min} and ${max}`
            : min !== undefined
              ? `at least ${min}`
              : `at most ${max}`;
        ctx.error('OUT_OF_RANGE', path, `must be ${range}, got ${value}`);
        return undefined;
      }
      return value;
    }
    case 'bool':
      if (typeof value !== 'boolean') {
        const yamlish = typeof value === 'string' && /^(y|yes|on|n|no|off)$/i.test(value);
        ctx.error(
          'INVALID_TYPE',
          path,
          `expected a boolean, got ${typeName(value)}`,
          yamlish ? `write ${/^(y|yes|on)$/i.test(value) ? 'true' : 'false'}` : undefined,
        );
        return undefined;
      }
      return value;
    case 'duration': {
      if (typeof value !== 'string') {
        ctx.error(
          'INVALID_TYPE',
          path,
          `expected a duration string like "10s" or "1m30s", got ${typeName(value)}`,
          typeof value === 'number' ? `write "${value}s" or "${value}ms"` : undefined,
        );
        return undefined;
      }
      const ms = parseDuration(value);
      if (ms === undefined) {
        ctx.error(
          'INVALID_DURATION',
          path,
          `${JSON.stringify(value)} is not a valid duration: expected 1 to 4 groups of up to 5 digits followed by h, m, s or ms (e.g. "10s", "1m30s", "500ms")`,
        );
        return undefined;
      }
      return ms;
    }
    case 'intOrString':
      if (typeof value === 'string' && value !== '') return value;
      if (typeof value === 'number' && Number.isInteger(value)) return value;
      ctx.error('INVALID_TYPE', path, `expected an integer or a name, got ${typeName(value)}`);
      return undefined;
    case 'list': {
      if (!Array.isArray(value)) {
        ctx.error('INVALID_TYPE', path, `expected a list, got ${typeName(value)}`);
        return undefined;
      }
      if (schema.minItems !== undefined && value.length < schema.minItems) {
        ctx.error(
          'TOO_FEW_ITEMS',
          path,
          schema.minItems === 1 ? 'must have at least one entry' : `must have at least ${schema.minItems} entries, got ${value.length}`,
        );
        return undefined;
      }
      if (schema.maxItems !== undefined && value.length > schema.maxItems) {
        ctx.error(
          'TOO_MANY_ITEMS',
          path,
          schema.maxItems === 1 ? `must have exactly one entry, got ${value.length}` : `must have at most ${schema.maxItems} entries, got ${value.length}`,
        );
        return undefined;
      }
      const out: unknown[] = [];
      const before = ctx.errors;
      const at = path as (string | number)[];
      for (let i = 0; i < value.length; i++) {
        at.push(i);
        out.push(walk(schema.item, value[i], ctx, at));
        at.pop();
      }
      if (schema.uniqueBy && out.length > 1) {
        const seen = new Map<string, number>();
        for (let i = 0; i < out.length; i++) {
          const k = out[i] === undefined ? undefined : schema.uniqueBy.key(out[i]);
          if (k === undefined) continue;
          const first = seen.get(k);
          if (first !== undefined) {
            ctx.error(
              'DUPLICATE_ENTRY',
              schema.uniqueBy.field ? [...path, i, schema.uniqueBy.field] : [...path, i],
              `${schema.uniqueBy.what} ${JSON.stringify(k)} is already used by entry [${first}]; it must be unique`,
            );
          } else seen.set(k, i);
        }
      }
      if (schema.rules && out.length > 0 && ctx.errors === before) for (const r of schema.rules) r(out, ctx, path);
      return out;
    }
    case 'map': {
      if (!isPlainObject(value)) {
        ctx.error('INVALID_TYPE', path, `expected a map of keys to values, got ${typeName(value)}`);
        return undefined;
      }
      const keys = Object.keys(value);
      if (schema.maxProperties !== undefined && keys.length > schema.maxProperties) {
        ctx.error('TOO_MANY_ITEMS', path, `must have at most ${schema.maxProperties} entries, got ${keys.length}`);
        return undefined;
      }
      const out: Record<string, unknown> = {};
      const at = path as (string | number)[];
      for (const k of keys) {
        at.push(k);
        if (schema.key) walk(schema.key, k, ctx, at);
        out[k] = walk(schema.value, value[k], ctx, at);
        at.pop();
      }
      return out;
    }
    case 'object':
      return walkObject(schema, value, ctx, path);
  }
}

const fieldEntries = new WeakMap<ObjectSchema, [string, Field][]>();

function walkObject(schema: ObjectSchema, value: unknown, ctx: Ctx, path: FieldPath): any {
  if (value === null || value === undefined) value = {};
  if (!isPlainObject(value)) {
    ctx.error('INVALID_TYPE', path, `expected ${schema.what ? `a ${schema.what} (an object)` : 'an object'}, got ${typeName(value)}`);
    return undefined;
  }
  const before = ctx.errors;
  const at = path as (string | number)[];
  for (const k in value) {
    if (!Object.prototype.hasOwnProperty.call(schema.fields, k)) {
      const known = Object.keys(schema.fields);
      at.push(k);
      ctx.error('UNKNOWN_FIELD', at, `unknown field ${JSON.stringify(k)}`, didYouMean(k, known) ?? `known fields: ${known.join(', ')}`);
      at.pop();
    }
  }
  let entries = fieldEntries.get(schema);
  if (!entries) fieldEntries.set(schema, (entries = Object.entries(schema.fields)));
  const out: Record<string, unknown> = {};
  for (const [k, f] of entries) {
    const v = value[k];
    if (v === undefined || v === null) {
      if (f.required) ctx.error('MISSING_FIELD', path, `required field ${JSON.stringify(k)} is missing`);
      else if (f.default !== undefined) {
        at.push(k);
        out[f.as ?? k] = walk(f.schema, cloneJson(f.default), ctx, at);
        at.pop();
      }
      continue;
    }
    at.push(k);
    const w = walk(f.schema, v, ctx, at);
    at.pop();
    if (w !== undefined) out[f.as ?? k] = w;
  }
  if (schema.rules && ctx.errors === before) for (const r of schema.rules) r(out, ctx, path);
  return out;
}

function cloneJson(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map(cloneJson);
  if (isPlainObject(v)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = cloneJson(x);
    return o;
  }
  return v;
}
