/**
 * The kind table: for every (group, kind) Gatehouse reads, the versions served, where the body sits,
 * its schema at each version, and which ResourceSet list receives it.
 */
import { GATEWAY_GROUP, ENVOY_GROUP, V1ALPHA1_GROUP, type ResourceSet } from './types.js';
import { obj, opt, any, req, type ObjectSchema } from './schema.js';
import {
  gatewayClassSpec, gatewaySpec, grpcRouteSpec, httpRouteSpec, l4RouteSpec, referenceGrantSpec, tlsRouteSpec,
} from './gateway-api.js';
import { backendSpec, configMapBody, endpointSliceBody, secretBody, serviceSpec } from './core-kinds.js';
import { v1alpha1Specs } from './v1alpha1.js';

export interface KindDef {
  group: string;
  kind: string;
  versions: readonly string[];
  clusterScoped?: boolean;
  /** `spec`: the body is `.spec`. `top`: the body's fields sit next to metadata (EndpointSlice, Secret, ConfigMap). */
  body: 'spec' | 'top';
  specRequired?: boolean;
  schema(version: string): ObjectSchema;
  list: keyof ResourceSet;
  /** The kind in the typed model when it differs (ReferencePolicy → ReferenceGrant). */
  as?: string;
}

const ALL_GW = ['v1', 'v1beta1', 'v1alpha2'];

export const KINDS: readonly KindDef[] = [
  { group: GATEWAY_GROUP, kind: 'GatewayClass', versions: ALL_GW, clusterScoped: true, body: 'spec', specRequired: true, schema: () => gatewayClassSpec, list: 'gatewayClasses' },
  { group: GATEWAY_GROUP, kind: 'Gateway', versions: ALL_GW, body: 'spec', specRequired: true, schema: (v) => gatewaySpec(v === 'v1'), list: 'gateways' },
  { group: GATEWAY_GROUP, kind: 'HTTPRoute', versions: ALL_GW, body: 'spec', specRequired: true, schema: () => httpRouteSpec, list: 'httpRoutes' },
  { group: GATEWAY_GROUP, kind: 'GRPCRoute', versions: ['v1', 'v1alpha2'], body: 'spec', specRequired: true, schema: () => grpcRouteSpec, list: 'grpcRoutes' },
  { group: GATEWAY_GROUP, kind: 'TLSRoute', versions: ['v1', 'v1alpha3', 'v1alpha2'], body: 'spec', specRequired: true, schema: tlsRouteSpec, list: 'tlsRoutes' },
  { group: GATEWAY_GROUP, kind: 'TCPRoute', versions: ['v1', 'v1alpha2'], body: 'spec', specRequired: true, schema: l4RouteSpec, list: 'tcpRoutes' },
  { group: GATEWAY_GROUP, kind: 'UDPRoute', versions: ['v1', 'v1alpha2'], body: 'spec', specRequired: true, schema: l4RouteSpec, list: 'udpRoutes' },
  { group: GATEWAY_GROUP, kind: 'ReferenceGrant', versions: ['v1', 'v1beta1', 'v1alpha2'], body: 'spec', specRequired: true, schema: () => referenceGrantSpec, list: 'referenceGrants' },
  { group: GATEWAY_GROUP, kind: 'ReferencePolicy', versions: ['v1alpha2'], body: 'spec', specRequired: true, schema: () => referenceGrantSpec, list: 'referenceGrants', as: 'ReferenceGrant' },

  { group: '', kind: 'Service', versions: ['v1'], body: 'spec', schema: () => serviceSpec, list: 'services' },
  { group: '', kind: 'Namespace', versions: ['v1'], clusterScoped: true, body: 'spec', schema: () => obj({ finalizers: opt(any()) }), list: 'namespaces' },
  { group: '', kind: 'Secret', versions: ['v1'], body: 'top', schema: () => secretBody, list: 'secrets' },
  { group: '', kind: 'ConfigMap', versions: ['v1'], body: 'top', schema: () => configMapBody, list: 'configMaps' },
  { group: 'discovery.k8s.io', kind: 'EndpointSlice', versions: ['v1'], body: 'top', schema: () => endpointSliceBody, list: 'endpointSlices' },
  { group: ENVOY_GROUP, kind: 'Backend', versions: ['v1alpha1'], body: 'spec', specRequired: true, schema: () => backendSpec, list: 'backends' },

  ...(['GatewayClass', 'Gateway', 'HTTPRoute', 'TCPRoute', 'TLSRoute', 'UDPRoute'] as const).map(
    (kind): KindDef => ({
      group: V1ALPHA1_GROUP,
      kind,
      versions: ['v1alpha1'],
      clusterScoped: kind === 'GatewayClass',
      body: 'spec',
      specRequired: true,
      schema: () => v1alpha1Specs[kind],
      list: (
        { GatewayClass: 'gatewayClasses', Gateway: 'gateways', HTTPRoute: 'httpRoutes', TCPRoute: 'tcpRoutes', TLSRoute: 'tlsRoutes', UDPRoute: 'udpRoutes' } as const
      )[kind],
    }),
  ),
];

/** Groups whose kinds we know: an unknown kind there is probably a typo, not someone else's CRD. */
export const OWN_GROUPS = new Set([GATEWAY_GROUP, V1ALPHA1_GROUP]);

/** Kinds of our groups that exist upstream but Gatehouse does not read (warn, do not fail). */
export const KNOWN_UNSUPPORTED = new Set([
  'BackendTLSPolicy', 'ListenerSet', 'XListenerSet', 'XBackendTrafficPolicy', 'XMesh', 'XBackend', 'BackendLBPolicy', 'BackendPolicy',
]);

/** The top-level schema of one object: metadata + spec, or metadata + top-level body fields. */
export function objectSchema(def: KindDef, version: string, metadata: ObjectSchema): ObjectSchema {
  const common = { apiVersion: opt(any()), kind: opt(any()), metadata: req(metadata), status: opt(any()) };
  if (def.body === 'spec') {
    const spec = def.specRequired ? req(def.schema(version)) : opt(def.schema(version), {});
    return obj({ ...common, spec });
  }
  return obj({ ...common, ...def.schema(version).fields });
}
