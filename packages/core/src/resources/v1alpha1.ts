/**
 * The old `networking.x-k8s.io/v1alpha1` API (gateway-api v0.1–v0.3): its schemas, and the conversion
 * of each object to the v1 manifest shape (v1alpha1.md §2–§3). The manifest is what `gatehouse convert`
 * prints; decode then checks it against the v1 schema like any other v1 object. Route binding
 * (parentRefs) needs every Gateway and Namespace, so it runs in a post-pass: `bindV1alpha1Routes`.
 */
import { GATEWAY_GROUP, V1ALPHA1_GROUP, type Gateway, type LabelSelector, type Namespace, type ParentReference, type Service } from './types.js';
import { any, int, list, map, obj, oneOf, opt, req, str, walk, type Ctx, type ObjectSchema } from './schema.js';
import type { FieldPath, RawDocument } from './document.js';
import { metadata as metadataSchema } from './core-kinds.js';
import { checkHostname, checkPathValue, kind, objectName, namespaceName } from './formats.js';
import { selector } from './gateway-api.js';
import { formatLabelSelector, matchesLabelSelector } from './selector.js';

// ---------------------------------------------------------------------------------------------- schemas

const port = () => int(1, 65535);
/** v1alpha1 allowed `""` and `*` (any host) and single-label wildcards. */
const hostnameV1a1 = () =>
  str({ maxLength: 253, check: (v) => (v === '' || v === '*' ? undefined : checkHostname(v)), checkCode: 'INVALID_HOSTNAME' });
const localRef = obj({ group: req(str()), kind: req(kind()), name: req(objectName()) });

const listener = obj(
  {
    hostname: opt(hostnameV1a1()),
    port: req(port()),
    protocol: req(str({ minLength: 1, maxLength: 255 })),
    tls: opt(
      obj({
        mode: opt(oneOf(['Terminate', 'Passthrough']), 'Terminate'),
        certificateRef: opt(localRef),
        routeOverride: opt(obj({ certificate: opt(oneOf(['Allow', 'Deny']), 'Deny') })),
        options: opt(map(str()), {}),
      }),
    ),
    routes: req(
      obj({
        kind: req(kind()),
        group: opt(str(), V1ALPHA1_GROUP),
        namespaces: opt(obj({ from: opt(oneOf(['All', 'Selector', 'Same']), 'Same'), selector: opt(selector) }), {}),
        selector: opt(selector),
      }),
    ),
  },
  undefined,
  'listener',
);

const gatewaysAllow = obj({
  allow: opt(oneOf(['All', 'FromList', 'SameNamespace']), 'SameNamespace'),
  gatewayRefs: opt(list(obj({ name: req(objectName()), namespace: req(namespaceName()) })), []),
});

const forwardTo = (filters: ObjectSchema | undefined) =>
  obj(
    {
      serviceName: opt(objectName()),
      backendRef: opt(localRef),
      port: opt(port()),
      weight: opt(int(0, 1_000_000), 1),
      ...(filters ? { filters: opt(list(filters, { maxItems: 16 }), []) } : {}),
    },
    [
      (f, ctx, path) => {
        if (f.serviceName === undefined && f.backendRef === undefined)
          ctx.error('MISSING_FIELD', path, 'forwardTo needs serviceName or backendRef');
      },
    ],
  );

const stringMatch = obj({
  type: opt(oneOf(['Exact', 'RegularExpression', 'ImplementationSpecific']), 'Exact'),
  values: req(map(str())),
});

const httpFilter = obj(
  {
    type: req(oneOf(['RequestHeaderModifier', 'RequestMirror', 'ExtensionRef', 'ImplementationSpecific'])),
    requestHeaderModifier: opt(obj({ set: opt(map(str()), {}), add: opt(map(str()), {}), remove: opt(list(str(), { maxItems: 16 }), []) })),
    requestMirror: opt(obj({ serviceName: opt(objectName()), backendRef: opt(localRef), port: opt(port()) })),
    extensionRef: opt(localRef),
  },
  [
    (f, ctx, path) => {
      const field = { RequestHeaderModifier: 'requestHeaderModifier', RequestMirror: 'requestMirror', ExtensionRef: 'extensionRef' }[f.type as string];
      if (field && f[field] === undefined) ctx.error('CEL_RULE', path, `filter type ${f.type} needs the ${field} field`);
    },
  ],
);

const httpRoute = obj({
  gateways: opt(gatewaysAllow, {}),
  hostnames: opt(list(hostnameV1a1(), { maxItems: 16 }), []),
  tls: opt(obj({ certificateRef: req(localRef) })),
  rules: opt(
    list(
      obj({
        matches: opt(
          list(
            obj({
              path: opt(
                obj({
                  type: opt(oneOf(['Exact', 'Prefix', 'RegularExpression', 'ImplementationSpecific']), 'Prefix'),
                  value: opt(str({ maxLength: 1024 }), '/'),
                }),
                {},
              ),
              headers: opt(stringMatch),
              queryParams: opt(stringMatch),
              extensionRef: opt(localRef),
            }),
            { maxItems: 8 },
          ),
          [{}],
        ),
        filters: opt(list(httpFilter, { maxItems: 16 }), []),
        forwardTo: opt(list(forwardTo(httpFilter), { maxItems: 16 }), []),
      }),
      { maxItems: 16 },
    ),
    [{}],
  ),
});

const l4Route = (withSnis: boolean) =>
  obj({
    gateways: opt(gatewaysAllow, {}),
    rules: req(
      list(
        obj({
          matches: opt(
            list(
              obj({
                ...(withSnis ? { snis: opt(list(hostnameV1a1(), { maxItems: 16 }), []) } : {}),
                extensionRef: opt(localRef),
              }),
              { maxItems: 8 },
            ),
            [],
          ),
          forwardTo: req(list(forwardTo(undefined), { minItems: 1, maxItems: 16 })),
        }),
        { minItems: 1, maxItems: 16 },
      ),
    ),
  });

export const v1alpha1Specs = {
  GatewayClass: obj({
    controller: req(str({ minLength: 1, maxLength: 253 })),
    parametersRef: opt(
      obj({
        group: req(str()),
        kind: req(kind()),
        name: req(objectName()),
        scope: opt(oneOf(['Cluster', 'Namespace']), 'Cluster'),
        namespace: opt(namespaceName()),
      }),
    ),
  }),
  Gateway: obj({
    gatewayClassName: req(str({ minLength: 1, maxLength: 253 })),
    listeners: req(list(listener, { minItems: 1, maxItems: 64 })),
    addresses: opt(list(obj({ type: opt(oneOf(['IPAddress', 'NamedAddress']), 'IPAddress'), value: req(str({ minLength: 1 })) }), { maxItems: 16 }), []),
  }),
  HTTPRoute: httpRoute,
  TCPRoute: l4Route(false),
  UDPRoute: l4Route(false),
  TLSRoute: l4Route(true),
} satisfies Record<string, ObjectSchema>;

// ---------------------------------------------------------------------------------------------- conversion

/** What the route's `spec.gateways` allows (v1alpha1 side of the binding handshake). */
export interface GatewaysAllow {
  allow: 'All' | 'FromList' | 'SameNamespace';
  gatewayRefs: { name: string; namespace: string }[];
}

export interface Converted {
  /** The v1 manifest (`apiVersion`, `kind`, `metadata`, `spec`), defaults left out unless needed. */
  manifest: Record<string, any>;
  /** What changed, one line each (the `#` comments of `gatehouse convert`). */
  notes: string[];
  /** Routes only: the binding input for the post-pass. */
  gateways?: GatewaysAllow;
  /** Gateways only: the per-listener Route-label selectors (no v1 field). */
  routeSelectors?: (LabelSelector | undefined)[];
  /** TLSRoutes only: rules[1..] with SNIs of their own, each its own TLSRoute (named by `nameSplitRoutes`). */
  splits?: Converted[];
  /** A split-off TLSRoute: the route and rule index it came from. */
  splitOf?: { name: string; rule: number };
}

const mapGroup = (g: string) => (g === 'core' ? '' : g === V1ALPHA1_GROUP ? GATEWAY_GROUP : g);

function slug(s: string): string {
  return s.toLowerCase().replace(/\*/g, 'wildcard').replace(/[^a-z0-9.-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '');
}

/** `http-80`, then `http-80-example.com` on a clash, then `listener-<i>`. */
function listenerNames(ls: any[]): string[] {
  const names: string[] = [];
  const used = new Set<string>();
  const base = ls.map((l) => `${slug(l.protocol)}-${l.port}`);
  ls.forEach((l, i) => {
    const candidates = [base[i]!];
    if (l.hostname && l.hostname !== '*') candidates.push(`${base[i]}-${slug(l.hostname)}`);
    candidates.push(`listener-${i}`);
    const clashes = base.filter((b) => b === base[i]).length > 1;
    const pick = candidates.slice(clashes ? 1 : 0).find((c) => !used.has(c)) ?? `listener-${i}-${names.length}`;
    used.add(pick);
    names.push(pick);
  });
  return names;
}

function meta(m: any): Record<string, any> {
  const out: Record<string, any> = { name: m.name };
  if (m.namespace) out.namespace = m.namespace;
  if (Object.keys(m.labels ?? {}).length) out.labels = m.labels;
  if (Object.keys(m.annotations ?? {}).length) out.annotations = m.annotations;
  if (m.creationTimestamp) out.creationTimestamp = m.creationTimestamp;
  return out;
}

function manifest(kind: string, m: any, spec: unknown): Record<string, any> {
  return { apiVersion: `${GATEWAY_GROUP}/v1`, kind, metadata: meta(m), spec };
}

const cleanSelector = (s: LabelSelector | undefined) => {
  if (!s) return undefined;
  const out: Record<string, unknown> = {};
  if (Object.keys(s.matchLabels).length) out.matchLabels = s.matchLabels;
  if (s.matchExpressions.length) out.matchExpressions = s.matchExpressions;
  return Object.keys(out).length ? out : undefined;
};

export function convertGatewayClass(m: any, spec: any): Converted {
  const out: Record<string, unknown> = { controllerName: spec.controller };
  const notes = ['spec.controller renamed to spec.controllerName'];
  if (spec.parametersRef) {
    const { scope, ...ref } = spec.parametersRef;
    if (scope !== 'Namespace') delete ref.namespace;
    out.parametersRef = ref;
    notes.push('parametersRef.scope dropped (v1 sets namespace only for namespaced parameters)');
  }
  return { manifest: manifest('GatewayClass', m, out), notes };
}

export function convertGateway(m: any, spec: any, ctx: Ctx): Converted {
  const names = listenerNames(spec.listeners);
  const notes: string[] = [`listener names synthesized: ${names.join(', ')} (v1 requires a unique name per listener)`];
  const routeSelectors: (LabelSelector | undefined)[] = [];
  const listeners = spec.listeners.map((l: any, i: number) => {
    const at = ['spec', 'listeners', i];
    const out: Record<string, any> = { name: names[i], port: l.port, protocol: l.protocol };
    const isL4 = l.protocol === 'TCP' || l.protocol === 'UDP';
    if (l.hostname && l.hostname !== '*') {
      if (isL4) notes.push(`listener ${names[i]}: hostname dropped (v1 forbids it on ${l.protocol} listeners)`);
      else {
        out.hostname = l.hostname;
        if (l.hostname.startsWith('*.')) {
          notes.push(`listener ${names[i]}: wildcard ${l.hostname} now matches one or more labels (v1alpha1: exactly one)`);
          ctx.warn('V1ALPHA1_WILDCARD', [...at, 'hostname'], `${JSON.stringify(l.hostname)} matched exactly one label in v1alpha1; in v1 it matches one or more (e.g. also a.b${l.hostname.slice(1)})`);
        }
      }
    } else if (l.hostname === '*') notes.push(`listener ${names[i]}: hostname "*" dropped (v1 leaves it out to match every host)`);
    if (l.tls) {
      if (l.protocol === 'HTTP' || isL4) {
        notes.push(`listener ${names[i]}: tls dropped (v1 forbids it on ${l.protocol} listeners)`);
        ctx.warn('V1ALPHA1_DROPPED', [...at, 'tls'], `tls is ignored on a ${l.protocol} listener`);
      } else {
        const tls: Record<string, unknown> = { mode: l.tls.mode };
        if (l.tls.certificateRef) {
          const r = l.tls.certificateRef;
          tls.certificateRefs = [{ ...(mapGroup(r.group) ? { group: mapGroup(r.group) } : {}), kind: r.kind, name: r.name }];
          notes.push(`listener ${names[i]}: tls.certificateRef became tls.certificateRefs[0]${r.group === 'core' ? ' (group "core" is "" in v1)' : ''}`);
        }
        if (Object.keys(l.tls.options).length) tls.options = l.tls.options;
        if (l.tls.routeOverride) {
          notes.push(`listener ${names[i]}: tls.routeOverride dropped (no v1 equivalent)`);
          if (l.tls.routeOverride.certificate === 'Allow')
            ctx.warn('V1ALPHA1_DROPPED', [...at, 'tls', 'routeOverride'], 'routeOverride has no v1 equivalent: routes can no longer supply certificates; put them on the listener');
        }
        out.tls = tls;
      }
    }
    const r = l.routes;
    const namespaces: Record<string, unknown> = { from: r.namespaces.from };
    if (r.namespaces.selector) namespaces.selector = cleanSelector(r.namespaces.selector) ?? {};
    out.allowedRoutes = { ...(r.namespaces.from !== 'Same' ? { namespaces } : {}), kinds: [{ ...(mapGroup(r.group) !== GATEWAY_GROUP ? { group: mapGroup(r.group) } : {}), kind: r.kind }] };
    const sel = r.selector && cleanSelector(r.selector) ? r.selector : undefined;
    routeSelectors.push(sel);
    if (sel) notes.push(`listener ${names[i]}: routes.selector (${formatLabelSelector(sel)}) has no v1 field; it was evaluated into the routes' parentRefs`);
    return out;
  });
  const out: Record<string, unknown> = { gatewayClassName: spec.gatewayClassName, listeners };
  if (spec.addresses.length) out.addresses = spec.addresses;
  return { manifest: manifest('Gateway', m, out), notes, routeSelectors };
}

function backendFrom(f: any, notes: string[], where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (f.serviceName !== undefined) {
    out.name = f.serviceName;
    if (f.backendRef) notes.push(`${where}: serviceName wins over backendRef (as in v1alpha1); backendRef dropped`);
  } else {
    const g = mapGroup(f.backendRef.group);
    if (g) out.group = g;
    if (f.backendRef.kind !== 'Service' || g) out.kind = f.backendRef.kind;
    out.name = f.backendRef.name;
  }
  if (f.port !== undefined) out.port = f.port;
  return out;
}

const mapToList = (m: Record<string, string>) => Object.entries(m).map(([name, value]) => ({ name, value }));

function convertHTTPFilter(f: any, notes: string[], where: string, ctx: Ctx, at: (string | number)[]): Record<string, unknown> | undefined {
  switch (f.type) {
    case 'RequestHeaderModifier': {
      const h = f.requestHeaderModifier;
      const out: Record<string, unknown> = {};
      if (Object.keys(h.set).length) out.set = mapToList(h.set);
      if (Object.keys(h.add).length) out.add = mapToList(h.add);
      if (h.remove.length) out.remove = h.remove;
      notes.push(`${where}: requestHeaderModifier set/add maps became name/value lists`);
      return { type: 'RequestHeaderModifier', requestHeaderModifier: out };
    }
    case 'RequestMirror':
      if (f.requestMirror.serviceName === undefined && !f.requestMirror.backendRef) {
        ctx.error('MISSING_FIELD', [...at, 'requestMirror'], 'requestMirror needs serviceName or backendRef');
        return undefined;
      }
      return { type: 'RequestMirror', requestMirror: { backendRef: backendFrom(f.requestMirror, notes, where) } };
    case 'ExtensionRef':
      return { type: 'ExtensionRef', extensionRef: { ...f.extensionRef, group: mapGroup(f.extensionRef.group) } };
    default:
      ctx.error('V1ALPHA1_UNCONVERTIBLE', [...at, 'type'], `filter type ${f.type} has no v1 equivalent`);
      return undefined;
  }
}

function convertForwardTo(fs: any[], notes: string[], where: string, ctx: Ctx, at: (string | number)[], withFilters: boolean) {
  return fs.map((f, j) => {
    const b: Record<string, unknown> = backendFrom(f, notes, `${where}.forwardTo[${j}]`);
    if (f.weight !== 1) b.weight = f.weight;
    if (withFilters && f.filters?.length)
      b.filters = f.filters
        .map((x: any, k: number) => convertHTTPFilter(x, notes, `${where}.forwardTo[${j}].filters[${k}]`, ctx, [...at, j, 'filters', k]))
        .filter(Boolean);
    return b;
  });
}

export function convertRoute(kind: string, m: any, spec: any, ctx: Ctx): Converted {
  const notes: string[] = ['forwardTo became backendRefs (serviceName → name, kind Service)'];
  const out: Record<string, any> = { parentRefs: [] };
  if (spec.gateways.allow === 'FromList' && spec.gateways.gatewayRefs.length === 0)
    ctx.warn('V1ALPHA1_UNBOUND', ['spec', 'gateways'], 'allow: FromList with no gatewayRefs allows no Gateway');
  if (kind === 'HTTPRoute') {
    if (spec.hostnames.length) out.hostnames = spec.hostnames.filter((h: string) => h !== '' && h !== '*');
    spec.hostnames.forEach((h: string, i: number) => {
      if (h.startsWith('*.')) {
        notes.push(`hostname ${h} now matches one or more labels (v1alpha1: exactly one)`);
        ctx.warn('V1ALPHA1_WILDCARD', ['spec', 'hostnames', i], `${JSON.stringify(h)} matched exactly one label in v1alpha1; in v1 it matches one or more`);
      }
    });
    if (spec.tls) {
      notes.push('spec.tls dropped: v1 routes cannot carry certificates; move the Secret to an HTTPS listener certificateRefs');
      ctx.warn('V1ALPHA1_DROPPED', ['spec', 'tls'], 'route-level tls has no v1 equivalent: put the certificate on an HTTPS listener (tls.certificateRefs)');
    }
    out.rules = spec.rules.map((r: any, i: number) => {
      const at = ['spec', 'rules', i];
      const rule: Record<string, unknown> = {};
      rule.matches = r.matches.map((mt: any, j: number) => {
        const match: Record<string, unknown> = {};
        let type = mt.path.type;
        if (type === 'Prefix') type = 'PathPrefix';
        if (type === 'ImplementationSpecific') {
          type = 'RegularExpression';
          notes.push(`rules[${i}].matches[${j}]: path type ImplementationSpecific read as RegularExpression`);
        }
        if (type !== 'RegularExpression') {
          const msg = checkPathValue(mt.path.value);
          if (msg) ctx.error('INVALID_PATH', [...at, 'matches', j, 'path', 'value'], msg);
        }
        match.path = { type, value: mt.path.value };
        for (const key of ['headers', 'queryParams'] as const) {
          const sm = mt[key];
          if (!sm) continue;
          const t = sm.type === 'ImplementationSpecific' ? 'RegularExpression' : sm.type;
          match[key] = Object.entries(sm.values).map(([name, value]) => ({ ...(t !== 'Exact' ? { type: t } : {}), name, value }));
          notes.push(`rules[${i}].matches[${j}].${key}: the values map became a list of {name, value}`);
        }
        if (mt.extensionRef) {
          notes.push(`rules[${i}].matches[${j}].extensionRef dropped (removed from the API)`);
          ctx.warn('V1ALPHA1_DROPPED', [...at, 'matches', j, 'extensionRef'], 'match extensionRef has no v1 equivalent and is ignored: the match is wider than before');
        }
        return match;
      });
      const isDefault = (x: any) => Object.keys(x).length === 1 && x.path.type === 'PathPrefix' && x.path.value === '/';
      if ((rule.matches as any[]).length === 1 && isDefault((rule.matches as any[])[0])) delete rule.matches;
      if (r.filters.length)
        rule.filters = r.filters.map((f: any, j: number) => convertHTTPFilter(f, notes, `rules[${i}].filters[${j}]`, ctx, [...at, 'filters', j])).filter(Boolean);
      if (r.forwardTo.length) rule.backendRefs = convertForwardTo(r.forwardTo, notes, `rules[${i}]`, ctx, [...at, 'forwardTo'], true);
      else notes.push(`rules[${i}] has no forwardTo: v1alpha1 answered 503 for it, v1 answers 500`);
      if (rule.matches && r.matches.some((mt: any) => mt.path.type === 'Prefix')) notes.push(`rules[${i}]: path type Prefix is PathPrefix in v1 (whole path segments)`);
      return rule;
    });
  } else if (kind === 'TLSRoute') {
    return convertTLSRoute(m, spec, ctx, notes, out);
  } else {
    const rules = spec.rules;
    if (rules.length > 1) {
      notes.push(`only rules[0] kept: v1 ${kind} has exactly one rule, and without the extensionRef matches (removed from the API) every rule matches every connection, so rules[0] took them all`);
      ctx.warn('V1ALPHA1_EXTRA_RULES', ['spec', 'rules', 1], `v1 ${kind} has exactly one rule: rules[1..${rules.length - 1}] are ignored (split them into separate ${kind}s)`);
    }
    const r = rules[0];
    if (r.matches.some((mt: any) => mt.extensionRef)) {
      notes.push('rules[0].matches[].extensionRef dropped (removed from the API)');
      ctx.warn('V1ALPHA1_DROPPED', ['spec', 'rules', 0, 'matches'], 'match extensionRef has no v1 equivalent and is ignored');
    }
    out.rules = [{ backendRefs: convertForwardTo(r.forwardTo, notes, 'rules[0]', ctx, ['spec', 'rules', 0, 'forwardTo'], false) }];
  }
  return { manifest: manifest(kind, m, out), notes: [...new Set(notes)], gateways: spec.gateways };
}

/**
 * TLSRoute (v1alpha1.md §2.5): v1 has exactly one rule, and the SNIs are the route's `hostnames`, so
 * rules with different SNI sets become separate TLSRoutes (`splits`, named later by `nameSplitRoutes`
 * because the free names depend on the whole directory). An SNI already listed by an earlier rule
 * stays with that rule (v1alpha1 sent it there: the first matching rule wins); a rule left with no SNI
 * of its own could never be reached and is dropped with a warning. A later rule without SNIs (every
 * connection the other rules leave) cannot be written in v1, whose TLSRoute requires hostnames: it is
 * dropped with a warning too (rules[0] without SNIs keeps the v1 "hostnames required" error).
 */
function convertTLSRoute(m: any, spec: any, ctx: Ctx, common: string[], out: Record<string, any>): Converted {
  const claimed = new Set<string>();
  const kept: { i: number; hostnames: string[] }[] = [];
  const unreachable: number[] = [];
  const noSnis: number[] = [];
  const partial = new Map<number, string>();
  spec.rules.forEach((r: any, i: number) => {
    const snis = [...new Set<string>(r.matches.flatMap((mt: any) => mt.snis ?? []))].filter((h) => h !== '' && h !== '*');
    if (snis.length === 0) return void (i === 0 ? kept.push({ i, hostnames: [] }) : noSnis.push(i));
    const own = snis.filter((h) => !claimed.has(h));
    if (own.length === 0) return void unreachable.push(i);
    if (own.length < snis.length) partial.set(i, `rules[${i}]: SNI ${snis.filter((h) => claimed.has(h)).join(', ')} left out of hostnames (an earlier rule already takes it: v1alpha1 sent it there)`);
    own.forEach((h) => claimed.add(h));
    kept.push({ i, hostnames: own });
  });
  if (unreachable.length)
    ctx.warn(
      'V1ALPHA1_EXTRA_RULES',
      ['spec', 'rules', unreachable[0]!],
      `rules[${unreachable.join('], rules[')}] can never be reached (${unreachable.length > 1 ? 'their SNIs are' : 'its SNIs are'} all taken by an earlier rule) and ${unreachable.length > 1 ? 'are' : 'is'} dropped`,
    );
  if (noSnis.length)
    ctx.warn(
      'V1ALPHA1_EXTRA_RULES',
      ['spec', 'rules', noSnis[0]!],
      `rules[${noSnis.join('], rules[')}] ${noSnis.length > 1 ? 'have' : 'has'} no SNIs (v1alpha1: every connection the other rules leave), which a v1 TLSRoute cannot express (hostnames are required): dropped; give ${noSnis.length > 1 ? 'them' : 'it'} snis to keep ${noSnis.length > 1 ? 'them' : 'it'}`,
    );
  const build = (k: { i: number; hostnames: string[] }, notes: string[], o: Record<string, any>) => {
    const r = spec.rules[k.i];
    if (k.hostnames.length) o.hostnames = k.hostnames;
    else notes.push('no SNI given (v1alpha1: every connection); v1 requires hostnames: add them before applying to a cluster');
    notes.push(`rules[${k.i}].matches[].snis became spec.hostnames`);
    if (r.matches.some((mt: any) => mt.extensionRef)) {
      notes.push(`rules[${k.i}].matches[].extensionRef dropped (removed from the API)`);
      ctx.warn('V1ALPHA1_DROPPED', ['spec', 'rules', k.i, 'matches'], 'match extensionRef has no v1 equivalent and is ignored');
    }
    o.rules = [{ backendRefs: convertForwardTo(r.forwardTo, notes, `rules[${k.i}]`, ctx, ['spec', 'rules', k.i, 'forwardTo'], false) }];
  };
  const notes = [...common];
  build(kept[0]!, notes, out);
  if (unreachable.length) notes.push(`rules[${unreachable.join('], rules[')}] dropped: never reached (every SNI taken by an earlier rule)`);
  if (noSnis.length) notes.push(`rules[${noSnis.join('], rules[')}] dropped: no SNIs, and a v1 TLSRoute requires hostnames`);
  const splits = kept.slice(1).map((k): Converted => {
    const sn = [...common, `rules[${k.i}] of TLSRoute ${m.namespace}/${m.name}, split off: v1 TLSRoute has exactly one rule and its SNIs are the route's hostnames (same labels, same parent binding)`];
    const o: Record<string, any> = { parentRefs: [] };
    build(k, sn, o);
    if (partial.has(k.i)) sn.push(partial.get(k.i)!);
    return { manifest: manifest('TLSRoute', m, o), notes: [...new Set(sn)], gateways: spec.gateways, splitOf: { name: m.name, rule: k.i } };
  });
  return { manifest: manifest('TLSRoute', m, out), notes: [...new Set(notes)], gateways: spec.gateways, ...(splits.length ? { splits } : {}) };
}

/** Where a split-off TLSRoute's diagnostics point: its `rules[0]` is the source's `rules[i]`. */
export function splitDocument(doc: RawDocument, rule: number): RawDocument {
  return { ...doc, locate: (p) => doc.locate(p[0] === 'spec' && p[1] === 'rules' && p[2] === 0 ? ['spec', 'rules', rule, ...p.slice(3)] : p) };
}

/** The v1alpha1 routes waiting for the binding post-pass (decode's PendingRoute). */
export interface PendingV1alpha1Route {
  def: { kind: string };
  base: { metadata: { name: string; namespace: string } };
  object: string;
  conv: Converted;
}

/**
 * Names the split-off TLSRoutes `<name>-rule-<i>` (then `-2`, `-3`, ... on a clash with any object of
 * the directory, `taken`, or another route being converted), so they can never collide, and tells the
 * user which objects were created (`report`, an info on the source route's rules[i]).
 */
export function nameSplitRoutes(
  pending: PendingV1alpha1Route[],
  taken: (kind: string, namespace: string, name: string) => boolean,
  report: (p: PendingV1alpha1Route, path: FieldPath, message: string) => void,
): void {
  const used = new Set(pending.filter((p) => !p.conv.splitOf).map((p) => `${p.def.kind}/${p.base.metadata.namespace}/${p.base.metadata.name}`));
  const free = (ns: string, name: string) => !taken('TLSRoute', ns, name) && !used.has(`TLSRoute/${ns}/${name}`);
  for (const p of pending) {
    const from = p.conv.splitOf;
    if (!from) continue;
    const ns = p.base.metadata.namespace;
    let name = '';
    for (let k = 1; k <= 1000 && !name; k++) {
      const suffix = `-rule-${from.rule}${k > 1 ? `-${k}` : ''}`;
      const candidate = `${from.name.slice(0, 253 - suffix.length).replace(/[-.]+$/, '')}${suffix}`;
      if (free(ns, candidate)) name = candidate;
    }
    name ||= `${from.name.slice(0, 200)}-rule-${from.rule}-${used.size}`;
    used.add(`TLSRoute/${ns}/${name}`);
    p.base.metadata = { ...p.base.metadata, name };
    p.conv.manifest.metadata.name = name;
    p.object = `TLSRoute ${ns}/${name}`;
  }
  for (const p of pending) {
    const splits = p.conv.splits;
    if (!splits?.length) continue;
    const ns = p.base.metadata.namespace;
    const made = splits.map((s) => `rules[${s.splitOf!.rule}] → TLSRoute ${ns}/${s.manifest.metadata.name}`);
    p.conv.notes.push(...made.map((x) => `split: ${x} (v1 TLSRoute has exactly one rule)`));
    report(
      p,
      ['spec', 'rules', splits[0]!.splitOf!.rule],
      `v1 TLSRoute has exactly one rule, so the rules with SNIs of their own became separate TLSRoutes: ${made.join(', ')}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------- BackendPolicy

export const APP_PROTOCOL_ANNOTATION = 'networking.x-k8s.io/app-protocol';

const backendPolicyObject = obj({
  apiVersion: opt(any()),
  kind: opt(any()),
  metadata: req(metadataSchema),
  status: opt(any()),
  spec: req(
    obj({
      backendRefs: req(list(obj({ group: req(str()), kind: req(kind()), name: req(objectName()), port: opt(port()) }), { minItems: 1, maxItems: 16 })),
      tls: opt(obj({ certificateAuthorityRef: opt(localRef), options: opt(map(str()), {}) })),
    }),
  ),
});

/** A decoded v1alpha1 BackendPolicy: its annotation is applied to Services by `applyBackendPolicy`. */
export interface BackendPolicy {
  namespace: string;
  name: string;
  appProtocol?: string;
  backendRefs: { group: string; kind: string; name: string; port?: number }[];
  /** What `gatehouse convert` prints for it (there is no v1 object to print). */
  notes: string[];
}

/**
 * BackendPolicy (v1alpha1.md §2.6) has no v1 kind: its `networking.x-k8s.io/app-protocol` annotation
 * becomes the referenced Service ports' `appProtocol`; its `tls` would be a BackendTLSPolicy, which
 * Gatehouse does not implement (warning). Returns undefined on schema errors (reported to ctx).
 */
export function readBackendPolicy(value: unknown, namespace: string, ctx: Ctx): BackendPolicy | undefined {
  const w = walk(backendPolicyObject, value, ctx, []);
  if (ctx.errors > 0 || !w) return undefined;
  const appProtocol: string | undefined = w.metadata.annotations[APP_PROTOCOL_ANNOTATION] || undefined;
  const notes: string[] = ['BackendPolicy has no v1 kind (removed in v0.4.0)'];
  if (w.spec.tls) {
    notes.push('spec.tls dropped: its v1 successor BackendTLSPolicy is not implemented by Gatehouse');
    ctx.warn('V1ALPHA1_DROPPED', ['spec', 'tls'], 'BackendPolicy tls (v1: BackendTLSPolicy) is not implemented by Gatehouse and is ignored: upstream TLS uses default verification');
  }
  if (!appProtocol) notes.push(`no ${APP_PROTOCOL_ANNOTATION} annotation: nothing else to convert`);
  return { namespace, name: w.metadata.name, appProtocol, backendRefs: w.spec.backendRefs, notes };
}

/**
 * Sets `appProtocol` on the ports of the Services a BackendPolicy names (a port given, else every
 * port), replacing those Service objects in `services` (never mutating them). A Service port's own
 * appProtocol wins (warning when it differs). `warn` gets the path inside the BackendPolicy.
 */
export function applyBackendPolicy(policy: BackendPolicy, services: Service[], warn: (code: string, path: FieldPath, message: string) => void): void {
  const proto = policy.appProtocol;
  if (!proto) return;
  policy.backendRefs.forEach((ref, i) => {
    const at: FieldPath = ['spec', 'backendRefs', i];
    if (mapGroup(ref.group) !== '' || ref.kind !== 'Service') {
      policy.notes.push(`backendRefs[${i}]: ${ref.kind} ${ref.name} is not a Service: no appProtocol to set`);
      return warn('V1ALPHA1_DROPPED', at, `${APP_PROTOCOL_ANNOTATION} applies to Service ports only; ${ref.kind} ${JSON.stringify(ref.name)} is ignored`);
    }
    const idx = services.findIndex((s) => s.metadata.name === ref.name && s.metadata.namespace === policy.namespace);
    const svc = services[idx];
    if (!svc) {
      policy.notes.push(`backendRefs[${i}]: Service ${policy.namespace}/${ref.name} is not in the directory: add appProtocol: ${proto} to its ports yourself`);
      return warn('V1ALPHA1_UNRESOLVED', at, `Service ${policy.namespace}/${ref.name} is not in the directory: appProtocol ${proto} was not applied`);
    }
    if (ref.port !== undefined && !svc.spec.ports.some((p) => p.port === ref.port)) {
      policy.notes.push(`backendRefs[${i}]: Service ${policy.namespace}/${ref.name} has no port ${ref.port}`);
      return warn('V1ALPHA1_UNRESOLVED', [...at, 'port'], `Service ${policy.namespace}/${ref.name} has no port ${ref.port}: appProtocol ${proto} was not applied`);
    }
    const ports = svc.spec.ports.map((p) => {
      if (ref.port !== undefined && p.port !== ref.port) return p;
      if (p.appProtocol === undefined) {
        policy.notes.push(`Service ${policy.namespace}/${ref.name} port ${p.port}: appProtocol ${proto} (put it in the Service manifest: ports[].appProtocol)`);
        return { ...p, appProtocol: proto };
      }
      if (p.appProtocol !== proto) {
        policy.notes.push(`Service ${policy.namespace}/${ref.name} port ${p.port} keeps its own appProtocol ${p.appProtocol}`);
        warn('V1ALPHA1_CONFLICT', at, `Service ${policy.namespace}/${ref.name} port ${p.port} sets appProtocol ${p.appProtocol} itself; it wins over the BackendPolicy's ${proto}`);
      }
      return p;
    });
    services[idx] = { ...svc, spec: { ...svc.spec, ports } };
  });
}

// ---------------------------------------------------------------------------------------------- binding post-pass

const PROTOCOL_KINDS: Record<string, string[]> = {
  HTTP: ['HTTPRoute', 'GRPCRoute'],
  HTTPS: ['HTTPRoute', 'GRPCRoute'],
  TLS: ['TLSRoute'],
  TCP: ['TCPRoute'],
  UDP: ['UDPRoute'],
};

export interface BindingRoute {
  kind: string;
  namespace: string;
  labels: Record<string, string>;
  gateways: GatewaysAllow;
}

/**
 * The v1alpha1 handshake (v1alpha1.md §3): a route binds to a listener when the listener selects it
 * (kind, namespace, route labels) and the route's `spec.gateways` allows the Gateway. Returns one
 * parentRef per listener, with its sectionName, in Gateway load order.
 */
export function computeParentRefs(route: BindingRoute, gateways: readonly Gateway[], namespaces: readonly Namespace[]): { refs: ParentReference[]; why: string[] } {
  const nsLabels = (ns: string): Record<string, string> => ({
    'kubernetes.io/metadata.name': ns,
    ...(namespaces.find((n) => n.metadata.name === ns)?.metadata.labels ?? {}),
  });
  const refs: ParentReference[] = [];
  const why: string[] = [];
  for (const g of gateways) {
    const gns = g.metadata.namespace;
    const gwOK =
      route.gateways.allow === 'All' ||
      (route.gateways.allow === 'SameNamespace' && route.namespace === gns) ||
      (route.gateways.allow === 'FromList' && route.gateways.gatewayRefs.some((r) => r.name === g.metadata.name && r.namespace === gns));
    if (!gwOK) continue;
    for (const l of g.spec.listeners) {
      const kinds = l.allowedRoutes.kinds.length
        ? l.allowedRoutes.kinds
        : (PROTOCOL_KINDS[l.protocol] ?? []).map((k) => ({ group: GATEWAY_GROUP, kind: k }));
      if (!kinds.some((k) => k.group === GATEWAY_GROUP && k.kind === route.kind)) continue;
      const ns = l.allowedRoutes.namespaces;
      const nsOK =
        ns.from === 'All' ||
        (ns.from === 'Same' && route.namespace === gns) ||
        (ns.from === 'Selector' && matchesLabelSelector(ns.selector, nsLabels(route.namespace)));
      if (!nsOK) continue;
      if (!matchesLabelSelector(l.allowedRoutes.routeSelector, route.labels)) continue;
      const ref: ParentReference = { group: GATEWAY_GROUP, kind: 'Gateway', name: g.metadata.name, sectionName: l.name };
      if (gns !== route.namespace) ref.namespace = gns;
      refs.push(ref);
      why.push(
        `parentRef ${gns}/${g.metadata.name} listener ${l.name}: the listener selects ${route.kind}s` +
          `${l.allowedRoutes.routeSelector ? ` labelled ${formatLabelSelector(l.allowedRoutes.routeSelector)}` : ''} from ${ns.from === 'Same' ? 'its own namespace' : ns.from === 'All' ? 'all namespaces' : `namespaces ${formatLabelSelector(ns.selector)}`}` +
          ` and the route allows ${route.gateways.allow === 'FromList' ? 'it by name' : route.gateways.allow === 'All' ? 'all Gateways' : 'Gateways in its namespace'}`,
      );
    }
  }
  return { refs, why };
}


