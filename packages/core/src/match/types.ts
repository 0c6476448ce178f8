import type { HttpGroupIR, HttpMatchEntry, HttpRuleIR, PortIR, TlsRouteIR } from '../ir/types.js';

/**
 * The plain request head every engine hands to routing (DESIGN.md §1: one request model for every
 * engine). Built once per request by the engine; routing never sees IncomingMessage/ServerResponse.
 */
export interface RequestHead {
  method: string;
  /** Host without port, lowercased, without a trailing dot. */
  host: string;
  /** Normalised path without the query string (see match/path.ts). */
  path: string;
  /** Raw query string without the leading `?` ('' when none). */
  query: string;
  /** Header lookup by lowercased name; repeated headers joined with `,` (Node's `req.headers` shape). */
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface HttpMatchResult {
  group: HttpGroupIR;
  entry: HttpMatchEntry;
  rule: HttpRuleIR;
}

/**
 * Routing for one port, built once per table swap. `selectGroup` and `match` never throw and allocate
 * nothing on the hit path.
 */
export interface PortMatcher {
  readonly port: PortIR;
  /** Index into `port.httpGroups` of the most specific listener hostname covering `host`, or -1. */
  selectGroup(host: string): number;
  /** Best entry of the group for this request, or null (→ 404 / gRPC UNIMPLEMENTED). */
  match(group: number, req: RequestHead): HttpMatchResult | null;
  /** TLS ports: the TLS route for an SNI name (lowercased), or null (connection closed). */
  // Listener isolation applies as for HTTP: the most specific TLS/HTTPS listener hostname covering the
  // SNI is selected first; when it is an HTTPS listener the answer is null (terminate and route over
  // HTTP), otherwise its TLS routes decide (exact, then longer wildcard, then `*`; then table order).
  matchSni(sni: string): TlsRouteIR | null;
}
