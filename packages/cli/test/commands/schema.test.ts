/**
 * The JSON Schemas (schemas/, `gatehouse schema`) against the real loader, with a well-kept validator
 * (ajv, draft-07):
 *
 * - schemas/ is what core's generator produces now (stale files fail, with the command to refresh);
 * - every document of every config directory under fixtures/ that the loader accepts (quickstart,
 *   seeds, compile inputs, the warning-only invalid cases) and examples/compose/gateway validates;
 * - every invalid case (fixtures/invalid/<case>) is rejected by schemas/all.json, and by its kind's
 *   schema on the same field as `gatehouse validate` reports, except the errors a JSON Schema cannot
 *   express, listed below (NOT_EXPRESSIBLE) with the reason; the CRDs' CEL rules the schemas do say
 *   (EXPRESSED: draft-07 if/then/else, not, anyOf) are held to the same field like any other error;
 * - mutations of fixture objects (every leaf, and the fields those CEL rules read) get the same verdict
 *   from the schema and the decoder, and so do the upstream conformance manifests when present;
 * - `gatehouse schema` prints all.json, one kind, a version, the list, and refuses unknown kinds.
 */
import t from 'tap';
import type { Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { allJsonSchema, decodeDocuments, formatPath, kindJsonSchemas, type Diagnostic, type RawDocument } from '@gatehouse/core';
import { loadDirectory, loadResources } from '../../src/load/index.js';

const ROOT = resolve(import.meta.dirname, '../../../..');
const SCHEMAS = join(ROOT, 'schemas');
const BIN = join(ROOT, 'packages/cli/dist/bin.js');

/**
 * Decoder error codes no JSON Schema can check, and why. A case whose errors are all of these still
 * has to be rejected by all.json when the schema can see the mistake at all (e.g. a wrong apiVersion);
 * the ones it cannot see at all are in NOT_REJECTED.
 */
const NOT_EXPRESSIBLE: Record<string, string> = {
  CEL_RULE: 'a cross-field rule (CEL in the CRDs) that draft-07 cannot say: comparing two fields or two list items, counting matches; validate checks it (the ones the schemas do say are in EXPRESSED)',
  DUPLICATE_ENTRY: 'a list-map key must be unique (x-kubernetes-list-map-keys): JSON Schema has uniqueItems for whole items only',
  DUPLICATE_OBJECT: 'two objects with one kind/namespace/name, possibly in different files: no schema sees two documents',
  YAML_SYNTAX: 'the file is not YAML: an editor reports it as a syntax error before any schema applies',
  V1ALPHA1_PORT_REQUIRED: 'v1alpha1 conversion: whether a port can be inferred depends on other objects',
  UNKNOWN_API_VERSION: 'all.json rejects it (no branch matches); there is no per-kind schema to compare fields with',
  UNKNOWN_KIND: 'all.json rejects it (no branch matches); there is no per-kind schema to compare fields with',
  INVALID_DOCUMENT: 'all.json rejects it (not an object); there is no per-kind schema to compare fields with',
};
/**
 * The CEL rules (and the path value rule) the schemas express with if/then/else, not and anyOf
 * (core json-schema.ts, CEL_EQUIVALENTS), by the decoder's message: an error with one of these is
 * no known limit, the schema must reject it on the same field.
 */
const EXPRESSED: RegExp[] = [
  /^hostname must not be set on a (TCP|UDP) listener/,
  /^tls must not be set on an? (HTTP|TCP|UDP) listener/,
  /^a TLS listener needs tls\.mode/,
  /^an HTTPS listener needs tls with certificateRefs/,
  /^tls mode must be Terminate for an HTTPS listener/,
  /^tls mode Terminate needs certificateRefs/,
  /^backendRef to Service .* needs a port/,
  /^a gRPC method match needs service or method/,
  /is not a valid path:/,
  /^a rule with a RequestRedirect filter .* must not have backendRefs/,
  /^ReplacePrefixMatch needs the rule to have exactly one match/,
  /^RequestRedirect and URLRewrite cannot be used together/,
  /^filter type \w+ needs the \w+ field/,
  /^\w+ must not be set when the filter type is/,
  /^type (ReplaceFullPath|ReplacePrefixMatch) needs/,
  /^(replaceFullPath|replacePrefixMatch) must not be set when type is/,
  /^from: Selector needs a selector/,
  /^operator \w+ (needs a non-empty values list|must not have values)/,
  /^set percent or fraction, not both/,
  /is not a valid gRPC (service|method) name/,
  /^a Service of type ExternalName needs externalName/,
  /is not an IP address \(type IPAddress\)/,
  /an address hostname cannot be a wildcard/,
  /^a Secret of type kubernetes\.io\/tls needs/,
  /^forwardTo needs serviceName or backendRef/,
];
const expressed = (d: Diagnostic) => EXPRESSED.some((re) => re.test(d.message));
/** A decoder error that is a known limit of JSON Schema (so the schema may miss it). */
const limit = (d: Diagnostic) => !expressed(d) && NOT_EXPRESSIBLE[d.code] !== undefined;

/** An error the schema may miss: a known limit, or a v1alpha1 object's error found once converted to v1 (e.g. `rules: []` becomes too few rules). */
const crossField = (d: Diagnostic) => limit(d) || (d.hint ?? '').includes('found after conversion to v1');

/**
 * v1alpha1 path values are checked once converted to v1 (Prefix → PathPrefix), with no rule on the
 * v1alpha1 path object for the generator to express: the v1alpha1 schemas leave them to validate.
 */
const v1alpha1Limit = (o: { apiVersion?: unknown }, d: Diagnostic) => String(o.apiVersion).startsWith('networking.x-k8s.io/') && d.code === 'INVALID_PATH';

/** Codes all.json does reject (no branch matches), though no per-kind schema can point at the field. */
const SEEN_BY_ALL = new Set(['UNKNOWN_API_VERSION', 'UNKNOWN_KIND', 'INVALID_DOCUMENT']);
/** Invalid cases that all.json accepts, with the reason (every error they have is invisible to a schema). */
const NOT_REJECTED: Record<string, string> = {
  'backend-request-exceeds-request': 'CEL: timeouts.backendRequest <= timeouts.request compares two durations (JSON Schema compares a value with constants only)',
  'duplicate-filter': 'CEL: a filter type at most once per list needs maxContains (2019-09); draft-07 cannot count the items that match',
  'duplicate-listener-names': 'listener names are list-map keys (unique by name): uniqueItems compares whole items only',
  'duplicate-objects': 'the same object twice in one directory: a schema sees one document at a time',
  'duplicate-yaml-key': 'YAML syntax (a repeated key): the parser, not a schema, sees it; editors flag it as such',
  'parentrefs-not-distinct': 'CEL: parentRefs to one parent need distinct sectionName/port: compares list items with each other',
  'tab-indentation': 'YAML syntax: no document to validate',
  'yaml-bad-indentation': 'YAML syntax: no document to validate',
  'yaml-syntax-error': 'YAML syntax: no document to validate',
};
/**
 * Invalid cases all.json used to accept (issue 10) and now rejects with draft-07 if/then/else, not and
 * anyOf: each must be rejected on exactly the field `gatehouse validate` reports.
 */
const NOW_REJECTED = [
  'grpc-method-empty',
  'https-without-certificaterefs',
  'path-without-slash',
  'redirect-and-rewrite',
  'redirect-with-backendrefs',
  'replace-prefix-with-exact',
  'secret-bad-base64',
  'service-backend-without-port',
  'tcp-listener-hostname',
  'tls-listener-without-mode',
  'tls-on-http-listener',
];

// strictRequired would flag the union branches' `then: {required: [field]}`, whose field is declared next to them.
// ajv is CommonJS: under NodeNext its class is the default export's `default` (also the class at run time)
// verbose: an error carries its keyword's schema (errorPath reads a `not`'s `required`).
const ajv = new Ajv.default({ allErrors: true, strict: true, strictTypes: false, strictRequired: false, verbose: true });
const kinds = kindJsonSchemas();
const all = ajv.compile(allJsonSchema(kinds));
const byKind = new Map<string, ValidateFunction>();
for (const k of kinds) byKind.set(`${k.apiVersion} ${k.kind}`, ajv.compile(k.schema));

/** ajv error → the field path `gatehouse validate` prints for the same mistake. */
function errorPath(e: ErrorObject): string {
  const parts: (string | number)[] = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  // The decoder reports an unknown field at the field, a missing one at its parent object.
  if (e.keyword === 'additionalProperties') parts.push((e.params as { additionalProperty: string }).additionalProperty);
  // A forbidden field is written `not: {required: [field], ...}` on its object (a `properties` entry would
  // make editors offer it twice in completion): the field is the one the decoder names.
  const forbidden = e.keyword === 'not' ? (e.schema as { required?: unknown }).required : undefined;
  if (Array.isArray(forbidden) && forbidden.length === 1) parts.push(forbidden[0] as string);
  return formatPath(parts);
}

interface Doc {
  file: string;
  value: unknown;
}

/** Kubernetes objects of a document (the items of a List, or the document itself). */
function objects(value: unknown): { value: any; prefix: string }[] {
  if (value && typeof value === 'object' && !Array.isArray(value) && (value as any).kind === 'List' && Array.isArray((value as any).items))
    return (value as any).items.map((v: unknown, i: number) => ({ value: v, prefix: `items[${i}]` }));
  return [{ value, prefix: '' }];
}

/** Config directories under fixtures/ (and the compose example): directories that hold YAML. */
function configDirs(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    const entries = readdirSync(d, { withFileTypes: true });
    if (entries.some((e) => e.isFile() && /\.ya?ml$/.test(e.name))) out.push(d);
    else for (const e of entries) if (e.isDirectory()) walk(join(d, e.name));
  };
  walk(join(ROOT, 'fixtures'));
  out.push(join(ROOT, 'examples/compose/gateway'));
  return out.sort();
}

const errorsOf = (ds: Diagnostic[]) => ds.filter((d) => d.severity === 'error');

t.test('schemas/ is generated from the decoder and up to date', async (t) => {
  const want = new Map<string, string>(kinds.map((k) => [k.file, JSON.stringify(k.schema, null, 2) + '\n']));
  want.set('all.json', JSON.stringify(allJsonSchema(kinds), null, 2) + '\n');
  const have: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.json')) have.push(relative(SCHEMAS, join(d, e.name)));
    }
  };
  walk(SCHEMAS);
  const fix = 'stale: run `npx tsc -b && node scripts/package/schemas.mjs` and commit schemas/';
  t.same(have.sort(), [...want.keys()].sort(), `the files under schemas/ (${fix})`);
  for (const [f, text] of want) if (existsSync(join(SCHEMAS, f))) t.ok(readFileSync(join(SCHEMAS, f), 'utf8') === text, `schemas/${f} (${fix})`);
  const expected = ['GatewayClass', 'Gateway', 'HTTPRoute', 'GRPCRoute', 'TLSRoute', 'TCPRoute', 'UDPRoute', 'ReferenceGrant', 'Service', 'EndpointSlice', 'Secret', 'Namespace', 'ConfigMap', 'Backend'];
  for (const k of expected) t.ok(kinds.some((s) => s.kind === k), `a schema for ${k}`);
  for (const k of ['GatewayClass', 'Gateway', 'HTTPRoute', 'TCPRoute', 'TLSRoute', 'UDPRoute'])
    t.ok(kinds.some((s) => s.kind === k && s.apiVersion === 'networking.x-k8s.io/v1alpha1'), `a v1alpha1 schema for ${k}`);
  t.ok(kinds.some((s) => s.apiVersion === 'gateway.networking.k8s.io/v1beta1' && s.kind === 'HTTPRoute'), 'served versions too (v1beta1 HTTPRoute)');
});

t.test('every document the loader accepts validates', async (t) => {
  let docs = 0;
  for (const dir of configDirs()) {
    const name = relative(ROOT, dir);
    const loaded = await loadResources(dir);
    if (errorsOf(loaded.diagnostics).length) continue; // an invalid case: next test
    const { docs: raw } = await loadDirectory(dir);
    for (const d of raw as Doc[]) {
      if (d.value === null || d.value === undefined) continue;
      docs++;
      const ok = all(d.value);
      t.ok(ok, `${name}/${d.file}`, ok ? {} : { errors: all.errors?.slice(0, 5) });
      for (const o of objects(d.value)) {
        const v = byKind.get(`${o.value?.apiVersion} ${o.value?.kind}`);
        if (v && !v(o.value)) t.fail(`${name}/${d.file} ${o.value.kind} against its own schema`, { errors: v.errors?.slice(0, 5) });
      }
    }
  }
  t.ok(docs > 100, `${docs} documents`);
  // The loader skips an empty document (a file ending in `---`); editors validate it as null.
  t.ok(all(null), 'an empty document validates against all.json');
  t.notOk(all({}), 'an empty object does not');
});

t.test('invalid cases: rejected, on the same fields as gatehouse validate', async (t) => {
  const cases = readdirSync(join(ROOT, 'fixtures/invalid')).filter((c) => statSync(join(ROOT, 'fixtures/invalid', c)).isDirectory());
  let rejected = 0;
  let sameField = 0;
  const nowSameField = new Set<string>();
  for (const c of cases.sort()) {
    const dir = join(ROOT, 'fixtures/invalid', c);
    const loaded = await loadResources(dir);
    const errors = errorsOf(loaded.diagnostics);
    if (!errors.length) continue; // warning-only: validated with the accepted directories above
    const { docs: raw } = await loadDirectory(dir);
    // Field paths the schemas reject, per file, from each object's own kind schema.
    const found = new Set<string>();
    let allRejects = false;
    for (const d of raw as Doc[]) {
      if (d.value === null || d.value === undefined) continue;
      if (!all(d.value)) allRejects = true;
      for (const o of objects(d.value)) {
        const v = byKind.get(`${o.value?.apiVersion} ${o.value?.kind}`);
        if (v && !v(o.value)) for (const e of v.errors ?? []) found.add(`${d.file} ${errorPath(e)}`);
      }
    }
    await t.test(c, async (t) => {
      const invisible = errors.every((e) => limit(e) && !SEEN_BY_ALL.has(e.code));
      if (NOT_REJECTED[c] || (invisible && !allRejects)) {
        // A case added later with only such errors passes too; NOT_REJECTED documents the known ones.
        if (!NOT_REJECTED[c]) t.comment(`${c}: accepted by all.json (only errors a schema cannot express); add it to NOT_REJECTED with the reason`);
        t.notOk(allRejects, `accepted by all.json: ${NOT_REJECTED[c] ?? 'not listed'} (if the schema now rejects it, drop it from NOT_REJECTED)`);
        for (const e of errors) t.ok(limit(e), `${e.code} is a known limit: ${expressed(e) ? 'no, the schemas express it' : (NOT_EXPRESSIBLE[e.code] ?? 'not listed')}`);
        return;
      }
      t.ok(allRejects, 'all.json rejects it');
      rejected++;
      for (const e of errors) {
        const key = `${e.file} ${e.path ?? ''}`; // both as the loader prints them
        if (found.has(key)) {
          sameField++;
          if (NOW_REJECTED.includes(c)) nowSameField.add(c);
          t.pass(`${e.code} at ${key}`);
        } else
          t.ok(limit(e), `${e.code} at ${key}: the schema rejects the same field, or the error is a listed limit`, { found: [...found], message: e.message });
      }
    });
  }
  t.same([...nowSameField].sort(), NOW_REJECTED, 'each case the CEL equivalents cover is rejected on the field validate reports');
  t.ok(rejected >= 30, `${rejected} invalid cases rejected by all.json`);
  t.ok(sameField >= 30, `${sameField} decoder errors matched on the same field`);
});

/** The decoder alone on one object (positions do not matter here). */
function decodeAlone(value: unknown): Diagnostic[] {
  const doc: RawDocument = { file: 'x.yaml', index: 0, order: 0, value, locate: () => ({ file: 'x.yaml', line: 1, col: 1 }) };
  return errorsOf(decodeDocuments([doc]).diagnostics);
}

/** Every path to a value inside `v` (objects and lists included), parents first. */
function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (at.length) out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

function mutate(v: any, path: (string | number)[], how: 'null' | 'delete' | 'string' | 'number'): any {
  const copy = structuredClone(v);
  let o = copy;
  for (const p of path.slice(0, -1)) o = o[p];
  const last = path[path.length - 1]!;
  if (how === 'delete') {
    if (Array.isArray(o)) o.splice(last as number, 1);
    else delete o[last];
  } else o[last] = how === 'null' ? null : how === 'string' ? 'x y' : 7;
  return copy;
}

/** Decoder and schema verdicts on many objects: false alarms (schema rejects, decoder accepts) and gaps. */
class Verdicts {
  n = 0;
  falseAlarms = 0;
  gaps = 0;
  report: string[] = [];
  /** One object (of a kind with a schema; others are skipped), labelled `what` in the report. */
  check(m: any, what: string): void {
    const v = byKind.get(`${m?.apiVersion} ${m?.kind}`);
    if (!v) return;
    this.n++;
    const errs = decodeAlone(m);
    const kind: string = m.kind; // read before v(m), whose type guard narrows `m` to unknown
    const limited = (e: Diagnostic) => crossField(e) || v1alpha1Limit(m, e);
    const ok = v(m);
    if (errs.length === 0 && !ok) {
      this.falseAlarms++;
      if (this.report.length < 10) this.report.push(`schema rejects what the decoder accepts: ${kind} ${what}: ${ajv.errorsText(v.errors)}`);
    } else if (errs.length > 0 && ok && !errs.some(limited)) {
      this.gaps++;
      if (this.report.length < 10) this.report.push(`schema accepts what the decoder rejects: ${kind} ${what}: ${errs.map((e) => `${e.code} ${e.path} ${e.message}`).join('; ')}`);
    }
  }
  assert(t: Test): void {
    t.equal(this.falseAlarms, 0, `no false alarms in ${this.n} cases`, { report: this.report });
    t.equal(this.gaps, 0, `no gaps on expressible errors in ${this.n} cases`, { report: this.report });
  }
}

/** Fixture objects (outside fixtures/invalid) that decode cleanly on their own, each once. */
async function cleanFixtureObjects(): Promise<any[]> {
  const seen = new Set<string>();
  const objs: any[] = [];
  for (const dir of configDirs()) {
    if (dir.includes('/invalid/')) continue;
    const { docs: raw } = await loadDirectory(dir);
    for (const d of raw as Doc[])
      for (const o of objects(d.value)) {
        const key = JSON.stringify(o.value);
        if (o.value && !seen.has(key) && byKind.has(`${o.value.apiVersion} ${o.value.kind}`) && decodeAlone(o.value).length === 0) {
          seen.add(key);
          objs.push(o.value);
        }
      }
  }
  return objs;
}

t.test('differential: mutated fixture objects, decoder vs schema', async (t) => {
  // Every fixture object that decodes cleanly on its own, each leaf and subtree set to null, deleted,
  // or replaced by a string or a number (about 12,000 cases, 2 s). Where the decoder accepts, the schema must accept (no false
  // alarms in editors); where the decoder's only errors are ones a schema expresses, it must reject.
  const objs = await cleanFixtureObjects();
  const verdicts = new Verdicts();
  for (const o of objs) {
    const ps = paths(o).filter((p) => p[0] !== 'apiVersion' && p[0] !== 'kind');
    for (const p of ps) for (const how of ['null', 'delete', 'string', 'number'] as const) verdicts.check(mutate(o, p, how), `${how} ${formatPath(p)}`);
  }
  t.ok(objs.length > 50, `${objs.length} distinct objects`);
  t.ok(verdicts.n > 1000, `${verdicts.n} mutations`);
  verdicts.assert(t);
});

const KEEP = Symbol('keep');
/** Sets `o[k]` to `v` (deletes it for undefined, leaves it for KEEP). */
function put(o: any, k: string, v: unknown): void {
  if (v === KEEP || !o || typeof o !== 'object') return;
  if (v === undefined) delete o[k];
  else o[k] = structuredClone(v);
}

const REDIRECT = { type: 'RequestRedirect', requestRedirect: { scheme: 'https' } };
const REWRITE = { type: 'URLRewrite', urlRewrite: { hostname: 'internal.example.com' } };
const PREFIX_REWRITE = { type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/b' } } };
const PREFIX_REDIRECT = { type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/b' } } };
const FULL_REWRITE = { type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: '/b' } } };
const HEADERS = { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-a', value: 'b' }] } };
/** One filter each: the union fields (the named one absent, null, or next to another) and the mirror's percent/fraction. */
const FILTER_SHAPES = [
  { type: 'CORS' },
  { type: 'CORS', cors: null },
  { type: 'CORS', cors: {} },
  { type: 'CORS', cors: {}, requestHeaderModifier: {} },
  { type: 'RequestHeaderModifier', requestHeaderModifier: { remove: ['x'] }, responseHeaderModifier: null },
  { type: 'ResponseHeaderModifier', requestHeaderModifier: { remove: ['x'] } },
  { type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath' } } },
  { type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: '/a', replacePrefixMatch: '/b' } } },
  { type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/b', replaceFullPath: null } } },
  { type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: null } } },
  { type: 'RequestMirror', requestMirror: { backendRef: { name: 'm', port: 80 }, percent: 10, fraction: { numerator: 1 } } },
  { type: 'RequestMirror', requestMirror: { backendRef: { name: 'm', port: 80 }, percent: 10, fraction: null } },
  { type: 'RequestMirror', requestMirror: { backendRef: { name: 'm', port: 80 }, fraction: { numerator: 1, denominator: 4 } } },
  { type: 'RequestMirror', requestMirror: { backendRef: { name: 'm' }, percent: 10 } },
];
const NAMESPACES = [
  { from: 'Selector' },
  { from: 'Selector', selector: null },
  { from: 'Selector', selector: {} },
  { from: 'All', selector: {} },
  { selector: { matchLabels: { a: 'b' } } },
  ...['In', 'NotIn', 'Exists', 'DoesNotExist'].flatMap((operator) =>
    [undefined, null, [], ['x']].map((values) => ({ from: 'Selector', selector: { matchExpressions: [{ key: 'k', operator, ...(values === undefined ? {} : { values }) }] } })),
  ),
];
const BACKEND_REFS = [
  KEEP,
  undefined,
  [],
  [{ name: 'web', port: 80 }],
  [{ name: 'web' }],
  [{ name: 'web', group: '', kind: 'Service' }],
  [{ name: 'web', group: 'gateway.envoyproxy.io', kind: 'Backend' }],
  [{ name: 'web', kind: 'Backend' }],
  [{ name: 'web', port: 80, filters: [PREFIX_REWRITE] }],
  [{ name: 'web', port: null }],
];
const PATH_VALUES = [
  KEEP, undefined, null, '/', '', 'api', '/a//b', '//', '/a/./b', '/a/../b', '/a/.', '/a/..', '/.', '/a%2fb', '/a%2Fb', '/a#b',
  '/a b', '/%zz', '/%41', "/a-b_c~!$&'()*+,;=:@", '/..a', '/a.', '/a..', '/.well-known/x', '/é',
];

/**
 * Objects made from a fixture object by setting the fields the expressed CEL rules read to the values
 * that decide them: listener protocol × tls × hostname, allowedRoutes namespaces and selectors, an
 * HTTPRoute rule's matches × filters and filters × backendRefs, filter unions and mirrors, path types ×
 * values, gRPC method matches, backendRef group/kind/port.
 */
function ruleMutations(o: any): [any, string][] {
  const out: [any, string][] = [];
  const edit = (what: string, f: (c: any) => void) => {
    const c = structuredClone(o);
    f(c);
    out.push([c, what]);
  };
  if (o.kind === 'Secret') {
    const crt = { 'tls.crt': 'YQ==' };
    const key = { 'tls.key': 'YQ==' };
    for (const type of [KEEP, undefined, null, 'Opaque', 'kubernetes.io/tls'])
      for (const data of [KEEP, undefined, null, {}, crt, { ...crt, ...key }])
        for (const stringData of [KEEP, undefined, null, {}, key, { 'tls.crt': 'c' }])
          edit(`type=${String(type)} data=${String(JSON.stringify(data))} stringData=${String(JSON.stringify(stringData))}`, (c) => {
            put(c, 'type', type);
            put(c, 'data', data);
            put(c, 'stringData', stringData);
          });
  }
  const spec = o.spec;
  if (!spec || typeof spec !== 'object') return out;
  if (o.kind === 'Gateway' && Array.isArray(spec.listeners))
    spec.listeners.slice(0, 2).forEach((_: unknown, i: number) => {
      for (const protocol of ['HTTP', 'HTTPS', 'TLS', 'TCP', 'UDP'])
        for (const tls of [KEEP, undefined, null, {}, { mode: 'Terminate' }, { mode: 'Passthrough' }, { certificateRefs: [{ name: 'c' }] }, { mode: 'Terminate', certificateRefs: [] }, { mode: 'Passthrough', certificateRefs: [{ name: 'c' }] }, { options: { 'example.com/k': 'v' } }])
          for (const hostname of [KEEP, undefined, null, 'a.example.com'])
            edit(`listeners[${i}] ${protocol} tls=${String(JSON.stringify(tls))} hostname=${String(hostname)}`, (c) => {
              const l = c.spec.listeners[i];
              l.protocol = protocol;
              put(l, 'tls', tls);
              put(l, 'hostname', hostname);
            });
    });
  if (o.kind === 'Gateway')
    for (const type of [KEEP, undefined, null, 'IPAddress', 'Hostname', 'NamedAddress'])
      for (const value of [KEEP, undefined, null, '', '10.0.0.1', '::1', 'gw.example.com', '*.example.com', 'Gw', 'a b'])
        edit(`addresses=[{type: ${String(type)}, value: ${String(value)}}]`, (c) => {
          const a = {};
          put(a, 'type', type);
          put(a, 'value', value);
          c.spec.addresses = [a];
        });
  if (o.kind === 'Gateway' && Array.isArray(spec.listeners) && spec.listeners[0] && typeof spec.listeners[0] === 'object')
    for (const namespaces of NAMESPACES)
      edit(`listeners[0].allowedRoutes.namespaces=${JSON.stringify(namespaces)}`, (c) => {
        c.spec.listeners[0].allowedRoutes = { namespaces };
      });
  const rules: any[] = Array.isArray(spec.rules) ? spec.rules : [];
  const ruleIdx = [...new Set([0, rules.length - 1])].filter((i) => i >= 0 && rules[i] && typeof rules[i] === 'object');
  if (o.kind === 'HTTPRoute' && String(o.apiVersion).startsWith('gateway.networking.k8s.io/'))
    for (const i of ruleIdx) {
      const exact = { path: { type: 'Exact', value: '/a' } };
      const prefix = { path: { type: 'PathPrefix', value: '/a' } };
      const matches = [KEEP, undefined, null, [], [{}], [exact], [prefix], [prefix, prefix], [{ path: { value: '/a' } }], [{ path: { type: 'RegularExpression', value: '/a.*' } }]];
      const filters = [KEEP, undefined, [], [REDIRECT], [REWRITE], [REDIRECT, REWRITE], [REWRITE, HEADERS, REDIRECT], [PREFIX_REWRITE], [PREFIX_REDIRECT], [FULL_REWRITE], [HEADERS]];
      for (const m of matches)
        for (const f of filters)
          edit(`rules[${i}] matches=${String(JSON.stringify(m))} filters=${String(JSON.stringify(f))}`, (c) => {
            put(c.spec.rules[i], 'matches', m);
            put(c.spec.rules[i], 'filters', f);
          });
      for (const f of filters)
        for (const b of BACKEND_REFS)
          edit(`rules[${i}] filters=${String(JSON.stringify(f))} backendRefs=${String(JSON.stringify(b))}`, (c) => {
            put(c.spec.rules[i], 'filters', f);
            put(c.spec.rules[i], 'backendRefs', b);
          });
      for (const f of FILTER_SHAPES) {
        edit(`rules[${i}].filters=[${JSON.stringify(f)}]`, (c) => put(c.spec.rules[i], 'filters', [f]));
        edit(`rules[${i}].backendRefs[0].filters=[${JSON.stringify(f)}]`, (c) => put(c.spec.rules[i], 'backendRefs', [{ name: 'web', port: 80, filters: [f] }]));
      }
      for (const type of [KEEP, undefined, null, 'Exact', 'PathPrefix', 'RegularExpression'])
        for (const value of PATH_VALUES)
          edit(`rules[${i}].matches[0].path type=${String(type)} value=${String(value)}`, (c) => {
            const r = c.spec.rules[i];
            if (!Array.isArray(r.matches) || !r.matches.length) r.matches = [{}];
            if (!r.matches[0] || typeof r.matches[0] !== 'object') r.matches[0] = {};
            r.matches[0].path ??= {};
            put(r.matches[0].path, 'type', type);
            put(r.matches[0].path, 'value', value);
          });
    }
  if (o.kind === 'GRPCRoute')
    for (const i of ruleIdx) {
      const methods = [KEEP, undefined, null, {}, { type: 'Exact' }, { type: 'RegularExpression' }, { service: 'a.B' }, { method: 'M' }, { type: 'RegularExpression', method: '.*' }, { service: null, method: null },
        { service: 'grpc/Health' }, { service: '.a._b.C1' }, { service: 'a..b' }, { method: 'a/Check' }, { method: '_Check2' }, { type: 'Exact', method: '1a' },
        { type: 'RegularExpression', service: 'grpc/.*', method: 'a/b' }];
      for (const method of methods)
        edit(`rules[${i}].matches[0].method=${String(JSON.stringify(method))}`, (c) => {
          const r = c.spec.rules[i];
          if (!Array.isArray(r.matches) || !r.matches.length) r.matches = [{}];
          put(r.matches[0], 'method', method);
        });
      for (const b of BACKEND_REFS) edit(`rules[${i}] backendRefs=${String(JSON.stringify(b))}`, (c) => put(c.spec.rules[i], 'backendRefs', b));
    }
  if (o.kind === 'Service')
    for (const type of [KEEP, undefined, null, 'ClusterIP', 'ExternalName'])
      for (const externalName of [KEEP, undefined, null, '', 'db.example.com'])
        edit(`type=${String(type)} externalName=${String(externalName)}`, (c) => {
          put(c.spec, 'type', type);
          put(c.spec, 'externalName', externalName);
        });
  if (['TCPRoute', 'UDPRoute', 'TLSRoute'].includes(o.kind) && String(o.apiVersion).startsWith('gateway.networking.k8s.io/'))
    for (const i of ruleIdx)
      for (const b of BACKEND_REFS) edit(`rules[${i}] backendRefs=${String(JSON.stringify(b))}`, (c) => put(c.spec.rules[i], 'backendRefs', b));
  return out;
}

t.test('differential: the fields of the expressed CEL rules, decoder vs schema', async (t) => {
  // About 44,000 cases, 5 s: every fixture Gateway, HTTPRoute, GRPCRoute and L4 route with the fields
  // those rules read set to the values that decide them. The schema and the decoder must agree.
  const verdicts = new Verdicts();
  const kinds = new Set<string>();
  for (const o of await cleanFixtureObjects())
    for (const [m, what] of ruleMutations(o)) {
      kinds.add(o.kind);
      verdicts.check(m, what);
    }
  t.same([...kinds].sort(), ['GRPCRoute', 'Gateway', 'HTTPRoute', 'Secret', 'Service', 'TCPRoute', 'TLSRoute', 'UDPRoute'], 'every kind with such a rule is mutated');
  t.ok(verdicts.n > 5000, `${verdicts.n} cases`);
  verdicts.assert(t);
});

t.test('Gateway addresses: the IP and hostname patterns and the decoder agree', async (t) => {
  // 6,000 strings from a seeded generator over hex digits, ":" and ".", as IPAddress and as Hostname values.
  const v = byKind.get('gateway.networking.k8s.io/v1 Gateway')!;
  const gateway = (address: object) => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'gw' },
    spec: { gatewayClassName: 'g', listeners: [{ name: 'h', port: 80, protocol: 'HTTP' }], addresses: [address] },
  });
  const letters = '0123456789abcdefAF::...xz-*';
  let seed = 20261127;
  const next = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed >>> 12); // the high bits: the low ones of an LCG repeat quickly
  const crafted = ['::', '::1', '1::', 'fe80::1', '::ffff:10.0.0.1', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1::2::3', ':::', '1.2.3.4', '255.255.255.255', '256.1.1.1', '01.1.1.1', '1.2.3', 'a.b:c', '1.2:3', 'g::1', '*.example.com', 'gw.example.com', 'GW.example.com', ''];
  const disagree: string[] = [];
  const valid = { IPAddress: 0, Hostname: 0 };
  for (let i = 0; i < 3000 + crafted.length; i++) {
    let value = crafted[i] ?? '';
    if (i >= crafted.length) for (let n = next() % 16; n > 0; n--) value += letters[next() % letters.length];
    for (const type of ['IPAddress', 'Hostname'] as const) {
      const gw = gateway({ type, value });
      const decoderOk = decodeAlone(gw).length === 0;
      if (decoderOk) valid[type]++;
      if (decoderOk !== v(gw) && disagree.length < 10) disagree.push(`${type} ${JSON.stringify(value)}: decoder ${decoderOk ? 'accepts' : 'rejects'}`);
    }
  }
  t.same(disagree, [], 'same verdict on every value');
  t.ok(valid.IPAddress > 100 && valid.Hostname > 100, `both verdicts occur (${valid.IPAddress} IPs, ${valid.Hostname} hostnames valid)`);
});

t.test('Secret data: the base64 pattern and the decoder agree', async (t) => {
  // 4,000 strings from a seeded generator over base64 letters, padding, whitespace and a few others.
  const v = byKind.get('v1 Secret')!;
  const letters = 'Aa0+/=  \n\t-_*é';
  let seed = 20261127;
  const next = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed >>> 12); // the high bits: the low ones of an LCG repeat quickly
  const disagree: string[] = [];
  let valid = 0;
  for (let i = 0; i < 4000; i++) {
    let str = '';
    for (let n = next() % 11; n > 0; n--) str += letters[next() % letters.length];
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { k: str } };
    const decoderOk = decodeAlone(secret).length === 0;
    if (decoderOk) valid++;
    if (decoderOk !== v(secret) && disagree.length < 10) disagree.push(JSON.stringify(str));
  }
  t.same(disagree, [], 'same verdict on every string');
  // Bytes f4 90 80 80 are no UTF-8 (past U+10FFFF): the decoder used to fail with INTERNAL_ERROR on them.
  const binary = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { k: '9JCAgA==' } };
  t.same(decodeAlone(binary), [], 'binary data that is no UTF-8 decodes');
  t.ok(v(binary), 'and validates');
  t.ok(valid > 200 && valid < 3800, `both verdicts occur (${valid} valid)`);
});

const CONFORMANCE = process.env.GATEHOUSE_CONFORMANCE_DIR ?? '/work/shared/conformance';
t.test('upstream conformance manifests: schema and decoder agree', { skip: !existsSync(join(CONFORMANCE, 'tests')) && `${CONFORMANCE}/tests missing (set GATEHOUSE_CONFORMANCE_DIR)` }, async (t) => {
  // Objects written for real API servers (the CRDs' CEL rules hold for them): each object the decoder
  // accepts alone validates against its kind's schema, each it rejects for an expressible reason is rejected.
  const verdicts = new Verdicts();
  for (const sub of ['base', 'tests', 'tests/mesh']) {
    if (!existsSync(join(CONFORMANCE, sub))) continue;
    const { docs: raw } = await loadDirectory(join(CONFORMANCE, sub));
    for (const d of raw as Doc[]) for (const o of objects(d.value)) verdicts.check(o.value, `${sub}/${d.file} ${o.value?.metadata?.name}`);
  }
  t.ok(verdicts.n > 300, `${verdicts.n} Gateway API and core objects`);
  verdicts.assert(t);
});

t.test('gatehouse schema', { skip: !existsSync(BIN) && 'packages/cli/dist missing: run npx tsc -b' }, async (t) => {
  const run = (...args: string[]) => spawnSync(process.execPath, [BIN, 'schema', ...args], { encoding: 'utf8', timeout: 20_000 });
  const whole = run();
  t.equal(whole.status, 0);
  t.equal(whole.stdout, readFileSync(join(SCHEMAS, 'all.json'), 'utf8'), 'prints schemas/all.json');
  const http = run('httproute');
  t.equal(http.status, 0);
  t.equal(http.stdout, readFileSync(join(SCHEMAS, 'gateway.networking.k8s.io/v1/httproute.json'), 'utf8'), 'a kind, case-insensitive: its newest version');
  const beta = run('HTTPRoute', '--api-version', 'gateway.networking.k8s.io/v1beta1');
  t.equal(JSON.parse(beta.stdout).properties.apiVersion.const, 'gateway.networking.k8s.io/v1beta1');
  const old = run('Gateway', '--api-version', 'networking.x-k8s.io/v1alpha1');
  t.equal(JSON.parse(old.stdout).properties.apiVersion.const, 'networking.x-k8s.io/v1alpha1');
  const list = run('--list');
  t.equal(list.status, 0);
  t.equal(list.stdout.trim().split('\n').length, kinds.length, 'one line per kind and version');
  t.match(list.stdout, /^v1\s+Service\s+schemas\/v1\/service\.json$/m);
  const bad = run('HTTPRoutes');
  t.equal(bad.status, 2);
  t.match(bad.stderr, /unknown kind "HTTPRoutes"; known kinds: .*HTTPRoute/);
  const badVersion = run('GRPCRoute', '--api-version', 'gateway.networking.k8s.io/v1beta1');
  t.equal(badVersion.status, 2);
  t.match(badVersion.stderr, /not served at gateway.networking.k8s.io\/v1beta1; served: gateway.networking.k8s.io\/v1, gateway.networking.k8s.io\/v1alpha2/);
});
