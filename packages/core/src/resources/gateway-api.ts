/**
 * Schemas of the Gateway API kinds (`gateway.networking.k8s.io`, v1 shape; v1beta1, v1alpha2 and
 * v1alpha3 differ only in the few places marked below), with the CRD defaults and CEL rules.
 */
import { GATEWAY_GROUP } from './types.js';
import {
  any, bool, duration, int, list, map, obj, oneOf, opt, req, str,
  type Ctx, type FieldPath, type Rule, type Schema,
} from './schema.js';
import {
  checkHostname, checkPathValue, domainPrefixedPath, group, headerName, hostname, isIP, kind, namespaceName, objectName,
  preciseHostname, queryParamName, sectionName,
} from './formats.js';

const port = () => int(1, 65535);

// ---------------------------------------------------------------------------------------------- shared

const labelSelector = obj({
  matchLabels: opt(map(str({ maxLength: 63 }))),
  matchExpressions: opt(
    list(
      obj({
        key: req(str({ minLength: 1 })),
        operator: req(oneOf(['In', 'NotIn', 'Exists', 'DoesNotExist'])),
        values: opt(list(str()), []),
      }),
    ),
  ),
});
/** Fills the two lists so the typed model's LabelSelector always has them. */
export const selector = obj(
  {
    matchLabels: opt(map(str({ maxLength: 63 })), {}),
    matchExpressions: opt(labelSelector.fields.matchExpressions!.schema, []),
  },
  [
    (v: any, ctx: Ctx, path: FieldPath) =>
      v.matchExpressions.forEach((e: any, i: number) => {
        const needsValues = e.operator === 'In' || e.operator === 'NotIn';
        if (needsValues !== e.values.length > 0)
          ctx.error(
            'CEL_RULE',
            [...path, 'matchExpressions', i, 'values'],
            needsValues ? `operator ${e.operator} needs a non-empty values list` : `operator ${e.operator} must not have values`,
          );
      }),
  ],
);

const parentRefKey = (p: any) => `${p.group}/${p.kind}/${p.namespace ?? ''}/${p.name}`;

/** CEL on spec.parentRefs: several refs to one parent must each name a distinct sectionName/port. */
const distinctParentRefs: Rule = (refs: any[], ctx, path) => {
  if (refs.length < 2) return; // nearly every route has one parentRef: nothing to compare
  const byParent = new Map<string, number[]>();
  refs.forEach((p, i) => {
    const k = parentRefKey(p);
    byParent.set(k, [...(byParent.get(k) ?? []), i]);
  });
  for (const idx of byParent.values()) {
    if (idx.length < 2) continue;
    const seen = new Map<string, number>();
    for (const i of idx) {
      const p = refs[i];
      if (p.sectionName === undefined && p.port === undefined) {
        ctx.error(
          'CEL_RULE',
          [...path, i],
          `parentRefs[${idx[0]}] and parentRefs[${i}] name the same parent: each must set sectionName or port when a route references one parent several times`,
        );
        continue;
      }
      const k = `${p.sectionName ?? ''}:${p.port ?? ''}`;
      const first = seen.get(k);
      if (first !== undefined)
        ctx.error('CEL_RULE', [...path, i], `parentRefs[${first}] and parentRefs[${i}] are the same reference; parentRefs must be distinct`);
      else seen.set(k, i);
    }
  }
};

export const parentRef = obj({
  group: opt(group(), GATEWAY_GROUP),
  kind: opt(kind(), 'Gateway'),
  namespace: opt(namespaceName()),
  name: req(objectName()),
  sectionName: opt(sectionName()),
  port: opt(port()),
});
const parentRefs = (): Schema => list(parentRef, { maxItems: 32, rules: [distinctParentRefs] });

/** Service references need a port (CEL). */
const portForService: Rule = (v, ctx, path) => {
  if (v.group === '' && v.kind === 'Service' && v.port === undefined)
    ctx.error('CEL_RULE', path, `backendRef to Service ${JSON.stringify(v.name)} needs a port (the Service port, not the target port)`);
};

export const backendObjectRef = obj(
  {
    group: opt(group(), ''),
    kind: opt(kind(), 'Service'),
    name: req(objectName()),
    namespace: opt(namespaceName()),
    port: opt(port()),
  },
  [portForService],
);

const backendRefFields = { ...backendObjectRef.fields, weight: opt(int(0, 1_000_000), 1) };
export const backendRef = obj(backendRefFields, [portForService]);

// ---------------------------------------------------------------------------------------------- GatewayClass

export const gatewayClassSpec = obj({
  controllerName: req(domainPrefixedPath()),
  description: opt(str({ maxLength: 64 })),
  parametersRef: opt(
    obj({ group: req(group()), kind: req(kind()), name: req(objectName()), namespace: opt(namespaceName()) }),
  ),
});

// ---------------------------------------------------------------------------------------------- Gateway

const secretRef = obj({ group: opt(group(), ''), kind: opt(kind(), 'Secret'), name: req(objectName()), namespace: opt(namespaceName()) });

const gatewayTLS = obj(
  {
    // Defaulted to Terminate by the listener rule, which first checks whether TLS listeners spelled it out.
    mode: opt(oneOf(['Terminate', 'Passthrough'])),
    certificateRefs: opt(list(secretRef, { maxItems: 64 }), []),
    options: opt(map(str({ maxLength: 4096 }), 16), {}),
    frontendValidation: opt(any()), // experimental in v1.1–v1.4
  },
  [
    (v, ctx, path) => {
      if ((v.mode ?? 'Terminate') === 'Terminate' && v.certificateRefs.length === 0 && Object.keys(v.options).length === 0)
        ctx.error('CEL_RULE', path, 'tls mode Terminate needs certificateRefs (a Secret of type kubernetes.io/tls with tls.crt and tls.key)');
    },
  ],
);

const listener = (requireTLSMode: boolean) => obj(
  {
    name: req(sectionName()),
    hostname: opt(hostname()),
    port: req(port()),
    protocol: req(
      str({
        minLength: 1,
        maxLength: 255,
        pattern: /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9]+$/,
        patternWhat: 'protocol: expected HTTP, HTTPS, TLS, TCP, UDP or a domain-prefixed name',
      }),
    ),
    tls: opt(gatewayTLS),
    allowedRoutes: opt(
      obj({
        namespaces: opt(
          obj(
            { from: opt(oneOf(['All', 'Selector', 'Same']), 'Same'), selector: opt(selector) },
            [
              (v, ctx, path) => {
                if (v.from === 'Selector' && !v.selector)
                  ctx.error('CEL_RULE', [...path, 'from'], 'from: Selector needs a selector');
              },
            ],
          ),
          {},
        ),
        kinds: opt(list(obj({ group: opt(group(), GATEWAY_GROUP), kind: req(kind()) }), { maxItems: 8 }), []),
      }),
      {},
    ),
  },
  [
    (l, ctx, path) => {
      const p = l.protocol;
      if ((p === 'HTTP' || p === 'TCP' || p === 'UDP') && l.tls)
        ctx.error('CEL_RULE', [...path, 'tls'], `tls must not be set on ${p === 'UDP' ? 'a' : 'an'} ${p} listener (use protocol HTTPS or TLS)`);
      if ((p === 'TCP' || p === 'UDP') && l.hostname !== undefined)
        ctx.error('CEL_RULE', [...path, 'hostname'], `hostname must not be set on a ${p} listener: ${p} has no hostname to match`);
      if (p === 'TLS' && requireTLSMode && l.tls?.mode === undefined)
        ctx.error('CEL_RULE', l.tls ? [...path, 'tls'] : path, 'a TLS listener needs tls.mode: Passthrough (route on SNI) or Terminate');
      if (l.tls && l.tls.mode === undefined) l.tls.mode = 'Terminate';
      if (p === 'HTTPS') {
        if (!l.tls) ctx.error('CEL_RULE', path, 'an HTTPS listener needs tls with certificateRefs');
        else if (l.tls.mode !== 'Terminate')
          ctx.error('CEL_RULE', [...path, 'tls', 'mode'], 'tls mode must be Terminate for an HTTPS listener (use protocol TLS for Passthrough)');
      }
    },
  ],
  'listener',
);

const uniqueListenerTuple: Rule = (ls: any[], ctx, path) => {
  const seen = new Map<string, number>();
  ls.forEach((l, i) => {
    const k = `${l.port}/${l.protocol}/${l.hostname ?? ''}`;
    const first = seen.get(k);
    if (first !== undefined && ls[first].name !== l.name)
      ctx.error(
        'CEL_RULE',
        [...path, i],
        `listeners ${JSON.stringify(ls[first].name)} and ${JSON.stringify(l.name)} have the same port, protocol and hostname; each combination must be unique`,
      );
    else seen.set(k, i);
  });
};

export const gatewaySpec = (tlsRequiresMode: boolean) =>
  obj({
    gatewayClassName: req(str({ minLength: 1, maxLength: 253 })),
    listeners: req(
      list(listener(tlsRequiresMode), {
        minItems: 1,
        maxItems: 64,
        uniqueBy: { key: (l) => l.name, field: 'name', what: 'listener name' },
        rules: [uniqueListenerTuple],
      }),
    ),
    addresses: opt(
      list(
        obj({
          type: opt(
            str({ minLength: 1, maxLength: 253, pattern: /^IPAddress$|^Hostname$|^NamedAddress$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/, patternWhat: 'address type' }),
            'IPAddress',
          ),
          value: opt(str({ maxLength: 253 })),
        }, [
          (a, ctx, path) => {
            if (a.value === undefined || a.value === '') return;
            if (a.type === 'IPAddress' && !isIP(a.value))
              ctx.error('CEL_RULE', [...path, 'value'], `${JSON.stringify(a.value)} is not an IP address (type IPAddress)`);
            if (a.type === 'Hostname') {
              const msg = checkHostname(a.value);
              if (msg || a.value.startsWith('*')) ctx.error('INVALID_HOSTNAME', [...path, 'value'], msg ?? `${JSON.stringify(a.value)}: an address hostname cannot be a wildcard`);
            }
          },
        ]),
        { maxItems: 16, uniqueBy: { key: (a) => (a.value ? `${a.type}/${a.value}` : undefined), field: 'value', what: 'address' } },
      ),
      [],
    ),
    infrastructure: opt(any()),
    tls: opt(any()),
    allowedListeners: opt(any()),
    backendTLS: opt(any()),
    defaultScope: opt(any()),
  });

// ---------------------------------------------------------------------------------------------- HTTPRoute

const headerMatch = obj({
  type: opt(oneOf(['Exact', 'RegularExpression']), 'Exact'),
  name: req(headerName()),
  value: req(str({ minLength: 1, maxLength: 4096 })),
});
const queryParamMatch = obj({
  type: opt(oneOf(['Exact', 'RegularExpression']), 'Exact'),
  name: req(queryParamName()),
  value: req(str({ minLength: 1, maxLength: 1024 })),
});

const pathMatch = obj(
  {
    type: opt(oneOf(['Exact', 'PathPrefix', 'RegularExpression']), 'PathPrefix'),
    value: opt(str({ maxLength: 1024 }), '/'),
  },
  [
    (v, ctx, path) => {
      if (v.type === 'RegularExpression') return;
      const msg = checkPathValue(v.value);
      if (msg) ctx.error('INVALID_PATH', [...path, 'value'], msg);
    },
  ],
);

const httpMethod = oneOf(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

const httpRouteMatch = obj({
  path: opt(pathMatch, { type: 'PathPrefix', value: '/' }),
  headers: opt(list(headerMatch, { maxItems: 16, uniqueBy: { key: (h) => h.name, field: 'name', what: 'header' } }), []),
  queryParams: opt(list(queryParamMatch, { maxItems: 16, uniqueBy: { key: (q) => q.name, field: 'name', what: 'query parameter' } }), []),
  method: opt(httpMethod),
});

const header = obj({ name: req(headerName()), value: req(str({ maxLength: 4096 })) });
const headerFilter = obj({
  set: opt(list(header, { maxItems: 16, uniqueBy: { key: (h) => h.name, field: 'name', what: 'header' } }), []),
  add: opt(list(header, { maxItems: 16, uniqueBy: { key: (h) => h.name, field: 'name', what: 'header' } }), []),
  remove: opt(list(str({ minLength: 1, maxLength: 256 }), { maxItems: 16 }), []),
});

const pathModifier = obj(
  {
    type: req(oneOf(['ReplaceFullPath', 'ReplacePrefixMatch'])),
    replaceFullPath: opt(str({ maxLength: 1024 })),
    replacePrefixMatch: opt(str({ maxLength: 1024 })),
  },
  [
    (v, ctx, path) => {
      const want = v.type === 'ReplaceFullPath' ? 'replaceFullPath' : 'replacePrefixMatch';
      const other = v.type === 'ReplaceFullPath' ? 'replacePrefixMatch' : 'replaceFullPath';
      if (v[want] === undefined) ctx.error('CEL_RULE', path, `type ${v.type} needs ${want}`);
      if (v[other] !== undefined) ctx.error('CEL_RULE', [...path, other], `${other} must not be set when type is ${v.type}`);
      // Not a CRD rule, so only a warning: the API server would accept it, but the result is no valid path.
      const value = v[want];
      if (typeof value === 'string' && value !== '' && !value.startsWith('/'))
        ctx.warn('PATH_WITHOUT_SLASH', [...path, want], `${JSON.stringify(value)} does not start with "/": the resulting request path would not either`);
    },
  ],
);

const requestRedirect = obj({
  scheme: opt(oneOf(['http', 'https'])),
  hostname: opt(preciseHostname()),
  path: opt(pathModifier),
  port: opt(port()),
  statusCode: opt({ t: 'int', enum: [301, 302, 303, 307, 308] }, 302),
});
const urlRewrite = obj({ hostname: opt(preciseHostname()), path: opt(pathModifier) });
const requestMirror = obj(
  {
    backendRef: req(backendObjectRef),
    percent: opt(int(0, 100)),
    fraction: opt(
      obj({ numerator: req(int(0)), denominator: opt(int(1), 100) }, [
        (v, ctx, path) => {
          if (v.numerator > v.denominator) ctx.error('CEL_RULE', path, 'numerator must be less than or equal to denominator');
        },
      ]),
    ),
  },
  [
    (v, ctx, path) => {
      if (v.percent !== undefined && v.fraction !== undefined) ctx.error('CEL_RULE', path, 'set percent or fraction, not both');
    },
  ],
);
const cors = obj({
  allowOrigins: opt(list(str({ minLength: 1, maxLength: 253 }), { maxItems: 64 }), []),
  allowCredentials: opt(bool()),
  allowMethods: opt(list(oneOf(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', '*']), { maxItems: 9 }), []),
  allowHeaders: opt(list(str({ minLength: 1, maxLength: 256 }), { maxItems: 64 }), []),
  exposeHeaders: opt(list(str({ minLength: 1, maxLength: 256 }), { maxItems: 64 }), []),
  maxAge: opt(int(1), 5),
});
const extensionRef = obj({ group: req(group()), kind: req(kind()), name: req(objectName()) });

/** The filter types and the field each one carries. */
const FILTER_FIELDS: Record<string, string> = {
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
  RequestRedirect: 'requestRedirect',
  URLRewrite: 'urlRewrite',
  RequestMirror: 'requestMirror',
  CORS: 'cors',
  ExternalAuth: 'externalAuth',
  ExtensionRef: 'extensionRef',
};
const FILTER_SCHEMAS: Record<string, Schema> = {
  requestHeaderModifier: headerFilter,
  responseHeaderModifier: headerFilter,
  requestRedirect,
  urlRewrite,
  requestMirror,
  cors,
  externalAuth: any(),
  extensionRef,
};

/** CEL on a filter: the field named by `type` is set, and no other. */
const filterFieldMatchesType: Rule = (f, ctx, path) => {
  const want = FILTER_FIELDS[f.type]!;
  if (f[want] === undefined) ctx.error('CEL_RULE', path, `filter type ${f.type} needs the ${want} field`);
  for (const field of Object.values(FILTER_FIELDS))
    if (field !== want && f[field] !== undefined)
      ctx.error('CEL_RULE', [...path, field], `${field} must not be set when the filter type is ${f.type}`);
};

const filter = (types: string[]) => {
  const o = obj({ type: req(oneOf(types)) }, [filterFieldMatchesType]);
  for (const t of types) o.fields[FILTER_FIELDS[t]!] = opt(FILTER_SCHEMAS[FILTER_FIELDS[t]!]!);
  return o;
};

const SINGLE_FILTERS = ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestRedirect', 'URLRewrite', 'CORS'];

/** CEL on a filter list: single-use filters at most once; RequestRedirect and URLRewrite never together. */
const filterListRules: Rule = (fs: any[], ctx, path) => {
  const firstAt = new Map<string, number>();
  fs.forEach((f, i) => {
    const first = firstAt.get(f.type);
    if (first === undefined) firstAt.set(f.type, i);
    else if (SINGLE_FILTERS.includes(f.type))
      ctx.error('CEL_RULE', [...path, i, 'type'], `${f.type} may appear at most once in a filter list (first at [${first}])`);
  });
  if (firstAt.has('RequestRedirect') && firstAt.has('URLRewrite'))
    ctx.error(
      'CEL_RULE',
      [...path, Math.max(firstAt.get('RequestRedirect')!, firstAt.get('URLRewrite')!), 'type'],
      'RequestRedirect and URLRewrite cannot be used together: a request is either redirected or forwarded',
    );
};

const filterList = (types: string[]) => list(filter(types), { maxItems: 16, rules: [filterListRules] });

const HTTP_FILTERS = ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestRedirect', 'URLRewrite', 'RequestMirror', 'CORS', 'ExternalAuth', 'ExtensionRef'];

const httpBackendRef = obj({ ...backendRefFields, filters: opt(filterList(HTTP_FILTERS), []) }, [portForService]);

const usesReplacePrefixMatch = (f: any) =>
  (f.type === 'RequestRedirect' && f.requestRedirect?.path?.type === 'ReplacePrefixMatch') ||
  (f.type === 'URLRewrite' && f.urlRewrite?.path?.type === 'ReplacePrefixMatch');

const httpRouteRule = obj(
  {
    name: opt(sectionName()),
    matches: opt(list(httpRouteMatch, { maxItems: 64 }), [{ path: { type: 'PathPrefix', value: '/' } }]),
    filters: opt(filterList(HTTP_FILTERS), []),
    backendRefs: opt(list(httpBackendRef, { maxItems: 16 }), []),
    timeouts: opt(
      obj(
        { request: opt(duration(), undefined, 'requestMs'), backendRequest: opt(duration(), undefined, 'backendRequestMs') },
        [
          (t, ctx, path) => {
            if (t.requestMs !== undefined && t.backendRequestMs !== undefined && t.requestMs !== 0 && t.backendRequestMs > t.requestMs)
              ctx.error('CEL_RULE', [...path, 'backendRequest'], 'backendRequest must be no greater than request: one backend attempt cannot outlast the whole request');
          },
        ],
      ),
    ),
    retry: opt(
      obj({
        codes: opt(list(int(400, 599), { uniqueBy: { key: (c) => String(c), field: '', what: 'status code' } }), []),
        attempts: opt(int(0), 1),
        backoff: opt(duration(), undefined, 'backoffMs'),
      }),
    ),
    sessionPersistence: opt(any()),
  },
  [
    (r, ctx, path) => {
      r.filters.forEach((f: any, i: number) => {
        if (!usesReplacePrefixMatch(f)) return;
        const ok = r.matches.length === 1 && r.matches[0].path.type === 'PathPrefix';
        if (!ok)
          ctx.error(
            'CEL_RULE',
            [...path, 'filters', i],
            'ReplacePrefixMatch needs the rule to have exactly one match, and its path type must be PathPrefix',
          );
      });
      if (r.backendRefs.length > 0) {
        const i = r.filters.findIndex((f: any) => f.type === 'RequestRedirect');
        if (i >= 0)
          ctx.error('CEL_RULE', [...path, 'backendRefs'], `a rule with a RequestRedirect filter (filters[${i}]) must not have backendRefs: the redirect is the response`);
      }
      r.backendRefs.forEach((b: any, j: number) =>
        b.filters.forEach((f: any, i: number) => {
          if (usesReplacePrefixMatch(f) && !(r.matches.length === 1 && r.matches[0].path.type === 'PathPrefix'))
            ctx.error('CEL_RULE', [...path, 'backendRefs', j, 'filters', i], 'ReplacePrefixMatch needs the rule to have exactly one match, and its path type must be PathPrefix');
        }),
      );
    },
  ],
);

const maxMatchesAcrossRules: Rule = (rules: any[], ctx, path) => {
  const n = rules.reduce((s, r) => s + r.matches.length, 0);
  if (n > 128) ctx.error('CEL_RULE', path, `at most 128 matches are allowed across all rules, got ${n}`);
};

const ruleNamesUnique = { key: (r: any) => r.name, field: 'name', what: 'rule name' };

export const httpRouteSpec = obj({
  parentRefs: opt(parentRefs(), []),
  hostnames: opt(list(hostname(), { maxItems: 16 }), []),
  rules: opt(list(httpRouteRule, { minItems: 1, maxItems: 16, uniqueBy: ruleNamesUnique, rules: [maxMatchesAcrossRules] }), [{}]),
});

// ---------------------------------------------------------------------------------------------- GRPCRoute

const grpcMethodMatch = obj(
  {
    type: opt(oneOf(['Exact', 'RegularExpression']), 'Exact'),
    service: opt(str({ maxLength: 1024 })),
    method: opt(str({ maxLength: 1024 })),
  },
  [
    (m, ctx, path) => {
      if (m.service === undefined && m.method === undefined)
        ctx.error('CEL_RULE', path, 'a gRPC method match needs service or method (or both)');
      if (m.type !== 'Exact') return;
      if (m.service !== undefined && !/^\.?[a-zA-Z_][a-zA-Z_0-9]*(\.[a-zA-Z_][a-zA-Z_0-9]*)*$/.test(m.service))
        ctx.error('INVALID_VALUE', [...path, 'service'], `${JSON.stringify(m.service)} is not a valid gRPC service name (e.g. "grpc.health.v1.Health")`);
      if (m.method !== undefined && !/^[A-Za-z_][A-Za-z_0-9]*$/.test(m.method))
        ctx.error('INVALID_VALUE', [...path, 'method'], `${JSON.stringify(m.method)} is not a valid gRPC method name (e.g. "Check", no "/")`);
    },
  ],
);

const GRPC_FILTERS = ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'ExtensionRef'];

export const grpcRouteSpec = obj({
  parentRefs: opt(parentRefs(), []),
  hostnames: opt(list(hostname(), { maxItems: 16 }), []),
  rules: opt(
    list(
      obj({
        name: opt(sectionName()),
        matches: opt(
          list(
            obj({
              method: opt(grpcMethodMatch),
              headers: opt(list(headerMatch, { maxItems: 16, uniqueBy: { key: (h) => h.name, field: 'name', what: 'header' } }), []),
            }),
            { maxItems: 64 },
          ),
          [],
        ),
        filters: opt(filterList(GRPC_FILTERS), []),
        backendRefs: opt(list(obj({ ...backendRefFields, filters: opt(filterList(GRPC_FILTERS), []) }, [portForService]), { maxItems: 16 }), []),
        sessionPersistence: opt(any()),
      }),
      { maxItems: 16, uniqueBy: ruleNamesUnique },
    ),
    [],
  ),
});

// ---------------------------------------------------------------------------------------------- TLS/TCP/UDP routes

const l4Rule = obj({ name: opt(sectionName()), backendRefs: req(list(backendRef, { minItems: 1, maxItems: 16 })) });

/** v1 (and v1alpha3 TLSRoute): exactly one rule. v1alpha2: 1..16, handled by the decoder (keep the first). */
const l4Rules = (maxItems: number) => req(list(l4Rule, { minItems: 1, maxItems, uniqueBy: ruleNamesUnique }));

export const tlsRouteSpec = (version: string) =>
  obj({
    parentRefs: opt(parentRefs(), []),
    hostnames:
      version === 'v1alpha2'
        ? opt(list(hostname(), { maxItems: 16 }), [])
        : req(list(hostname(), { minItems: 1, maxItems: 1024 })),
    rules: l4Rules(version === 'v1alpha2' ? 16 : 1),
  });
export const l4RouteSpec = (version: string) =>
  obj({ parentRefs: opt(parentRefs(), []), rules: l4Rules(version === 'v1alpha2' ? 16 : 1) });

// ---------------------------------------------------------------------------------------------- ReferenceGrant

export const referenceGrantSpec = obj({
  from: req(list(obj({ group: req(group()), kind: req(kind()), namespace: req(namespaceName()) }), { minItems: 1, maxItems: 16 })),
  to: req(list(obj({ group: req(group()), kind: req(kind()), name: opt(objectName()) }), { minItems: 1, maxItems: 16 })),
});
