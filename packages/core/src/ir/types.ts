/**
 * The routing table: the immutable, plain-data contract between `compile()` and the data plane.
 * Everything here is JSON-serialisable (see ir/serialize.ts) and deterministic for the same input.
 * The data plane builds its fast structures (matcher tries, balancers, pools) from it at swap time;
 * nothing in it is per request.
 *
 * Precedence lives in one place (compile/precedence.ts): every list of candidates below is already in
 * precedence order, so consumers only ever take "the first that matches".
 */

export interface RoutingTable {
  /** Content hash of the inputs that produced this table (stable across runs). */
  hash: string;
  /** One entry per socket to bind: listeners of every Gateway merged by (address, port, transport). */
  ports: PortIR[];
  /** Backends, deduplicated; rules and mirrors refer to them by index. */
  backends: BackendIR[];
  /** Certificates from `kubernetes.io/tls` Secrets; listeners refer to them by index. */
  certificates: CertificateIR[];
}

// ---------------------------------------------------------------------------------------------- ports & listeners

/**
 * `HTTP`: plain HTTP/1.1 (+ h2c prior knowledge). `TLS`: every listener that starts with a TLS
 * ClientHello (HTTPS termination, TLS termination, TLS passthrough), dispatched by SNI.
 * `TCP` / `UDP`: raw forwarding.
 */
export type PortProtocol = 'HTTP' | 'TLS' | 'TCP' | 'UDP';

export interface PortIR {
  /** `address:port/tcp|udp`, stable across reloads: the data plane keys sockets by it. */
  key: string;
  /** Bind address from the Gateway's `spec.addresses`; null = the `--bind` default. */
  address: string | null;
  port: number;
  transport: 'tcp' | 'udp';
  protocol: PortProtocol;
  /**
   * Listeners on this socket, most specific hostname first (exact, then longer wildcard suffix, then
   * none). Listeners of different Gateways with the same hostname stay separate entries, but share one
   * `group` so their routes are matched together.
   */
  listeners: ListenerIR[];
  /** HTTP routing per hostname group (HTTP ports, and HTTPS listeners on TLS ports). */
  httpGroups: HttpGroupIR[];
  /** TLS ports: SNI routing for `protocol: TLS` listeners (passthrough and terminate), by hostname. */
  tlsRoutes: TlsRouteIR[];
  /** TCP/UDP ports: the single route that serves the port, or null (connections refused / dropped). */
  l4Route: L4RouteIR | null;
}

export interface ListenerIR {
  /** `namespace/gateway/listenerName` — also the `listener` label value in metrics. */
  id: string;
  /** `namespace/name` of the Gateway. */
  gateway: string;
  name: string;
  protocol: 'HTTP' | 'HTTPS' | 'TLS' | 'TCP' | 'UDP';
  port: number;
  /** null = any host. */
  hostname: string | null;
  /** HTTPS/TLS listeners. */
  tls: { mode: 'Terminate' | 'Passthrough'; certificates: number[] } | null;
  /** Index into `httpGroups` of its port (HTTP/HTTPS listeners), else -1. */
  group: number;
}

// ---------------------------------------------------------------------------------------------- HTTP

/**
 * The routes of all listeners on one port that share one hostname (listener isolation: a request is
 * matched only against the group of the single most specific listener hostname that covers its Host).
 */
export interface HttpGroupIR {
  /** Listener hostname: null = any, `*.example.com`, or an exact name. */
  hostname: string | null;
  /** Indices into the port's `listeners`. */
  listeners: number[];
  /** Whether the group is served over TLS (HTTPS) — for redirects' default scheme and X-Forwarded-Proto. */
  secure: boolean;
  /** Listener port (for redirects: the Gateway Listener port, not the socket's real port). */
  listenerPort: number;
  /** Match entries in full precedence order (after hostname specificity, see compile/precedence.ts). */
  entries: HttpMatchEntry[];
  /** Rules, referenced by `HttpMatchEntry.rule`. */
  rules: HttpRuleIR[];
}

export interface StringMatchIR {
  type: 'Exact' | 'RegularExpression';
  /** Header names lowercased at compile time; query names kept as written (case-sensitive). */
  name: string;
  value: string;
}

export interface HttpMatchEntry {
  /**
   * The hostname this entry serves after listener ∩ route intersection: `*` (any), `*.suffix`, or exact.
   * Lowercased.
   */
  hostname: string;
  path: { type: 'Exact' | 'PathPrefix' | 'RegularExpression'; value: string };
  method: string | null;
  headers: StringMatchIR[];
  queryParams: StringMatchIR[];
  /**
   * GRPCRoute entries only match requests with `content-type: application/grpc*`. Their path is compiled
   * from the method match (`/svc/method` Exact, `/svc/` PathPrefix, or a regex).
   */
  grpc: boolean;
  /** GRPCRoute entries: the method match as written (for gRPC precedence: service chars, then method chars). */
  grpcMethod: { service: string | null; method: string | null } | null;
  /**
   * Index into the group's `rules`. `rules` are ordered by route age rank (creationTimestamp, then load
   * order, then `namespace/name`) and then rule index, so a smaller `rule` means an older route or an
   * earlier rule: precedence steps 6–8 reduce to comparing `rule`, then `matchIndex`.
   */
  rule: number;
  /** Which match of the rule this is (for explain). */
  matchIndex: number;
  /** Index of the listener (in the port's `listeners`) through which the route attached. */
  listener: number;
}

export type HeaderOps = { set: [string, string][]; add: [string, string][]; remove: string[] };

export interface PathModifierIR {
  type: 'ReplaceFullPath' | 'ReplacePrefixMatch';
  value: string;
  /** For ReplacePrefixMatch: the matched prefix of the rule (trailing slash stripped). */
  prefix?: string;
}

export type FilterIR =
  | { type: 'RequestHeaderModifier'; ops: HeaderOps }
  | { type: 'ResponseHeaderModifier'; ops: HeaderOps }
  | {
      type: 'RequestRedirect';
      scheme: 'http' | 'https' | null;
      hostname: string | null;
      port: number | null;
      path: PathModifierIR | null;
      statusCode: number;
    }
  | { type: 'URLRewrite'; hostname: string | null; path: PathModifierIR | null }
  | { type: 'RequestMirror'; backend: number; /** 0..1 */ fraction: number }
  | {
      type: 'CORS';
      allowOrigins: string[];
      allowCredentials: boolean;
      allowMethods: string[];
      allowHeaders: string[];
      exposeHeaders: string[];
      maxAge: number;
    }
  /** An ExtensionRef (or anything else) that cannot be honoured: the request is answered 500. */
  | { type: 'Unsupported'; reason: string };

export interface BackendRefIR {
  /** `Kind ns/name:port` as written, for logs/metrics/explain. */
  name: string;
  weight: number;
  /** Index into `RoutingTable.backends`, or -1 when the ref is invalid (its share answers 500). */
  backend: number;
  /** Why it is invalid (`BackendNotFound`, `RefNotPermitted`, `InvalidKind`, `UnsupportedProtocol`). */
  invalidReason: string | null;
  filters: FilterIR[];
}

export interface HttpRuleIR {
  /** `ns/name` of the route. */
  route: string;
  routeKind: 'HTTPRoute' | 'GRPCRoute';
  /** 0-based rule index inside the route. */
  ruleIndex: number;
  ruleName: string | null;
  filters: FilterIR[];
  /** Weighted refs (may be empty: then the answer is 500, unless a filter answers). */
  backendRefs: BackendRefIR[];
  timeouts: { requestMs: number | null; backendRequestMs: number | null };
  retry: { codes: number[]; attempts: number; backoffMs: number } | null;
}

// ---------------------------------------------------------------------------------------------- L4

export interface L4RouteIR {
  /** `ns/name` of the route. */
  route: string;
  routeKind: 'TLSRoute' | 'TCPRoute' | 'UDPRoute';
  backendRefs: BackendRefIR[];
  /** Listener index (in the port's `listeners`). */
  listener: number;
}

export interface TlsRouteIR extends L4RouteIR {
  /** Intersected SNI hostname: exact or `*.suffix` (lowercased); `*` for any. */
  hostname: string;
  /** Passthrough pipes TLS bytes; Terminate decrypts with the listener certificate first. */
  mode: 'Passthrough' | 'Terminate';
}

// ---------------------------------------------------------------------------------------------- backends

/**
 * How a backend was resolved (DESIGN.md §5). `Unresolved` never appears on a valid ref: refs that do
 * not resolve get `backend: -1`.
 */
export type ResolutionStep = 'EndpointSlice' | 'ExternalName' | 'DNS' | 'Backend';

export interface EndpointIR {
  /** IP address, hostname to resolve (`dns: true`), or unix socket path (`port: 0`). */
  address: string;
  port: number;
  dns: boolean;
  unix: boolean;
}

export interface BackendIR {
  /** `Service ns/name:port` or `Backend ns/name` — also the `backend` label in metrics. */
  id: string;
  resolution: ResolutionStep;
  /**
   * `http1` (default), `h2c` (appProtocol kubernetes.io/h2c, and GRPCRoute backends), `ws`, `wss`,
   * `tls` (upstream TLS).
   */
  protocol: 'http1' | 'h2c' | 'ws' | 'wss' | 'tls';
  /** Empty = no ready endpoint → 503. */
  endpoints: EndpointIR[];
}

export interface CertificateIR {
  /** `ns/name` of the Secret. */
  secret: string;
  /** PEM certificate chain. */
  cert: string;
  /** PEM private key. Redacted by the serialiser. */
  key: string;
  /** DNS names the certificate is for (from the listener hostnames that use it), lowercased. */
  hostnames: string[];
}
