/**
 * The typed resource model: Gateway API objects normalised to v1 (whatever version or the old
 * v1alpha1 API they were written in), plus the core Kubernetes kinds and Envoy Gateway's Backend
 * that Gatehouse reads. Decoding fills every default the CRDs define, so later stages never have
 * to guess (e.g. `weight` is always a number, `path` always set on a match).
 */

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
export const V1ALPHA1_GROUP = 'networking.x-k8s.io';
export const ENVOY_GROUP = 'gateway.envoyproxy.io';

export interface SourceInfo {
  file: string;
  line: number;
  col: number;
  /** Global load order of the document (see RawDocument.order). */
  order: number;
}

export interface ObjectMeta {
  name: string;
  /** `default` when omitted; `''` for cluster-scoped kinds (GatewayClass, Namespace). */
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** RFC 3339 when the file carries one. */
  creationTimestamp?: string;
  generation: number;
}

interface Base<K extends string, S> {
  kind: K;
  /** apiVersion exactly as written in the file (e.g. `networking.x-k8s.io/v1alpha1`). */
  apiVersion: string;
  metadata: ObjectMeta;
  spec: S;
  source: SourceInfo;
  /** Set when the object was converted from v1alpha1. */
  convertedFrom?: 'v1alpha1';
}

// ---------------------------------------------------------------------------------------------- shared

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values: string[];
}
export interface LabelSelector {
  matchLabels: Record<string, string>;
  matchExpressions: LabelSelectorRequirement[];
}

export interface ParentReference {
  group: string; // default gateway.networking.k8s.io
  kind: string; // default Gateway
  namespace?: string; // default: the route's namespace
  name: string;
  sectionName?: string;
  port?: number;
}

export interface BackendObjectReference {
  group: string; // '' = core
  kind: string; // default Service
  name: string;
  namespace?: string;
  port?: number;
}

export interface BackendRef extends BackendObjectReference {
  weight: number; // default 1
}

export interface SecretObjectReference {
  group: string; // ''
  kind: string; // Secret
  name: string;
  namespace?: string;
}

export type StringMatchType = 'Exact' | 'RegularExpression';

// ---------------------------------------------------------------------------------------------- GatewayClass

export interface GatewayClassSpec {
  controllerName: string;
  description?: string;
  parametersRef?: { group: string; kind: string; name: string; namespace?: string };
}
export type GatewayClass = Base<'GatewayClass', GatewayClassSpec>;

// ---------------------------------------------------------------------------------------------- Gateway

export type ListenerProtocol = 'HTTP' | 'HTTPS' | 'TLS' | 'TCP' | 'UDP' | (string & {});

export interface RouteGroupKind {
  group: string; // default gateway.networking.k8s.io
  kind: string;
}

export interface AllowedRoutes {
  namespaces: { from: 'Same' | 'All' | 'Selector'; selector?: LabelSelector };
  /** Empty = the kinds the protocol supports. */
  kinds: RouteGroupKind[];
  /**
   * v1alpha1 only: the listener's `routes.selector` over Route labels. v1 has no equivalent; the
   * compiler honours it so converted tutorial files keep their meaning.
   */
  routeSelector?: LabelSelector;
}

export interface GatewayTLSConfig {
  mode: 'Terminate' | 'Passthrough';
  certificateRefs: SecretObjectReference[];
  options: Record<string, string>;
}

export interface Listener {
  name: string;
  hostname?: string;
  port: number;
  protocol: ListenerProtocol;
  tls?: GatewayTLSConfig;
  allowedRoutes: AllowedRoutes;
}

export interface GatewayAddress {
  type: string; // IPAddress (default) | Hostname | NamedAddress | domain/path
  value?: string;
}

export interface GatewaySpec {
  gatewayClassName: string;
  listeners: Listener[];
  addresses: GatewayAddress[];
  /** `spec.infrastructure` as written (only `parametersRef` matters to compile: none is supported). */
  infrastructure?: { parametersRef?: { group: string; kind: string; name: string } };
}
export type Gateway = Base<'Gateway', GatewaySpec>;

// ---------------------------------------------------------------------------------------------- HTTPRoute

export interface HTTPPathMatch {
  type: 'Exact' | 'PathPrefix' | 'RegularExpression';
  value: string; // default '/'
}
export interface HTTPHeaderMatch {
  type: StringMatchType;
  name: string;
  value: string;
}
export interface HTTPQueryParamMatch {
  type: StringMatchType;
  name: string;
  value: string;
}
export interface HTTPRouteMatch {
  path: HTTPPathMatch; // default PathPrefix /
  headers: HTTPHeaderMatch[];
  queryParams: HTTPQueryParamMatch[];
  method?: string;
}

export interface HTTPHeader {
  name: string;
  value: string;
}
export interface HTTPHeaderFilter {
  set: HTTPHeader[];
  add: HTTPHeader[];
  remove: string[];
}
export interface HTTPPathModifier {
  type: 'ReplaceFullPath' | 'ReplacePrefixMatch';
  replaceFullPath?: string;
  replacePrefixMatch?: string;
}
export interface HTTPRequestRedirectFilter {
  scheme?: 'http' | 'https';
  hostname?: string;
  path?: HTTPPathModifier;
  port?: number;
  statusCode: number; // default 302
}
export interface HTTPURLRewriteFilter {
  hostname?: string;
  path?: HTTPPathModifier;
}
export interface HTTPRequestMirrorFilter {
  backendRef: BackendObjectReference;
  percent?: number;
  fraction?: { numerator: number; denominator: number };
}
export interface HTTPCORSFilter {
  allowOrigins: string[];
  allowCredentials?: boolean;
  allowMethods: string[];
  allowHeaders: string[];
  exposeHeaders: string[];
  maxAge: number; // default 5
}
export interface LocalObjectReference {
  group: string;
  kind: string;
  name: string;
}

export type HTTPRouteFilter =
  | { type: 'RequestHeaderModifier'; requestHeaderModifier: HTTPHeaderFilter }
  | { type: 'ResponseHeaderModifier'; responseHeaderModifier: HTTPHeaderFilter }
  | { type: 'RequestRedirect'; requestRedirect: HTTPRequestRedirectFilter }
  | { type: 'URLRewrite'; urlRewrite: HTTPURLRewriteFilter }
  | { type: 'RequestMirror'; requestMirror: HTTPRequestMirrorFilter }
  | { type: 'CORS'; cors: HTTPCORSFilter }
  | { type: 'ExtensionRef'; extensionRef: LocalObjectReference };

export interface HTTPBackendRef extends BackendRef {
  filters: HTTPRouteFilter[];
}

export interface HTTPRouteTimeouts {
  /** Milliseconds; 0 disables. */
  requestMs?: number;
  backendRequestMs?: number;
}
export interface HTTPRouteRetry {
  codes: number[];
  attempts: number;
  backoffMs?: number;
}

export interface HTTPRouteRule {
  name?: string;
  matches: HTTPRouteMatch[]; // default [{path: PathPrefix /}]
  filters: HTTPRouteFilter[];
  backendRefs: HTTPBackendRef[];
  timeouts?: HTTPRouteTimeouts;
  retry?: HTTPRouteRetry;
}

export interface HTTPRouteSpec {
  parentRefs: ParentReference[];
  hostnames: string[];
  rules: HTTPRouteRule[]; // default [{matches: [{path: PathPrefix /}]}]
}
export type HTTPRoute = Base<'HTTPRoute', HTTPRouteSpec>;

// ---------------------------------------------------------------------------------------------- GRPCRoute

export interface GRPCMethodMatch {
  type: 'Exact' | 'RegularExpression';
  service?: string;
  method?: string;
}
export interface GRPCRouteMatch {
  method?: GRPCMethodMatch;
  headers: HTTPHeaderMatch[];
}
export type GRPCRouteFilter = Extract<
  HTTPRouteFilter,
  { type: 'RequestHeaderModifier' | 'ResponseHeaderModifier' | 'RequestMirror' | 'ExtensionRef' }
>;
export interface GRPCBackendRef extends BackendRef {
  filters: GRPCRouteFilter[];
}
export interface GRPCRouteRule {
  name?: string;
  matches: GRPCRouteMatch[]; // empty = every gRPC request
  filters: GRPCRouteFilter[];
  backendRefs: GRPCBackendRef[];
}
export interface GRPCRouteSpec {
  parentRefs: ParentReference[];
  hostnames: string[];
  rules: GRPCRouteRule[];
}
export type GRPCRoute = Base<'GRPCRoute', GRPCRouteSpec>;

// ---------------------------------------------------------------------------------------------- L4 routes

export interface L4RouteRule {
  name?: string;
  backendRefs: BackendRef[];
}
export interface TLSRouteSpec {
  parentRefs: ParentReference[];
  hostnames: string[];
  rules: L4RouteRule[];
}
export interface L4RouteSpec {
  parentRefs: ParentReference[];
  rules: L4RouteRule[];
}
export type TLSRoute = Base<'TLSRoute', TLSRouteSpec>;
export type TCPRoute = Base<'TCPRoute', L4RouteSpec>;
export type UDPRoute = Base<'UDPRoute', L4RouteSpec>;

// ---------------------------------------------------------------------------------------------- ReferenceGrant

export interface ReferenceGrantSpec {
  from: { group: string; kind: string; namespace: string }[];
  to: { group: string; kind: string; name?: string }[];
}
export type ReferenceGrant = Base<'ReferenceGrant', ReferenceGrantSpec>;

// ---------------------------------------------------------------------------------------------- core kinds

export interface ServicePort {
  name?: string;
  port: number;
  /** Number or a container port name; defaults to `port`. */
  targetPort: number | string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  appProtocol?: string;
}
export interface ServiceSpec {
  type: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  externalName?: string;
  ports: ServicePort[];
  selector: Record<string, string>;
  clusterIP?: string;
}
export type Service = Base<'Service', ServiceSpec>;

export interface EndpointPort {
  name?: string;
  port: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  appProtocol?: string;
}
export interface Endpoint {
  addresses: string[];
  /** `conditions.ready`; absent counts as ready, as in Kubernetes. */
  ready: boolean;
  hostname?: string;
}
export interface EndpointSliceSpec {
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints: Endpoint[];
  ports: EndpointPort[];
  /** The `kubernetes.io/service-name` label. */
  serviceName?: string;
}
/** EndpointSlice keeps its fields at the top level in Kubernetes; decode moves them under `spec`. */
export type EndpointSlice = Base<'EndpointSlice', EndpointSliceSpec>;

export interface SecretSpec {
  type: string; // kubernetes.io/tls, Opaque, ...
  /** Decoded `data` (base64) merged with `stringData`, as UTF-8 strings. */
  data: Record<string, string>;
}
export type Secret = Base<'Secret', SecretSpec>;

export type Namespace = Base<'Namespace', Record<string, never>>;

/** ConfigMap (for CA bundles referenced by BackendTLSPolicy / frontend validation). */
export type ConfigMap = Base<'ConfigMap', { data: Record<string, string> }>;

// ---------------------------------------------------------------------------------------------- Envoy Backend

export interface BackendEndpoint {
  ip?: { address: string; port: number };
  fqdn?: { hostname: string; port: number };
  unix?: { path: string };
}
export interface BackendSpec {
  endpoints: BackendEndpoint[];
  appProtocols: string[];
}
export type Backend = Base<'Backend', BackendSpec>;

// ---------------------------------------------------------------------------------------------- sets

export type Route = HTTPRoute | GRPCRoute | TLSRoute | TCPRoute | UDPRoute;
export type Resource =
  | GatewayClass
  | Gateway
  | Route
  | ReferenceGrant
  | Service
  | EndpointSlice
  | Secret
  | Namespace
  | ConfigMap
  | Backend;

/** Everything decoded from one directory, each list in load order. */
export interface ResourceSet {
  gatewayClasses: GatewayClass[];
  gateways: Gateway[];
  httpRoutes: HTTPRoute[];
  grpcRoutes: GRPCRoute[];
  tlsRoutes: TLSRoute[];
  tcpRoutes: TCPRoute[];
  udpRoutes: UDPRoute[];
  referenceGrants: ReferenceGrant[];
  services: Service[];
  endpointSlices: EndpointSlice[];
  secrets: Secret[];
  namespaces: Namespace[];
  configMaps: ConfigMap[];
  backends: Backend[];
}

export function emptyResourceSet(): ResourceSet {
  return {
    gatewayClasses: [],
    gateways: [],
    httpRoutes: [],
    grpcRoutes: [],
    tlsRoutes: [],
    tcpRoutes: [],
    udpRoutes: [],
    referenceGrants: [],
    services: [],
    endpointSlices: [],
    secrets: [],
    namespaces: [],
    configMaps: [],
    backends: [],
  };
}

/** `Kind ns/name`, or `Kind name` for cluster-scoped objects: how objects are named in messages. */
export function objectName(o: { kind: string; metadata: { namespace: string; name: string } }): string {
  return o.metadata.namespace ? `${o.kind} ${o.metadata.namespace}/${o.metadata.name}` : `${o.kind} ${o.metadata.name}`;
}
