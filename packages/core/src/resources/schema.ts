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

/** A schema compiled to a function (see `walkerOf`). */
type Walker = (value: unknown, ctx: Ctx, path: FieldPath) => any;

/**
 * Checks `value` (present in the document at `path`) against `schema`. Returns the normalised value,
 * or undefined when it is unusable (an error was reported). `path` is used as a stack (pushed and
 * popped while walking, the same length on return): pass a fresh array, and copy it before keeping it.
 */
export function walk(schema: Schema, value: unknown, ctx: Ctx, path: FieldPath): any {
  return walkerOf(schema)(value, ctx, path);
}

const walkers = new WeakMap<Schema, Walker>();

/**
 * The walker of a schema, built once per schema object: a closure per schema node, with that node's
 * constraints and its fields' walkers captured. One generic function switching on every node's
 * kind and reading its optional properties made every property read megamorphic (the schema objects
 * have a dozen shapes); the closures see one schema each. Same checks, same order, same messages.
 */
function walkerOf(schema: Schema): Walker {
  let w = walkers.get(schema);
  if (w === undefined) {
    w = buildWalker(schema);
    walkers.set(schema, w);
  }
  return w;
}

function buildWalker(schema: Schema): Walker {
  switch (schema.t) {
    case 'any':
      return (value) => value;
    case 'string': {
      const { enum: values, minLength, maxLength, pattern, check } = schema;
      if (!values && minLength === undefined && maxLength === undefined && !pattern && !check)
        return (value, ctx, path) => {
          if (typeof value === 'string') return value;
          ctx.error('INVALID_TYPE', path, `expected a string, got ${typeName(value)}`);
          return undefined;
        };
      return (value, ctx, path) => {
        if (typeof value !== 'string') {
          ctx.error('INVALID_TYPE', path, `expected a string, got ${typeName(value)}`);
          return undefined;
        }
        if (values && !values.includes(value)) {
          const hint = didYouMean(value, values);
          ctx.error('INVALID_ENUM', path, `unsupported value ${JSON.stringify(value)}: expected one of ${quoteList(values)}`, hint);
          return undefined;
        }
        if (minLength !== undefined && value.length < minLength) {
          ctx.error('INVALID_VALUE', path, minLength === 1 ? 'must not be empty' : `must be at least ${minLength} characters long`);
          return undefined;
        }
        if (maxLength !== undefined && value.length > maxLength) {
          ctx.error('TOO_LONG', path, `must be at most ${maxLength} characters long, got ${value.length}`);
          return undefined;
        }
        if (pattern && !pattern.test(value)) {
          ctx.error(
            schema.patternCode ?? 'INVALID_VALUE',
            path,
            `${JSON.stringify(value)} is not a valid ${schema.patternWhat ?? `value (must match ${pattern.source})`}`,
          );
          return undefined;
        }
        if (check) {
          const msg = check(value);
          if (msg) {
            ctx.error(schema.checkCode ?? schema.patternCode ?? 'INVALID_VALUE', path, msg);
            return undefined;
          }
        }
        return value;
      };
    }
    case 'int': {
      const { min, max, enum: values } = schema;
      return (value, ctx, path) => {
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
        if (values && !values.includes(value)) {
          ctx.error('INVALID_ENUM', path, `unsupported value ${value}: expected one of ${quoteList(values)}`);
          return undefined;
        }
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
      };
    }
    case 'bool':
      return (value, ctx, path) => {
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
      };
    case 'duration':
      return (value, ctx, path) => {
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
      };
    case 'intOrString':
      return (value, ctx, path) => {
        if (typeof value === 'string' && value !== '') return value;
        if (typeof value === 'number' && Number.isInteger(value)) return value;
        ctx.error('INVALID_TYPE', path, `expected an integer or a name, got ${typeName(value)}`);
        return undefined;
      };
    case 'list':
      return listWalker(schema);
    case 'map':
      return mapWalker(schema);
    case 'object':
      return objectWalker(schema);
  }
}

function listWalker(schema: ListSchema): Walker {
  const { minItems, maxItems, uniqueBy } = schema;
  const rules = schema.rules;
  let item: Walker | undefined; // looked up on first use: a schema may contain itself
  return (value, ctx, path) => {
    if (!Array.isArray(value)) {
      ctx.error('INVALID_TYPE', path, `expected a list, got ${typeName(value)}`);
      return undefined;
    }
    if (minItems !== undefined && value.length < minItems) {
      ctx.error(
        'TOO_FEW_ITEMS',
        path,
        minItems === 1 ? 'must have at least one entry' : `must have at least ${minItems} entries, got ${value.length}`,
      );
      return undefined;
    }
    if (maxItems !== undefined && value.length > maxItems) {
      ctx.error(
        'TOO_MANY_ITEMS',
        path,
        maxItems === 1 ? `must have exactly one entry, got ${value.length}` : `must have at most ${maxItems} entries, got ${value.length}`,
      );
      return undefined;
    }
    item ??= walkerOf(schema.item);
    // Sized up front: a list grown by push keeps room for 17 items (~150 bytes) however few it holds,
    // and the decoded lists (one or two items, mostly) live as long as the configuration.
    const n = value.length;
    const out: unknown[] = n === 0 ? [] : new Array<unknown>(n);
    const before = ctx.errors;
    const at = path as (string | number)[];
    for (let i = 0; i < n; i++) {
      at.push(i);
      out[i] = item(value[i], ctx, at);
      at.pop();
    }
    if (uniqueBy && out.length > 1) {
      const seen = new Map<string, number>();
      for (let i = 0; i < out.length; i++) {
        const k = out[i] === undefined ? undefined : uniqueBy.key(out[i]);
        if (k === undefined) continue;
        const first = seen.get(k);
        if (first !== undefined) {
          ctx.error(
            'DUPLICATE_ENTRY',
            uniqueBy.field ? [...path, i, uniqueBy.field] : [...path, i],
            `${uniqueBy.what} ${JSON.stringify(k)} is already used by entry [${first}]; it must be unique`,
          );
        } else seen.set(k, i);
      }
    }
    if (rules && out.length > 0 && ctx.errors === before) for (const r of rules) r(out, ctx, path);
    return out;
  };
}

function mapWalker(schema: MapSchema): Walker {
  const { maxProperties } = schema;
  let key: Walker | undefined | null; // null: no key schema
  let val: Walker | undefined;
  return (value, ctx, path) => {
    if (!isPlainObject(value)) {
      ctx.error('INVALID_TYPE', path, `expected a map of keys to values, got ${typeName(value)}`);
      return undefined;
    }
    const keys = Object.keys(value);
    if (maxProperties !== undefined && keys.length > maxProperties) {
      ctx.error('TOO_MANY_ITEMS', path, `must have at most ${maxProperties} entries, got ${keys.length}`);
      return undefined;
    }
    if (key === undefined) key = schema.key ? walkerOf(schema.key) : null;
    val ??= walkerOf(schema.value);
    const out: Record<string, unknown> = {};
    const at = path as (string | number)[];
    for (const k of keys) {
      at.push(k);
      if (key !== null) key(k, ctx, at);
      out[k] = val(value[k], ctx, at);
      at.pop();
    }
    return out;
  };
}

interface CompiledField {
  /** The key in the document. */
  key: string;
  /** The key in the output (`as`, or the same). */
  out: string;
  field: Field;
  walker: Walker | undefined;
}

function objectWalker(schema: ObjectSchema): Walker {
  const fields = schema.fields;
  const rules = schema.rules;
  const what = schema.what;
  let compiled: CompiledField[] | undefined; // built on first use: a schema may contain itself
  return (value, ctx, path) => {
    if (value === null || value === undefined) value = {};
    if (!isPlainObject(value)) {
      ctx.error('INVALID_TYPE', path, `expected ${what ? `a ${what} (an object)` : 'an object'}, got ${typeName(value)}`);
      return undefined;
    }
    const before = ctx.errors;
    const at = path as (string | number)[];
    for (const k in value) {
      if (!Object.prototype.hasOwnProperty.call(fields, k)) {
        const known = Object.keys(fields);
        at.push(k);
        ctx.error('UNKNOWN_FIELD', at, `unknown field ${JSON.stringify(k)}`, didYouMean(k, known) ?? `known fields: ${known.join(', ')}`);
        at.pop();
      }
    }
    if (compiled === undefined)
      compiled = Object.entries(fields).map(([key, field]) => ({ key, out: field.as ?? key, field, walker: undefined }));
    const out: Record<string, unknown> = {};
    for (let i = 0; i < compiled.length; i++) {
      const c = compiled[i]!;
      const v = value[c.key];
      if (v === undefined || v === null) {
        const f = c.field;
        if (f.required) ctx.error('MISSING_FIELD', path, `required field ${JSON.stringify(c.key)} is missing`);
        else if (f.default !== undefined) {
          at.push(c.key);
          out[c.out] = (c.walker ??= walkerOf(f.schema))(cloneJson(f.default), ctx, at);
          at.pop();
        }
        continue;
      }
      at.push(c.key);
      const w = (c.walker ??= walkerOf(c.field.schema))(v, ctx, at);
      at.pop();
      if (w !== undefined) out[c.out] = w;
    }
    if (rules && ctx.errors === before) for (const r of rules) r(out, ctx, path);
    return out;
  };
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
