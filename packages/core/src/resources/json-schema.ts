/**
 * JSON Schema (draft-07) for every kind Gatehouse reads, generated from the decoder's own schema
 * descriptions (schema.ts, gateway-api.ts, core-kinds.ts, v1alpha1.ts, kinds.ts), so the two cannot
 * drift: `schemas/` at the repository root is this module's output (scripts/package/schemas.mjs), and
 * `gatehouse schema [KIND]` prints it.
 *
 * What JSON Schema expresses exactly: types, required fields, unknown fields, enums, ranges, lengths,
 * patterns, list sizes, map sizes, defaults. What it cannot, and is left to `gatehouse validate`:
 * the cross-field (CEL) rules attached to objects and lists, list-map uniqueness (`x-kubernetes-list-
 * map-keys`: said in the description), duplicate objects across files, base64 in Secret data, the
 * v1alpha1 route binding, and YAML syntax. Hostname checks become patterns (they are regular apart
 * from the wording of their messages). A field written as `null` counts as absent, as in the decoder.
 *
 * Pure: no I/O; the output is deterministic (keys in declaration order).
 */
import { KINDS, KNOWN_UNSUPPORTED, OWN_GROUPS, objectSchema, type KindDef } from './kinds.js';
import { metadata } from './core-kinds.js';
import type { Field, ObjectSchema, Schema, StringSchema } from './schema.js';

export type JsonSchema = { [k: string]: unknown };

export const JSON_SCHEMA_DRAFT = 'http://json-schema.org/draft-07/schema#';

/** Duration pattern of schema.ts (GEP-2257). */
const DURATION_PATTERN = '^([0-9]{1,5}(h|m|s|ms)){1,4}$';
const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const IPV4_LIKE = '^[0-9]+(\\.[0-9]+){3}$';

/**
 * The regular language behind a `check` function. Checks are plain functions, so each is probed with
 * a few values to learn which hostname dialect it is; a check this does not recognise is left out
 * (the schema is then looser than the decoder there, never stricter).
 */
function checkToSchema(s: StringSchema): JsonSchema | undefined {
  if (!s.check) return undefined;
  const ok = (v: string) => s.check!(v) === undefined;
  const looksLikeHostname = ok('example.com') && !ok('Bad_Host') && !ok('1.2.3.4') && !ok('a:1');
  if (!looksLikeHostname) return undefined;
  const wildcard = ok('*.example.com');
  const alternatives = [`^${wildcard ? '(\\*\\.)?' : ''}${LABEL}(\\.${LABEL})*$`];
  if (ok('')) alternatives.push('^$');
  if (ok('*')) alternatives.push('^\\*$');
  const pattern = alternatives.length === 1 ? alternatives[0]! : alternatives.map((a) => `(${a})`).join('|');
  return {
    pattern,
    not: { type: 'string', pattern: IPV4_LIKE },
    description: wildcard
      ? 'A hostname: lower-case DNS labels, optionally starting with "*." (no IP addresses, no port).'
      : 'A precise hostname: lower-case DNS labels, no wildcard (no IP addresses, no port).',
  };
}

/** Makes an optional field's schema also accept `null` (the decoder treats `null` as absent). */
function nullable(js: JsonSchema): JsonSchema {
  const out: JsonSchema = { ...js };
  if (typeof out.type === 'string') out.type = [out.type, 'null'];
  else if (Array.isArray(out.type) && !out.type.includes('null')) out.type = [...out.type, 'null'];
  if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
  if (Array.isArray(out.oneOf)) out.oneOf = [...out.oneOf, { type: 'null' }];
  return out;
}

function stringSchema(s: StringSchema): JsonSchema {
  const js: JsonSchema = { type: 'string' };
  if (s.enum) js.enum = [...s.enum];
  if (s.minLength !== undefined) js.minLength = s.minLength;
  if (s.maxLength !== undefined) js.maxLength = s.maxLength;
  const fromCheck = checkToSchema(s);
  if (s.pattern && fromCheck) js.allOf = [{ pattern: s.pattern.source }, fromCheck];
  else if (s.pattern) js.pattern = s.pattern.source;
  else if (fromCheck) Object.assign(js, fromCheck);
  if (s.patternWhat && !js.description) js.description = `A ${s.patternWhat}.`;
  return js;
}

function fieldSchema(f: Field): JsonSchema {
  let js = toJsonSchema(f.schema);
  if (!f.required) {
    js = nullable(js);
    if (f.default !== undefined && isJsonDefault(f.default)) js.default = f.default;
  }
  return js;
}

/** Defaults that are worth showing an editor user (not the `[{}]` placeholders for whole lists). */
function isJsonDefault(v: unknown): boolean {
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object' && v !== null) return Object.keys(v).length === 0;
  return true;
}

function objectToJson(s: ObjectSchema): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [k, f] of Object.entries(s.fields)) {
    properties[k] = fieldSchema(f);
    if (f.required) required.push(k);
  }
  const js: JsonSchema = { type: 'object' };
  if (s.what) js.title = s.what;
  if (s.rules?.length) js.description = 'Also checked by `gatehouse validate`: cross-field rules (CEL) that JSON Schema cannot express.';
  js.properties = properties;
  if (required.length) js.required = required;
  js.additionalProperties = false;
  const union = discriminatedUnion(s);
  if (union) js.allOf = union;
  return js;
}

/**
 * The Gateway API's union convention: a required `type` enum names the sibling field that carries
 * the settings (`type: RequestRedirect` → `requestRedirect`, `type: ReplaceFullPath` →
 * `replaceFullPath`), and the object's CEL rule requires that field. Only for objects that have such
 * a rule and a required `type` whose values name their own fields; the schema requires the field (it
 * does not forbid the others: v1alpha1 allowed them), so it is never stricter than the decoder.
 */
function discriminatedUnion(s: ObjectSchema): JsonSchema[] | undefined {
  const type = s.fields.type;
  if (!s.rules?.length || !type?.required || type.schema.t !== 'string' || !type.schema.enum) return undefined;
  const branches: JsonSchema[] = [];
  for (const v of type.schema.enum) {
    const field = v.charAt(0).toLowerCase() + v.slice(1);
    const camel = /^[A-Z]{2,}/.test(v) ? v.replace(/^[A-Z]+(?=[A-Z][a-z]|$)/, (m) => m.toLowerCase()) : field;
    const name = s.fields[camel] ? camel : s.fields[field] ? field : undefined;
    if (name && name !== 'type') branches.push({ if: { properties: { type: { const: v } }, required: ['type'] }, then: { required: [name] } });
  }
  return branches.length >= 2 ? branches : undefined;
}

/** One schema-language node → JSON Schema. */
export function toJsonSchema(s: Schema): JsonSchema {
  switch (s.t) {
    case 'any':
      return {};
    case 'string':
      return stringSchema(s);
    case 'int': {
      const js: JsonSchema = { type: 'integer' };
      if (s.enum) js.enum = [...s.enum];
      if (s.min !== undefined) js.minimum = s.min;
      if (s.max !== undefined) js.maximum = s.max;
      return js;
    }
    case 'bool':
      return { type: 'boolean' };
    case 'duration':
      return { type: 'string', pattern: DURATION_PATTERN, description: 'A duration: 1 to 4 groups of up to 5 digits and a unit h, m, s or ms (e.g. "10s", "1m30s", "500ms").' };
    case 'intOrString':
      return { oneOf: [{ type: 'integer' }, { type: 'string', minLength: 1 }] };
    case 'object':
      return objectToJson(s);
    case 'list': {
      // The walker reads a `null` object item as `{}`: fine when the object has no required field.
      const item = toJsonSchema(s.item);
      const nullItem = s.item.t === 'object' && !Object.values(s.item.fields).some((f) => f.required);
      const js: JsonSchema = { type: 'array', items: nullItem ? nullable(item) : item };
      if (s.minItems !== undefined) js.minItems = s.minItems;
      if (s.maxItems !== undefined) js.maxItems = s.maxItems;
      const notes: string[] = [];
      if (s.uniqueBy) notes.push(`Each ${s.uniqueBy.what} must be unique.`);
      if (s.rules?.length) notes.push('Cross-field rules (CEL) on the list are checked by `gatehouse validate`.');
      if (notes.length) js.description = notes.join(' ');
      return js;
    }
    case 'map': {
      const js: JsonSchema = { type: 'object', additionalProperties: toJsonSchema(s.value) };
      if (s.maxProperties !== undefined) js.maxProperties = s.maxProperties;
      if (s.key) js.propertyNames = stringSchema(s.key);
      return js;
    }
  }
}

// ---------------------------------------------------------------------------------------------- kinds

export interface KindSchema {
  group: string;
  version: string;
  kind: string;
  apiVersion: string;
  /** Where it lives under schemas/: `<apiVersion>/<kind lower case>.json` (`v1/service.json`). */
  file: string;
  schema: JsonSchema;
}

const apiVersionOf = (group: string, version: string) => (group ? `${group}/${version}` : version);

/** The whole object (apiVersion, kind, metadata, spec or top-level body) of one kind at one version. */
export function kindJsonSchema(def: KindDef, version: string): JsonSchema {
  const top = objectToJson(objectSchema(def, version, metadata));
  const apiVersion = apiVersionOf(def.group, version);
  const props = top.properties as Record<string, JsonSchema>;
  props.apiVersion = { const: apiVersion };
  props.kind = { const: def.kind };
  props.status = { description: 'Written by controllers; ignored by Gatehouse.' };
  const required = new Set(['apiVersion', 'kind', ...((top.required as string[]) ?? [])]);
  const ordered: JsonSchema = {
    $schema: JSON_SCHEMA_DRAFT,
    title: `${def.kind} (${apiVersion})`,
    description:
      (def.as ? `Deprecated: read as a ${def.as}. ` : '') +
      `The ${def.kind} fields Gatehouse reads, generated from its decoder. Cross-field rules, duplicates and references are checked by \`gatehouse validate\`.`,
    type: 'object',
    properties: props,
    required: [...required],
    additionalProperties: false,
  };
  return ordered;
}

/** Every (group, version, kind) Gatehouse accepts, in the kind table's order. */
export function kindJsonSchemas(): KindSchema[] {
  const out: KindSchema[] = [];
  for (const def of KINDS)
    for (const version of def.versions) {
      const apiVersion = apiVersionOf(def.group, version);
      out.push({ group: def.group, version, kind: def.kind, apiVersion, file: `${apiVersion}/${def.kind.toLowerCase()}.json`, schema: kindJsonSchema(def, version) });
    }
  return out;
}

/**
 * `all.json`: one schema for any document in a config directory. A `oneOf` dispatching on apiVersion
 * and kind (each branch pins both with `const`, so at most one matches), plus a `List` of such
 * objects, plus objects of other APIs (the decoder skips them with a warning). A kind of Gatehouse's
 * own groups that it does not know, or a known kind at an unserved apiVersion, matches no branch.
 */
export function allJsonSchema(schemas: readonly KindSchema[] = kindJsonSchemas()): JsonSchema {
  const definitions: Record<string, JsonSchema> = {};
  const branches: JsonSchema[] = [];
  // Served versions of a kind mostly share one spec, and every kind shares metadata: each distinct
  // subschema is written once, under the first kind and version that uses it.
  const shared = new Map<string, string>();
  const hoist = (js: JsonSchema, name: string): JsonSchema => {
    const text = JSON.stringify(js);
    let def = shared.get(text);
    if (!def) {
      shared.set(text, (def = name));
      definitions[def] = js;
    }
    return { $ref: `#/definitions/${def}` };
  };
  for (const k of schemas) {
    const name = `${k.apiVersion}/${k.kind}`.replace(/[/.]/g, '_');
    const { $schema: _drop, ...body } = k.schema;
    const props = { ...(body.properties as Record<string, JsonSchema>) };
    for (const p of ['metadata', 'spec'])
      if (props[p]) props[p] = hoist(props[p]!, p === 'metadata' ? 'metadata' : `${name}_spec`);
    definitions[name] = { ...body, properties: props };
    branches.push({ $ref: `#/definitions/${name}` });
  }
  const knownKinds = [...new Set(KINDS.map((d) => d.kind))];
  const ownGroups = [...OWN_GROUPS].map((g) => g.replace(/\./g, '\\.'));
  definitions.foreign = {
    description: 'An object of another API: Gatehouse skips it with a warning.',
    type: 'object',
    required: ['apiVersion', 'kind'],
    properties: { apiVersion: { type: 'string', minLength: 1 }, kind: { type: 'string', minLength: 1 } },
    anyOf: [
      {
        properties: {
          apiVersion: { not: { pattern: `^(${ownGroups.join('|')})/` } },
          kind: { not: { enum: [...knownKinds, 'List'] } },
        },
      },
      {
        properties: {
          apiVersion: { pattern: `^(${ownGroups.join('|')})/` },
          kind: { enum: [...KNOWN_UNSUPPORTED] },
        },
      },
    ],
  };
  definitions.object = { oneOf: [...branches, { $ref: '#/definitions/foreign' }] };
  definitions.list = {
    type: 'object',
    required: ['kind', 'items'],
    properties: { apiVersion: { type: 'string' }, kind: { const: 'List' }, metadata: {}, items: { type: 'array', items: { $ref: '#/definitions/object' } } },
  };
  return {
    $schema: JSON_SCHEMA_DRAFT,
    title: 'Gatehouse configuration document',
    description:
      'Any document of a Gatehouse config directory: Gateway API (v1, v1beta1, v1alpha2, v1alpha3; networking.x-k8s.io v1alpha1), Service, EndpointSlice, Secret, ConfigMap, Namespace, Envoy Gateway Backend, or a List of them. Generated from the decoder; `gatehouse validate` also checks cross-field rules and references.',
    oneOf: [{ $ref: '#/definitions/object' }, { $ref: '#/definitions/list' }],
    definitions,
  };
}
