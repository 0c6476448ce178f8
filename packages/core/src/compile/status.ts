/** Status conditions as a user (or the conformance suite) reads them: the spec's types and reasons. */

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration: number;
}

export interface ListenerStatus {
  name: string;
  supportedKinds: { group: string; kind: string }[];
  /**
   * Routes attached through this listener: selected by its allowedRoutes (kind, namespace) with an
   * intersecting hostname. As the spec asks, counted whether or not the listener itself is valid.
   */
  attachedRoutes: number;
  conditions: Condition[];
}

export interface GatewayStatus {
  /** `ns/name`. */
  name: string;
  conditions: Condition[];
  listeners: ListenerStatus[];
  /** Bind addresses actually used. */
  addresses: { type: string; value: string }[];
}

export interface RouteParentStatus {
  parentRef: { group: string; kind: string; namespace: string; name: string; sectionName?: string; port?: number };
  controllerName: string;
  conditions: Condition[];
}

export interface BackendStatus {
  /** `Kind ns/name:port` as referenced. */
  name: string;
  /** Which resolution step resolved it (DESIGN.md §5), or `Unresolved`. */
  resolution: string;
  /** Reason when unresolved (`BackendNotFound`, `RefNotPermitted`, ...). */
  reason: string | null;
  endpoints: string[];
}

export interface RouteStatus {
  kind: 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute' | 'TCPRoute' | 'UDPRoute';
  /** `ns/name`. */
  name: string;
  parents: RouteParentStatus[];
  backends: BackendStatus[];
}

export interface StatusReport {
  gatewayClasses: { name: string; controllerName: string; conditions: Condition[] }[];
  gateways: GatewayStatus[];
  routes: RouteStatus[];
}
