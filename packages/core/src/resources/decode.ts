import type { Diagnostic } from '../diagnostics.js';
import type { FieldPath, RawDocument } from './document.js';
import { emptyResourceSet, V1ALPHA1_GROUP, type Resource, type ResourceSet, type Route } from './types.js';
import { Ctx, isPlainObject, typeName, walk, type ObjectSchema } from './schema.js';
import { KINDS, KNOWN_UNSUPPORTED, OWN_GROUPS, objectSchema, type KindDef } from './kinds.js';
import { metadata as metadataSchema } from './core-kinds.js';
import { didYouMean } from './suggest.js';
import { decodeBase64, utf8 } from './base64.js';
import {
  applyBackendPolicy,
  computeParentRefs,
  convertGateway,
  convertGatewayClass,
  convertRoute,
  nameSplitRoutes,
  readBackendPolicy,
  splitDocument,
  type BackendPolicy,
  type Converted,
} from './v1alpha1.js';

export interface DecodeResult {
  resources: ResourceSet;
  /** Errors and warnings, each with file:line:col, object and field path. */
  diagnostics: Diagnostic[];
}

/** One v1alpha1 object as `gatehouse convert` prints it. */
export interface Conversion {
  /** The v1 manifest: apiVersion gateway.networking.k8s.io/v1, kind, metadata, spec; null for a BackendPolicy (no v1 kind: notes only). */
  manifest: Record<string, any> | null;
  /** What changed (one line each). */
  notes: string[];
  /** Where the v1alpha1 object was written. */
  source: { file: string; line: number; col: number; order: number };
  /** `Kind ns/name`. */
  object: string;
}

/**
 * Decode, validate, default and normalise (all served versions → v1; v1alpha1 converted) every document.
 * Never throws on user input. An object with errors is left out of `resources`.
 */
export function decodeDocuments(docs: readonly RawDocument[]): DecodeResult {
  const { resources, diagnostics } = new Decoder().run(docs);
  return { resources, diagnostics };
}

/**
 * decodeDocuments one document at a time, for a loader that decodes each file as soon as it is parsed:
 * `add` every document in load order, then `finish` once. `add` reads `doc.value` only while it runs
 * (later steps use the document's file, order and `locate`), so the caller may drop the value after it:
 * the parsed tree then dies young instead of living, and being copied by every scavenge, until the
 * whole directory is decoded. The result equals decodeDocuments over the same documents.
 */
export class DocumentDecoder {
  private readonly decoder = new Decoder();
  private finished = false;

  add(doc: RawDocument): void {
    if (this.finished) throw new Error('DocumentDecoder: add after finish');
    this.decoder.addDocument(doc);
  }

  finish(): DecodeResult {
    this.finished = true;
    const { resources, diagnostics } = this.decoder.complete();
    return { resources, diagnostics };
  }
}

/** decodeDocuments plus, for every v1alpha1 object that decoded cleanly, its v1 manifest and notes. */
export function convertDocuments(docs: readonly RawDocument[]): DecodeResult & { conversions: Conversion[] } {
  const d = new Decoder();
  const r = d.run(docs);
  const conversions = [...d.conversions.entries()]
    .filter(([res]) => d.accepted.has(res))
    .map(([res, c]): Conversion => ({ manifest: c.manifest, notes: c.notes, source: res.source, object: objName(res.kind, res.metadata.namespace, res.metadata.name) }))
    .concat(d.backendPolicies.map((b) => ({ manifest: null, notes: b.policy.notes, source: b.source, object: objName('BackendPolicy', b.policy.namespace, b.policy.name) })))
    .sort((a, b) => a.source.order - b.source.order);
  return { ...r, conversions };
}

// ---------------------------------------------------------------------------------------------- decoder

const KINDS_BY_NAME = new Map<string, KindDef[]>();
for (const d of KINDS) KINDS_BY_NAME.set(d.kind, [...(KINDS_BY_NAME.get(d.kind) ?? []), d]);

const objName = (kind: string, ns: string, name: string) => (ns ? `${kind} ${ns}/${name}` : `${kind} ${name}`);

interface Candidate {
  res: Resource;
  def: KindDef;
  doc: RawDocument;
}

interface PendingRoute {
  doc: RawDocument;
  def: KindDef;
  object: string;
  base: Omit<Resource, 'spec'>;
  conv: Converted;
}

/** Wraps a document so paths inside a `List` item are located under `items[i]`. */
function subDocument(doc: RawDocument, prefix: FieldPath): RawDocument {
  if (!prefix.length) return doc;
  return { ...doc, locate: (p) => doc.locate([...prefix, ...p]) };
}

class Decoder {
  readonly diags: Diagnostic[] = [];
  readonly conversions = new Map<Resource, Converted>();
  readonly accepted = new Set<Resource>();
  private candidates: Candidate[] = [];
  private pending: PendingRoute[] = [];
  readonly backendPolicies: { policy: BackendPolicy; doc: RawDocument; source: Conversion['source'] }[] = [];
  private seen = new Map<string, RawDocument>();
  private schemas = new Map<string, ObjectSchema>();
  readonly set: ResourceSet = emptyResourceSet();

  run(docs: readonly RawDocument[]): DecodeResult {
    for (const doc of docs) this.addDocument(doc);
    return this.complete();
  }

  addDocument(doc: RawDocument): void {
    this.guard(doc, () => this.decodeValue(doc, doc.value));
  }

  complete(): DecodeResult {
    this.accept(this.candidates);
    for (const b of this.backendPolicies) {
      const ctx = new Ctx(b.doc, objName('BackendPolicy', b.policy.namespace, b.policy.name), this.diags);
      applyBackendPolicy(b.policy, this.set.services, (code, path, msg) => ctx.warn(code, path, msg));
    }
    nameSplitRoutes(this.pending, (k, ns, n) => this.seen.has(`${k}/${ns}/${n}`), (p, path, msg) => new Ctx((p as PendingRoute).doc, p.object, this.diags).report('info', 'V1ALPHA1_SPLIT', path, msg));
    const late: Candidate[] = [];
    for (const p of this.pending) this.guard(p.doc, () => this.bindRoute(p, late));
    this.accept(late);
    for (const key of Object.keys(this.set) as (keyof ResourceSet)[])
      (this.set[key] as Resource[]).sort((a, b) => a.source.order - b.source.order);
    return { resources: this.set, diagnostics: this.diags };
  }

  /** Safety net: a bug in a rule must not take the whole load down. */
  private guard(doc: RawDocument, f: () => void): void {
    try {
      f();
    } catch (e) {
      const pos = doc.locate([]);
      this.diags.push({
        severity: 'error',
        code: 'INTERNAL_ERROR',
        message: `could not decode this document (${e instanceof Error ? e.message : String(e)}); please report this`,
        ...pos,
      });
    }
  }

  private decodeValue(doc0: RawDocument, value: unknown, prefix: FieldPath = []): void {
    const doc = subDocument(doc0, prefix);
    if (value === null || value === undefined) return; // empty document (e.g. a trailing `---`)
    const ctx = new Ctx(doc, undefined, this.diags);
    if (!isPlainObject(value)) {
      ctx.error('INVALID_DOCUMENT', [], `expected a Kubernetes object (a map with apiVersion, kind and metadata), got ${typeName(value)}`);
      return;
    }
    const { apiVersion, kind } = value;
    if (kind === 'List' && Array.isArray(value.items)) {
      value.items.forEach((item, i) => this.decodeValue(doc0, item, [...prefix, 'items', i]));
      return;
    }
    if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !apiVersion || !kind) {
      for (const [f, v] of [['apiVersion', apiVersion], ['kind', kind]] as const) {
        if (v === undefined) ctx.error('MISSING_FIELD', [], `required field ${JSON.stringify(f)} is missing`);
        else if (typeof v !== 'string' || !v) ctx.error('INVALID_TYPE', [f], `expected a non-empty string, got ${typeName(v)}`);
      }
      return;
    }
    const slash = apiVersion.lastIndexOf('/');
    const group = slash < 0 ? '' : apiVersion.slice(0, slash);
    const version = apiVersion.slice(slash + 1);
    const rawMeta = isPlainObject(value.metadata) ? value.metadata : {};
    const name = typeof rawMeta.name === 'string' ? rawMeta.name : '<unnamed>';
    const rawNs = typeof rawMeta.namespace === 'string' && rawMeta.namespace ? rawMeta.namespace : 'default';

    const sameKind = KINDS_BY_NAME.get(kind) ?? [];
    const def = sameKind.find((d) => d.group === group && d.versions.includes(version));
    if (!def && group === V1ALPHA1_GROUP && kind === 'BackendPolicy' && version === 'v1alpha1') {
      ctx.object = objName(kind, rawNs, name);
      const policy = readBackendPolicy(value, rawNs, ctx);
      const pos = doc.locate([]);
      if (policy) this.backendPolicies.push({ policy, doc, source: { file: pos.file, line: pos.line, col: pos.col, order: doc.order } });
      return;
    }
    if (!def) {
      ctx.object = objName(kind, sameKind[0]?.clusterScoped ? '' : rawNs, name);
      if (sameKind.length) {
        const served = sameKind.flatMap((d) => d.versions.map((v) => (d.group ? `${d.group}/${v}` : v)));
        ctx.error(
          'UNKNOWN_API_VERSION',
          ['apiVersion'],
          `${kind} is not served at apiVersion ${JSON.stringify(apiVersion)}: expected one of ${served.join(', ')}`,
          didYouMean(apiVersion, served),
        );
      } else if (OWN_GROUPS.has(group) && !KNOWN_UNSUPPORTED.has(kind)) {
        const known = [...new Set(KINDS.filter((d) => d.group === group).map((d) => d.kind))];
        ctx.error('UNKNOWN_KIND', ['kind'], `unknown kind ${JSON.stringify(kind)} in ${group}`, didYouMean(kind, known) ?? `known kinds: ${known.join(', ')}`);
      } else {
        ctx.warn('UNSUPPORTED_KIND', ['kind'], `${kind} (${apiVersion}) is not read by Gatehouse; skipped`);
      }
      return;
    }
    const typedKind = def.as ?? def.kind;
    const namespace = def.clusterScoped ? '' : rawNs;
    ctx.object = objName(def.kind, namespace, name);

    const schemaKey = `${def.group}/${def.kind}/${version}`;
    let schema = this.schemas.get(schemaKey);
    if (!schema) this.schemas.set(schemaKey, (schema = objectSchema(def, version, metadataSchema)));
    const walked = walk(schema, value, ctx, []);
    if (ctx.errors > 0 || !walked) return;

    const m = walked.metadata;
    const pos = doc.locate([]);
    const base = {
      kind: typedKind,
      apiVersion,
      metadata: {
        name: m.name,
        namespace,
        labels: m.labels,
        annotations: m.annotations,
        ...(m.creationTimestamp !== undefined ? { creationTimestamp: m.creationTimestamp } : {}),
        generation: m.generation,
      },
      source: { file: pos.file, line: pos.line, col: pos.col, order: doc.order },
    } as Omit<Resource, 'spec'>;

    if (def.as) ctx.warn('DEPRECATED_KIND', ['kind'], `${def.kind} was renamed ${def.as} (same fields); read as a ${def.as}`);

    let spec: any = walked.spec;
    if (group === V1ALPHA1_GROUP) {
      const conv =
        def.kind === 'GatewayClass'
          ? convertGatewayClass(m, walked.spec)
          : def.kind === 'Gateway'
            ? convertGateway({ ...m, namespace }, walked.spec, ctx)
            : convertRoute(def.kind, { ...m, namespace }, walked.spec, ctx);
      if (ctx.errors > 0) return;
      if (conv.gateways) {
        this.pending.push({ doc, def, object: ctx.object, base, conv });
        for (const c of conv.splits ?? []) this.pending.push({ doc: splitDocument(doc, c.splitOf!.rule), def, object: ctx.object, base: { ...base, metadata: { ...base.metadata } }, conv: c });
        return;
      }
      spec = this.v1Spec(def, conv, doc, ctx.object);
      if (spec === undefined) return;
      if (conv.routeSelectors)
        spec.listeners.forEach((l: any, i: number) => {
          const sel = conv.routeSelectors![i];
          if (sel) l.allowedRoutes.routeSelector = sel;
        });
      const res = { ...base, spec, convertedFrom: 'v1alpha1' } as Resource;
      this.conversions.set(res, conv);
      this.candidates.push({ res, def, doc });
      return;
    }

    spec = this.finish(def, version, walked, ctx);
    if (ctx.errors > 0 || spec === undefined) return;
    this.candidates.push({ res: { ...base, spec } as Resource, def, doc });
  }

  /** Kind-specific normalisation after the schema walk. */
  private finish(def: KindDef, version: string, w: any, ctx: Ctx): unknown {
    switch (def.kind) {
      case 'Secret': {
        const data: Record<string, string> = {};
        for (const [k, v] of Object.entries(w.data as Record<string, string>)) {
          const bytes = decodeBase64(v);
          if (!bytes) ctx.error('INVALID_BASE64', ['data', k], `data.${k} is not valid base64 (use stringData for plain text)`);
          else data[k] = utf8(bytes);
        }
        Object.assign(data, w.stringData);
        if (w.type === 'kubernetes.io/tls')
          for (const k of ['tls.crt', 'tls.key'])
            if (!(k in w.data) && !(k in w.stringData)) ctx.error('MISSING_FIELD', ['data'], `a Secret of type kubernetes.io/tls needs data[${JSON.stringify(k)}]`);
        return { type: w.type, data };
      }
      case 'ConfigMap':
        return { data: w.data };
      case 'Namespace':
        return {};
      case 'EndpointSlice': {
        const serviceName = w.metadata.labels['kubernetes.io/service-name'];
        if (serviceName === undefined)
          ctx.warn('MISSING_LABEL', ['metadata', 'labels'], 'an EndpointSlice without the kubernetes.io/service-name label belongs to no Service and is never used');
        return {
          addressType: w.addressType,
          endpoints: w.endpoints.map((e: any) => ({
            addresses: e.addresses,
            ready: e.conditions.ready ?? true,
            ...(e.hostname !== undefined ? { hostname: e.hostname } : {}),
          })),
          ports: w.ports,
          ...(serviceName !== undefined ? { serviceName } : {}),
        };
      }
      case 'TLSRoute':
      case 'TCPRoute':
      case 'UDPRoute':
        if (version === 'v1alpha2' && w.spec.rules.length > 1) {
          ctx.warn(
            'EXTRA_RULES',
            ['spec', 'rules', 1],
            `${def.kind} v1 has exactly one rule: only rules[0] is used, rules[1..${w.spec.rules.length - 1}] are ignored (split them into separate ${def.kind}s)`,
          );
          return { ...w.spec, rules: [w.spec.rules[0]] };
        }
        return w.spec;
      default:
        return w.spec;
    }
  }

  /** Checks a converted manifest against the v1 schema (defaults, CEL). Paths point into the v1 shape. */
  private v1Spec(def: KindDef, conv: Converted, doc: RawDocument, object: string): any {
    const v1 = KINDS.find((d) => d.kind === def.kind && d.group !== V1ALPHA1_GROUP)!;
    const tmp: Diagnostic[] = [];
    const ctx = new Ctx(doc, object, tmp);
    const spec = walk(v1.schema('v1'), conv.manifest.spec, ctx, ['spec']);
    for (const d of tmp) {
      d.hint = d.hint ? `${d.hint}; found after conversion to v1` : 'found after conversion to v1';
      this.diags.push(d);
    }
    return ctx.errors > 0 ? undefined : spec;
  }

  /** Post-pass for a v1alpha1 route: parentRefs from the binding handshake, missing ports, then v1 checks. */
  private bindRoute(p: PendingRoute, out: Candidate[]): void {
    const ns = p.base.metadata.namespace;
    const ctx = new Ctx(p.doc, p.object, this.diags);
    const { refs, why } = computeParentRefs(
      { kind: p.def.kind, namespace: ns, labels: p.base.metadata.labels, gateways: p.conv.gateways! },
      this.set.gateways,
      this.set.namespaces,
    );
    const spec = p.conv.manifest.spec;
    spec.parentRefs = refs.map((r) => ({ name: r.name, ...(r.namespace ? { namespace: r.namespace } : {}), sectionName: r.sectionName }));
    if (refs.length) p.conv.notes.push(...why);
    else {
      p.conv.notes.push('no Gateway listener selects this route and is allowed by spec.gateways: parentRefs is empty');
      ctx.warn(
        'V1ALPHA1_UNBOUND',
        ['spec', 'gateways'],
        `no Gateway listener selects this ${p.def.kind} (kind, namespace and route labels) and is allowed by its spec.gateways; it serves no traffic`,
      );
    }
    // v1 requires a port on Service references; v1alpha1 meant "the request's destination port".
    const listenerPorts = new Set<number>();
    for (const r of refs) {
      const g = this.set.gateways.find((x) => x.metadata.name === r.name && x.metadata.namespace === (r.namespace ?? ns));
      const l = g?.spec.listeners.find((x) => x.name === r.sectionName);
      if (l) listenerPorts.add(l.port);
    }
    (spec.rules as any[]).forEach((rule, i) => {
      const refsOf = (list: any[] | undefined, at: FieldPath) => (list ?? []).map((b, j) => ({ b, at: [...at, j] as FieldPath }));
      const backends = refsOf(rule.backendRefs, ['spec', 'rules', i, 'forwardTo']);
      for (const { b, at } of [...backends]) {
        (b.filters ?? []).forEach((f: any, k: number) => f.requestMirror && backends.push({ b: f.requestMirror.backendRef, at: [...at, 'filters', k, 'requestMirror'] }));
      }
      (rule.filters ?? []).forEach((f: any, k: number) => f.requestMirror && backends.push({ b: f.requestMirror.backendRef, at: ['spec', 'rules', i, 'filters', k, 'requestMirror'] }));
      for (const { b, at } of backends) {
        if (b.port !== undefined || (b.kind ?? 'Service') !== 'Service' || (b.group ?? '') !== '') continue;
        const svc = this.set.services.find((s) => s.metadata.name === b.name && s.metadata.namespace === ns);
        if (svc && svc.spec.ports.length === 1) {
          b.port = svc.spec.ports[0]!.port;
          p.conv.notes.push(`${b.name}: port ${b.port} filled in from the Service's only port (v1 requires it)`);
        } else if (listenerPorts.size === 1) {
          b.port = [...listenerPorts][0]!;
          p.conv.notes.push(`${b.name}: port ${b.port} filled in from the listener port (v1alpha1 used the request's destination port)`);
        } else {
          ctx.error(
            'V1ALPHA1_PORT_REQUIRED',
            at,
            `port is required for Service ${JSON.stringify(b.name)} in v1 and cannot be inferred (${svc ? 'the Service has several ports' : 'no Service with one port in the directory'}${listenerPorts.size > 1 ? ', and the route binds to listeners on several ports' : ''}); add port`,
          );
        }
      }
    });
    if (ctx.errors > 0) return;
    const v1spec = this.v1Spec(p.def, p.conv, p.doc, p.object);
    if (v1spec === undefined) return;
    const res = { ...p.base, spec: v1spec, convertedFrom: 'v1alpha1' } as Route;
    this.conversions.set(res, p.conv);
    out.push({ res, def: p.def, doc: p.doc });
  }

  /** Duplicate detection (kind/namespace/name, in load order) and insertion into the set. */
  private accept(cs: Candidate[]): void {
    cs.sort((a, b) => a.res.source.order - b.res.source.order);
    for (const c of cs) {
      const { kind, metadata } = c.res;
      const key = `${kind}/${metadata.namespace}/${metadata.name}`;
      const first = this.seen.get(key);
      if (first) {
        // Positions inside a document may cost a full re-parse of its file: only look them up here.
        const where = c.doc.locate(['metadata', 'name']);
        const firstAt = first.locate(['metadata', 'name']);
        this.diags.push({
          severity: 'error',
          code: 'DUPLICATE_OBJECT',
          message: `${objName(kind, metadata.namespace, metadata.name)} is defined twice: first at ${firstAt.file}:${firstAt.line}, again here; the second is ignored`,
          file: where.file,
          line: where.line,
          col: where.col,
          object: objName(kind, metadata.namespace, metadata.name),
          path: 'metadata.name',
        });
        continue;
      }
      this.seen.set(key, c.doc);
      (this.set[c.def.list] as Resource[]).push(c.res);
      this.accepted.add(c.res);
    }
  }
}
