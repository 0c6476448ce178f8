/**
 * JSON Schema (draft-07) for every kind Gatehouse reads, generated from the decoder's own schema
 * descriptions (schema.ts, gateway-api.ts, core-kinds.ts, v1alpha1.ts, kinds.ts), so the two cannot
 * drift: `schemas/` at the repository root is this module's output (scripts/package/schemas.mjs), and
 * `gatehouse schema [KIND]` prints it.
 *
 * What JSON Schema expresses exactly: types, required fields, unknown fields, enums, ranges, lengths,
 * patterns, list sizes, map sizes, defaults, and the CEL rules that depend only on one object's own
 * fields or test a list for an item (if/then/else, not, anyOf: CEL_EQUIVALENTS below). What it cannot,
 * and is left to `gatehouse validate`: the CEL rules that compare two fields or two list items or count
 * matches, list-map uniqueness (`x-kubernetes-list-map-keys`: said in the description), duplicate
 * objects across files, the v1alpha1 route binding, and YAML syntax. Hostname checks, IP addresses
 * and base64 in Secret data become patterns (they are regular apart from the wording of their
 * messages). A field written as `null` counts as absent, as in the decoder.
 *
 * Pure: no I/O; the output is deterministic (keys in declaration order).
 */
import { KINDS, KNOWN_UNSUPPORTED, OWN_GROUPS, objectSchema, type KindDef } from './kinds.js';
import { metadata } from './core-kinds.js';
import { Ctx, type Field, type ListSchema, type ObjectSchema, type Rule, type Schema, type StringSchema } from './schema.js';
import type { Diagnostic } from '../diagnostics.js';
import { decodeBase64 } from './base64.js';
import { checkHostname } from './formats.js';
import { decodeDocuments } from './decode.js';
import { formatPath, type FieldPath, type RawDocument } from './document.js';

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
  const allOf = [...(discriminatedUnion(s) ?? []), ...celEquivalents(s)];
  if (allOf.length) js.allOf = allOf;
  return js;
}

/**
 * The Gateway API's union convention: a required `type` enum names the sibling field that carries
 * the settings (`type: RequestRedirect` → `requestRedirect`, `type: ReplaceFullPath` →
 * `replaceFullPath`), and the object's CEL rule requires that field (not null: null counts as absent).
 * Only for objects that have such a rule and a required `type` whose values name their own fields.
 * The other union fields are forbidden only where the object's own rules reject them (probed: the
 * v1 filters and path modifiers do; v1alpha1 filters allowed them), so it is never stricter than the decoder.
 */
function discriminatedUnion(s: ObjectSchema): JsonSchema[] | undefined {
  const type = s.fields.type;
  if (!s.rules?.length || !type?.required || type.schema.t !== 'string' || !type.schema.enum) return undefined;
  const named = new Map<string, string>();
  for (const v of type.schema.enum) {
    const field = v.charAt(0).toLowerCase() + v.slice(1);
    const camel = /^[A-Z]{2,}/.test(v) ? v.replace(/^[A-Z]+(?=[A-Z][a-z]|$)/, (m) => m.toLowerCase()) : field;
    const name = s.fields[camel] ? camel : s.fields[field] ? field : undefined;
    if (name && name !== 'type') named.set(v, name);
  }
  if (named.size < 2) return undefined;
  const fields = [...new Set(named.values())];
  const placeholder = (f: string) => (s.fields[f]!.schema.t === 'string' ? '/x' : {});
  const branches: JsonSchema[] = [];
  // "Set and not null" and "not set (or null)" are written with `required` inside `not`, never as
  // `properties` of the `then`: yaml-language-server offers every property of every matching branch in
  // completion, so each union field would be offered twice.
  // `type: object`: the union object itself may be null (absent), and then holds nothing.
  const setTo = (f: string, js: JsonSchema): JsonSchema => ({ type: 'object', required: [f], properties: { [f]: js } });
  for (const [v, name] of named) {
    const then: JsonSchema = { required: [name], not: setTo(name, { type: 'null' }) };
    const others = fields.filter((f) => f !== name);
    const alone = { type: v, [name]: placeholder(name) };
    const forbidden = agrees(s.rules, [[alone, null], ...others.map((f): Probe => [{ ...alone, [f]: placeholder(f) }, [f]])]);
    if (forbidden)
      then.allOf = others.map((f) => ({ description: `${f} must not be set when type is ${v}`, not: setTo(f, { not: { type: 'null' } }) }));
    branches.push({ if: { properties: { type: { const: v } }, required: ['type'] }, then });
  }
  return branches;
}

// ---------------------------------------------------------------------------------------------- CEL rules

/**
 * A path value as `checkPathValue` (formats.ts) accepts it: starts with "/", no "//", "/./", "/../",
 * "%2f", "#", no trailing "/." or "/..", only RFC 3986 path characters and %-escapes.
 */
export const PATH_VALUE_PATTERN =
  "^(?!.*//)(?!.*/\\.{1,2}/)(?!.*/\\.{1,2}$)(?!.*%2[fF])/(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|%[0-9a-fA-F]{2})*$";

/** `isIP` (formats.ts): a dotted quad, or IPv6 read loosely (hex groups, one "::" at most, up to 8 groups, an IPv4 tail). */
const V4 = '(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}';
export const IP_PATTERN = `^${V4}$|^(?!.*::.*::)(?:(?:[0-9a-fA-F]{1,4}|[0-9a-fA-F.]*\\.[0-9a-fA-F.]*)?:){1,7}(?:[0-9a-fA-F]{1,4}|${V4})?$`;
/** A hostname without a wildcard, as checkHostname reads it (the generator's probes recognise the dialect). */
const PRECISE_HOSTNAME: JsonSchema | undefined = checkToSchema({ t: 'string', check: (v) => checkHostname(v) ?? (v.startsWith('*') ? 'a wildcard' : undefined) });

/** gRPC names, as the decoder checks them for type Exact. */
const GRPC_SERVICE_PATTERN = '^\\.?[a-zA-Z_][a-zA-Z_0-9]*(\\.[a-zA-Z_][a-zA-Z_0-9]*)*$';
const GRPC_METHOD_PATTERN = '^[A-Za-z_][A-Za-z_0-9]*$';

/** A decoded value (defaults filled in, as a rule receives it) and where the rules report it, or `null`: they accept it. */
type Probe = [value: unknown, errorAt: FieldPath | null];

/**
 * A CEL rule of the CRDs that draft-07 can say (if/then/else, not, anyOf). Rules are plain
 * functions, so each equivalent is written next to the probes that pin what the rule does: it is emitted
 * for an object (or list) only when that object's own rules report every rejecting probe at its path and
 * accept the others. A rule no equivalent covers (or one that changed) stays with `gatehouse validate`:
 * the schema is then looser than the decoder there, never stricter.
 */
interface CelEquivalent {
  /** `object`: rules of an object with these fields; `list`: rules of a list whose items have them. */
  on: 'object' | 'list';
  fields: readonly string[];
  probes: readonly Probe[];
  json: (fields: Record<string, Field>) => JsonSchema;
}

const PROBE_DOC: RawDocument = { file: '', index: 0, order: 0, value: null, locate: () => ({ file: '', line: 1, col: 1 }) };

/** The paths the rules report errors at for `value`, or undefined when they fail on it (a probe of another shape). */
function ruleErrors(rules: readonly Rule[], value: unknown): string[] | undefined {
  const out: Diagnostic[] = [];
  const ctx = new Ctx(PROBE_DOC, undefined, out);
  try {
    for (const r of rules) r(JSON.parse(JSON.stringify(value)), ctx, []);
  } catch {
    return undefined;
  }
  return out.filter((d) => d.severity === 'error').map((d) => d.path ?? '');
}

function agrees(rules: readonly Rule[], probes: readonly Probe[]): boolean {
  return probes.every(([value, at]) => {
    const errors = ruleErrors(rules, value);
    if (!errors) return false;
    return at === null ? errors.length === 0 : errors.includes(formatPath(at));
  });
}

/**
 * An `if` schema: each field holds one of its values. A field that is absent or null counts as its
 * default (the decoder fills it in before the rules run), so it matches when the default is one of them.
 */
function holds(fields: Record<string, Field>, conds: Record<string, readonly string[]>): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [k, values] of Object.entries(conds)) {
    const byDefault = values.includes(fields[k]?.default as string);
    properties[k] = oneOfStrings(values, byDefault);
    if (!byDefault) required.push(k);
  }
  return required.length ? { properties, required } : { properties };
}

/**
 * A condition "the string is one of `values`" (or null, when `orNull`), as a pattern: an `enum` or
 * `const` inside an `if` shows up in yaml-language-server's hover as the field's "Allowed Values"
 * (`protocol`: HTTP, TCP, UDP), and a pattern does not. `pattern` ignores a non-string such as null.
 */
function oneOfStrings(values: readonly string[], orNull = false): JsonSchema {
  const pattern = `^(${values.map((v) => v.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`;
  return orNull ? { pattern } : { type: 'string', pattern };
}

/** A field that must not be set (null counts as absent). */
const unset = (why: string): JsonSchema => ({ type: 'null', description: why });
/**
 * "The list has an item matching `item`", written `not: {items: {not: item}}` rather than `contains`:
 * the same in draft-07, and ajv 8.20 evaluates a `contains` inside an `if` inside `items` wrongly
 * (the first list item's match carries over to the next ones).
 */
const hasItem = (item: JsonSchema): JsonSchema => ({ type: 'array', not: { items: { not: item } } });
/** A list item of a filter list whose type is `type`. */
const filterOfType = (type: string): JsonSchema => ({ type: 'object', required: ['type'], properties: { type: { const: type } } });
/** A filter that rewrites with ReplacePrefixMatch (RequestRedirect or URLRewrite). */
const replacePrefixFilter: JsonSchema = {
  anyOf: (
    [
      ['RequestRedirect', 'requestRedirect'],
      ['URLRewrite', 'urlRewrite'],
    ] as const
  ).map(([type, field]) => ({
    type: 'object',
    required: ['type', field],
    properties: {
      type: { const: type },
      [field]: { type: 'object', required: ['path'], properties: { path: { type: 'object', required: ['type'], properties: { type: { const: 'ReplacePrefixMatch' } } } } },
    },
  })),
};

const SECRET_REF = { group: '', kind: 'Secret', name: 'cert' };
const TLS_TERMINATE = { mode: 'Terminate', certificateRefs: [SECRET_REF], options: {} };
const LISTENER = { name: 'l', port: 443, allowedRoutes: { namespaces: { from: 'Same' }, kinds: [] } };
const PREFIX_MATCH = { path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] };
const EXACT_MATCH = { path: { type: 'Exact', value: '/a' }, headers: [], queryParams: [] };
const SERVICE_REF = { group: '', kind: 'Service', name: 'web', port: 80, weight: 1, filters: [] };
const REDIRECT = { type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 302 } };
const REWRITE = { type: 'URLRewrite', urlRewrite: { hostname: 'internal.example.com' } };
const PREFIX_REWRITE = { type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/b' } } };
const rule = (o: object) => ({ matches: [PREFIX_MATCH], filters: [], backendRefs: [], ...o });

const CEL_EQUIVALENTS: readonly CelEquivalent[] = [
  // Gateway listeners (the CRD's listener rules, one per protocol).
  {
    on: 'object',
    fields: ['protocol', 'hostname', 'tls'],
    probes: [
      [{ ...LISTENER, protocol: 'TCP', hostname: 'a.example.com' }, ['hostname']],
      [{ ...LISTENER, protocol: 'UDP', hostname: 'a.example.com' }, ['hostname']],
      [{ ...LISTENER, protocol: 'HTTP', hostname: 'a.example.com' }, null],
      [{ ...LISTENER, protocol: 'TCP' }, null],
    ],
    json: (f) => ({ if: holds(f, { protocol: ['TCP', 'UDP'] }), then: { properties: { hostname: unset('hostname must not be set on a TCP or UDP listener') } } }),
  },
  {
    on: 'object',
    fields: ['protocol', 'tls'],
    probes: [
      [{ ...LISTENER, protocol: 'HTTP', tls: TLS_TERMINATE }, ['tls']],
      [{ ...LISTENER, protocol: 'TCP', tls: TLS_TERMINATE }, ['tls']],
      [{ ...LISTENER, protocol: 'UDP', tls: TLS_TERMINATE }, ['tls']],
      [{ ...LISTENER, protocol: 'HTTPS', tls: TLS_TERMINATE }, null],
    ],
    json: (f) => ({ if: holds(f, { protocol: ['HTTP', 'TCP', 'UDP'] }), then: { properties: { tls: unset('tls must not be set on an HTTP, TCP or UDP listener (use protocol HTTPS or TLS)') } } }),
  },
  {
    on: 'object',
    fields: ['protocol', 'tls'],
    probes: [
      [{ ...LISTENER, protocol: 'TLS' }, []],
      [{ ...LISTENER, protocol: 'TLS', tls: { certificateRefs: [SECRET_REF], options: {} } }, ['tls']],
      [{ ...LISTENER, protocol: 'TLS', tls: { mode: 'Passthrough', certificateRefs: [], options: {} } }, null],
      [{ ...LISTENER, protocol: 'HTTPS', tls: { certificateRefs: [SECRET_REF], options: {} } }, null],
    ],
    json: (f) => ({
      if: holds(f, { protocol: ['TLS'] }),
      then: {
        description: 'a TLS listener needs tls.mode: Passthrough or Terminate',
        required: ['tls'],
        // tls and mode set, not null (null counts as absent); `not` rather than `type: object` and
        // `properties`, which made editors offer an extra "object(listener)" completion under tls.
        properties: { tls: { required: ['mode'], not: { anyOf: [{ type: 'null' }, { required: ['mode'], properties: { mode: { type: 'null' } } }] } } },
      },
    }),
  },
  {
    on: 'object',
    fields: ['protocol', 'tls'],
    probes: [
      [{ ...LISTENER, protocol: 'HTTPS' }, []],
      [{ ...LISTENER, protocol: 'HTTPS', tls: { ...TLS_TERMINATE, mode: 'Passthrough' } }, ['tls', 'mode']],
      [{ ...LISTENER, protocol: 'HTTPS', tls: TLS_TERMINATE }, null],
    ],
    json: (f) => ({
      if: holds(f, { protocol: ['HTTPS'] }),
      then: {
        description: 'an HTTPS listener needs tls (mode Terminate, with certificateRefs)',
        required: ['tls'],
        properties: { tls: { type: 'object', properties: { mode: { enum: ['Terminate', null] } } } },
      },
    }),
  },
  // Listener tls: Terminate (the default) needs certificateRefs (or implementation options).
  {
    on: 'object',
    fields: ['mode', 'certificateRefs', 'options'],
    probes: [
      [{ mode: 'Terminate', certificateRefs: [], options: {} }, []],
      [{ certificateRefs: [], options: {} }, []],
      [{ mode: 'Passthrough', certificateRefs: [], options: {} }, null],
      [{ mode: 'Terminate', certificateRefs: [SECRET_REF], options: {} }, null],
      [{ mode: 'Terminate', certificateRefs: [], options: { 'example.com/key': 'v' } }, null],
    ],
    json: () => ({
      if: { properties: { mode: oneOfStrings(['Terminate'], true) } },
      then: {
        description: 'tls mode Terminate needs certificateRefs (a Secret of type kubernetes.io/tls)',
        // One of them set, and not both empty; written with `required` and `not`: a `properties` outside a
        // `not` would make editors offer certificateRefs and options twice more in completion.
        anyOf: [{ required: ['certificateRefs'] }, { required: ['options'] }],
        not: {
          type: 'object', // tls: null is absent
          anyOf: [{ required: ['certificateRefs'] }, { required: ['options'] }],
          properties: {
            certificateRefs: { anyOf: [{ type: 'null' }, { type: 'array', maxItems: 0 }] },
            options: { anyOf: [{ type: 'null' }, { type: 'object', maxProperties: 0 }] },
          },
        },
      },
    }),
  },
  // A backendRef to a Service (group "" and kind Service, the defaults) needs a port.
  {
    on: 'object',
    fields: ['group', 'kind', 'name', 'port'],
    probes: [
      [{ ...SERVICE_REF, port: undefined }, []],
      [SERVICE_REF, null],
      [{ ...SERVICE_REF, port: undefined, group: 'gateway.envoyproxy.io', kind: 'Backend' }, null],
    ],
    json: (f) => ({
      if: holds(f, { group: [''], kind: ['Service'] }),
      then: { description: 'a backendRef to a Service needs a port (the Service port)', required: ['port'], properties: { port: { type: 'integer' } } },
    }),
  },
  // A gRPC method match needs service or method.
  {
    on: 'object',
    fields: ['type', 'service', 'method'],
    probes: [
      [{ type: 'Exact' }, []],
      [{ type: 'Exact', service: 'grpc.health.v1.Health' }, null],
      [{ type: 'Exact', method: 'Check' }, null],
    ],
    json: () => ({
      description: 'a gRPC method match needs service or method (or both)',
      anyOf: [
        { required: ['service'], properties: { service: { type: 'string' } } },
        { required: ['method'], properties: { method: { type: 'string' } } },
      ],
    }),
  },
  // An Exact gRPC method match names a service and a method (not for RegularExpression).
  {
    on: 'object',
    fields: ['type', 'service', 'method'],
    probes: [
      [{ type: 'Exact', service: 'grpc/Health' }, ['service']],
      [{ type: 'Exact', service: 'grpc..Health' }, ['service']],
      [{ type: 'Exact', method: 'a/Check' }, ['method']],
      [{ type: 'Exact', method: 'a.Check' }, ['method']],
      [{ type: 'Exact', service: '.grpc.health.v1.Health', method: '_Check2' }, null],
      [{ type: 'RegularExpression', service: 'grpc/.*', method: '.*' }, null],
    ],
    json: (f) => ({
      if: holds(f, { type: ['Exact'] }),
      then: {
        properties: {
          service: { pattern: GRPC_SERVICE_PATTERN, description: 'An Exact service is a gRPC service name, e.g. "grpc.health.v1.Health".' },
          method: { pattern: GRPC_METHOD_PATTERN, description: 'An Exact method is a gRPC method name, e.g. "Check" (no "/").' },
        },
      },
    }),
  },
  // A Gateway address value, by its type: an IP for IPAddress (the default), a precise hostname for Hostname.
  {
    on: 'object',
    fields: ['type', 'value'],
    probes: [
      [{ type: 'IPAddress', value: '10.0.0.1' }, null],
      [{ type: 'IPAddress', value: 'fe80::1:2' }, null],
      [{ type: 'IPAddress', value: '::ffff:10.0.0.1' }, null],
      [{ type: 'IPAddress', value: '' }, null],
      [{ type: 'IPAddress', value: 'gw.example.com' }, ['value']],
      [{ type: 'IPAddress', value: '300.0.0.1' }, ['value']],
      [{ type: 'IPAddress', value: '1::2::3' }, ['value']],
      [{ type: 'Hostname', value: 'gw.example.com' }, null],
      [{ type: 'Hostname', value: '*.example.com' }, ['value']],
      [{ type: 'Hostname', value: 'Bad_Host' }, ['value']],
      [{ type: 'Hostname', value: '10.0.0.1' }, ['value']],
      [{ type: 'example.com/custom', value: 'anything at all' }, null],
    ],
    json: (f) => ({
      allOf: [
        // An empty value is left for the implementation to choose: `^$` is one alternative of each pattern
        // (an anyOf with `const: ""` makes editors report the wrong branch: 'Value must be ""').
        { if: holds(f, { type: ['IPAddress'] }), then: { properties: { value: { pattern: `^$|${IP_PATTERN}`, description: 'An IPv4 or IPv6 address (type IPAddress).' } } } },
        ...(PRECISE_HOSTNAME
          ? [{ if: holds(f, { type: ['Hostname'] }), then: { properties: { value: { ...PRECISE_HOSTNAME, pattern: `^$|${String(PRECISE_HOSTNAME.pattern)}` } } } }]
          : []),
      ],
    }),
  },
  // v1alpha1 forwardTo: serviceName or backendRef.
  {
    on: 'object',
    fields: ['serviceName', 'backendRef', 'weight'],
    probes: [
      [{ weight: 1, port: 80 }, []],
      [{ serviceName: 'web', weight: 1 }, null],
      [{ backendRef: { group: 'g.example.com', kind: 'K', name: 'web' }, weight: 1 }, null],
    ],
    json: () => ({
      description: 'forwardTo needs serviceName or backendRef',
      // `type: object`: a null list item is read as {} (and then has neither).
      anyOf: [
        { type: 'object', required: ['serviceName'], properties: { serviceName: { type: 'string' } } },
        { type: 'object', required: ['backendRef'], properties: { backendRef: { type: 'object' } } },
      ],
    }),
  },
  // A Service of type ExternalName needs externalName.
  {
    on: 'object',
    fields: ['type', 'externalName'],
    probes: [
      [{ type: 'ExternalName' }, []],
      [{ type: 'ExternalName', externalName: '' }, []],
      [{ type: 'ExternalName', externalName: 'db.example.com' }, null],
      [{ type: 'ClusterIP' }, null],
    ],
    json: (f) => ({
      if: holds(f, { type: ['ExternalName'] }),
      then: { description: 'a Service of type ExternalName needs externalName', required: ['externalName'], properties: { externalName: { type: 'string', minLength: 1 } } },
    }),
  },
  // An Exact or PathPrefix path value is a path (not for RegularExpression).
  {
    on: 'object',
    fields: ['type', 'value'],
    probes: [
      [{ type: 'PathPrefix', value: 'api' }, ['value']],
      [{ type: 'Exact', value: 'api' }, ['value']],
      [{ type: 'PathPrefix', value: '/a//b' }, ['value']],
      [{ type: 'PathPrefix', value: '/a/../b' }, ['value']],
      [{ type: 'PathPrefix', value: '/a/.' }, ['value']],
      [{ type: 'PathPrefix', value: '/a%2Fb' }, ['value']],
      [{ type: 'PathPrefix', value: '/a#b' }, ['value']],
      [{ type: 'PathPrefix', value: '/a b' }, ['value']],
      [{ type: 'RegularExpression', value: 'api' }, null],
      [{ type: 'PathPrefix', value: '/api/v1.2/..x/%20' }, null],
    ],
    json: (f) => ({
      if: holds(f, { type: ['Exact', 'PathPrefix'] }),
      then: { properties: { value: { pattern: PATH_VALUE_PATTERN, description: 'An Exact or PathPrefix value is a path: it starts with "/", has no "//", "/./", "/../", "%2f" or "#", and does not end with "/." or "/..".' } } },
    }),
  },
  // An HTTPRoute rule with a RequestRedirect filter has no backendRefs.
  {
    on: 'object',
    fields: ['matches', 'filters', 'backendRefs'],
    probes: [
      [rule({ filters: [REDIRECT], backendRefs: [SERVICE_REF] }), ['backendRefs']],
      [rule({ filters: [REDIRECT] }), null],
      [rule({ filters: [REWRITE], backendRefs: [SERVICE_REF] }), null],
    ],
    json: () => ({
      if: { required: ['filters'], properties: { filters: hasItem(filterOfType('RequestRedirect')) } },
      then: { properties: { backendRefs: { maxItems: 0, description: 'a rule with a RequestRedirect filter has no backendRefs: the redirect is the response' } } },
    }),
  },
  // ReplacePrefixMatch needs the rule to have exactly one match, of path type PathPrefix.
  {
    on: 'object',
    fields: ['matches', 'filters', 'backendRefs'],
    probes: [
      [rule({ matches: [EXACT_MATCH], filters: [PREFIX_REWRITE], backendRefs: [SERVICE_REF] }), ['filters', 0]],
      [rule({ matches: [PREFIX_MATCH, PREFIX_MATCH], filters: [PREFIX_REWRITE] }), ['filters', 0]],
      [rule({ matches: [], filters: [PREFIX_REWRITE] }), ['filters', 0]],
      [rule({ matches: [EXACT_MATCH], backendRefs: [{ ...SERVICE_REF, filters: [PREFIX_REWRITE] }] }), ['backendRefs', 0, 'filters', 0]],
      [rule({ filters: [PREFIX_REWRITE], backendRefs: [{ ...SERVICE_REF, filters: [PREFIX_REWRITE] }] }), null],
      [rule({ matches: [EXACT_MATCH], filters: [REWRITE] }), null],
    ],
    json: () => ({
      if: {
        properties: {
          matches: {
            anyOf: [
              { type: 'null' },
              { type: 'array', minItems: 1, maxItems: 1, items: { properties: { path: { properties: { type: { enum: ['PathPrefix', null] } } } } } },
            ],
          },
        },
      },
      then: {},
      else: {
        description: 'ReplacePrefixMatch needs the rule to have exactly one match, and its path type must be PathPrefix',
        properties: {
          filters: { items: { not: replacePrefixFilter } },
          backendRefs: { items: { properties: { filters: { items: { not: replacePrefixFilter } } } } },
        },
      },
    }),
  },
  // allowedRoutes.namespaces: from Selector needs a selector.
  {
    on: 'object',
    fields: ['from', 'selector'],
    probes: [
      [{ from: 'Selector' }, ['from']],
      [{ from: 'Selector', selector: { matchLabels: { a: 'b' }, matchExpressions: [] } }, null],
      [{ from: 'All' }, null],
    ],
    json: () => ({
      if: { not: { required: ['selector'], properties: { selector: { type: 'object' } } } },
      then: { properties: { from: { not: { const: 'Selector' }, description: 'from: Selector needs a selector' } } },
    }),
  },
  // A label selector: operators In and NotIn need values, Exists and DoesNotExist have none.
  {
    on: 'object',
    fields: ['matchLabels', 'matchExpressions'],
    probes: [
      [{ matchLabels: {}, matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }, ['matchExpressions', 0, 'values']],
      [{ matchLabels: {}, matchExpressions: [{ key: 'a', operator: 'NotIn', values: [] }] }, ['matchExpressions', 0, 'values']],
      [{ matchLabels: {}, matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }, ['matchExpressions', 0, 'values']],
      [{ matchLabels: {}, matchExpressions: [{ key: 'a', operator: 'In', values: ['x'] }] }, null],
      [{ matchLabels: {}, matchExpressions: [{ key: 'a', operator: 'DoesNotExist', values: [] }] }, null],
    ],
    json: () => ({
      properties: {
        matchExpressions: {
          items: {
            if: { required: ['operator'], properties: { operator: { enum: ['In', 'NotIn'] } } },
            then: { required: ['values'], properties: { values: { type: 'array', minItems: 1, description: 'operators In and NotIn need values' } } },
            else: { properties: { values: { maxItems: 0, description: 'operators Exists and DoesNotExist take no values' } } },
          },
        },
      },
    }),
  },
  // RequestMirror: percent or fraction, not both.
  {
    on: 'object',
    fields: ['backendRef', 'percent', 'fraction'],
    probes: [
      [{ backendRef: SERVICE_REF, percent: 50, fraction: { numerator: 1, denominator: 2 } }, []],
      [{ backendRef: SERVICE_REF, percent: 50 }, null],
      [{ backendRef: SERVICE_REF, fraction: { numerator: 1, denominator: 2 } }, null],
    ],
    json: () => ({
      not: { required: ['percent', 'fraction'], properties: { percent: { type: 'integer' }, fraction: { type: 'object' } } },
      description: 'set percent or fraction, not both',
    }),
  },
  // RequestRedirect and URLRewrite are exclusive within a filter list.
  {
    on: 'list',
    fields: ['type', 'requestRedirect', 'urlRewrite'],
    probes: [
      [[REDIRECT, REWRITE], [1, 'type']],
      [[REWRITE, REDIRECT], [1, 'type']],
      [[REDIRECT], null],
      [[REWRITE], null],
    ],
    json: () => ({
      description: 'RequestRedirect and URLRewrite cannot be used together: a request is either redirected or forwarded',
      allOf: [
        ['RequestRedirect', 'URLRewrite'],
        ['URLRewrite', 'RequestRedirect'],
      ].map(([has, not]) => ({ if: hasItem(filterOfType(has!)), then: { items: { properties: { type: { not: { const: not } } } } } })),
    }),
  },
];

/** The CEL equivalents of an object's or a list's rules (empty when it has none, or none agree). */
function celEquivalents(s: ObjectSchema | ListSchema): JsonSchema[] {
  if (!s.rules?.length) return [];
  const fields = s.t === 'object' ? s.fields : s.item.t === 'object' ? s.item.fields : undefined;
  if (!fields) return [];
  return CEL_EQUIVALENTS.filter((e) => e.on === (s.t === 'object' ? 'object' : 'list') && e.fields.every((f) => fields[f]) && agrees(s.rules!, e.probes)).map((e) =>
    e.json(fields),
  );
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
      const cel = celEquivalents(s);
      if (cel.length) js.allOf = cel;
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

/**
 * Secret `data` values as `decodeBase64` (base64.ts) reads them: standard alphabet, whitespace anywhere,
 * any number of trailing "=", and not one character short of a 4-character group.
 */
const B64 = '[A-Za-z0-9+/]\\s*';
export const BASE64_PATTERN = `^\\s*(?:${B64}${B64}${B64}${B64})*(?:${B64}${B64}(?:${B64})?)?(?:=\\s*)*$`;
/** Values the pattern and the decoder must agree on (checked when the schema is built; the pattern is left out if they do not). */
const BASE64_PROBES = ['', 'a2V5', 'a2V5eQ', 'a2V5eQ==', 'a2V5eQ=', 'a2V5e', 'a2 V5\n', 'a2V5=a', 'not*base64!', '====', 'YQ===', '-_8=', 'a2V5eXk'];

/** A Secret of type kubernetes.io/tls holds tls.crt and tls.key, each in data or stringData. */
const SECRET_TLS_KEYS: JsonSchema = {
  if: { required: ['type'], properties: { type: { const: 'kubernetes.io/tls' } } },
  then: {
    description: 'a Secret of type kubernetes.io/tls needs tls.crt and tls.key, in data (base64) or stringData',
    allOf: ['tls.crt', 'tls.key'].map((k) => ({
      anyOf: [
        { required: ['data'], properties: { data: { type: 'object', required: [k] } } },
        { required: ['stringData'], properties: { stringData: { type: 'object', required: [k] } } },
      ],
    })),
  },
};

/** Whether the decoder (decode.ts, not a schema rule) asks a kubernetes.io/tls Secret for both keys, in data or stringData. */
function secretNeedsTlsKeys(): boolean {
  const errors = (body: object) =>
    decodeDocuments([{ ...PROBE_DOC, value: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, ...body } }]).diagnostics.filter(
      (d) => d.severity === 'error',
    ).length;
  const tls = { type: 'kubernetes.io/tls' };
  try {
    return (
      errors({ ...tls, data: { 'tls.crt': 'YQ==' } }) > 0 &&
      errors({ ...tls, stringData: { 'tls.key': 'k' } }) > 0 &&
      errors({ ...tls, data: { 'tls.crt': 'YQ==' }, stringData: { 'tls.key': 'k' } }) === 0 &&
      errors({ data: { 'tls.crt': 'YQ==' } }) === 0
    );
  } catch {
    return false; // the schema stays looser than the decoder, never stricter
  }
}

/** The whole object (apiVersion, kind, metadata, spec or top-level body) of one kind at one version. */
export function kindJsonSchema(def: KindDef, version: string): JsonSchema {
  const top = objectToJson(objectSchema(def, version, metadata));
  const apiVersion = apiVersionOf(def.group, version);
  const props = top.properties as Record<string, JsonSchema>;
  const base64 = new RegExp(BASE64_PATTERN, 'u');
  if (def.group === '' && def.kind === 'Secret' && props.data && BASE64_PROBES.every((v) => base64.test(v) === (decodeBase64(v) !== undefined)))
    props.data = { ...props.data, additionalProperties: { type: 'string', pattern: BASE64_PATTERN, description: 'Base64 (for plain text use stringData).' } };
  if (def.group === '' && def.kind === 'Secret' && secretNeedsTlsKeys()) top.allOf = [...((top.allOf as JsonSchema[]) ?? []), SECRET_TLS_KEYS];
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
  // Rules of a body whose fields sit at the top level (Secret, EndpointSlice, ConfigMap), and the Secret's TLS keys.
  if (top.allOf) ordered.allOf = top.allOf;
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
    oneOf: [
      { $ref: '#/definitions/object' },
      { $ref: '#/definitions/list' },
      // yaml-language-server validates an empty document (a trailing `---`) as null.
      { type: 'null', description: 'An empty document (after a trailing `---`, or only comments): Gatehouse skips it.' },
    ],
    definitions,
  };
}
