/**
 * Route attachment (features.md §3, §9.1, §9.2): which listeners each parentRef of a route reaches.
 *
 * For one parentRef (group/kind Gateway, namespace defaulting to the route's own):
 *  1. the Gateway must exist and be served                       → else NoMatchingParent (or Pending);
 *  2. its listeners are narrowed by `sectionName` and `port`     → none left: NoMatchingParent;
 *  3. each remaining listener must allow the route's kind (supportedKinds), its namespace
 *     (allowedRoutes.namespaces: Same / All / Selector over Namespace labels) and, for converted
 *     v1alpha1 listeners, its labels (routeSelector)           → none: NotAllowedByListeners;
 *  4. HTTPRoute/GRPCRoute/TLSRoute hostnames must intersect the listener hostname
 *                                                               → none: NoMatchingListenerHostname.
 * The route is Accepted for the parentRef when at least one listener passes all checks. Listener
 * validity does not decide attachment (spec: attachedRoutes is counted on invalid listeners too);
 * only programmed listeners carry traffic.
 */
import { GATEWAY_GROUP, objectName, type Route } from '../resources/types.js';
import type { Problem } from './conditions.js';
import type { CompileContext } from './context.js';
import type { GatewayState, ListenerState } from './gateways.js';
import { intersectHostnames } from './hostnames.js';
import { selectorMatches } from './selectors.js';
import type { RouteParentStatus } from './status.js';

export interface Attachment {
  listener: ListenerState;
  /** Intersected hostnames (HTTP/GRPC/TLS routes); empty for TCP/UDP. */
  hostnames: string[];
}

export interface ParentAttachment {
  parentRef: RouteParentStatus['parentRef'];
  attachments: Attachment[];
  /** Why Accepted is not True for this parentRef. */
  notAccepted: (Problem & { status: 'False' | 'Unknown' }) | null;
}

export function routeHostnames(route: Route): string[] | null {
  if (route.kind === 'HTTPRoute' || route.kind === 'GRPCRoute' || route.kind === 'TLSRoute') return route.spec.hostnames;
  return null;
}

export function attachRoute(
  ctx: CompileContext,
  gateways: ReadonlyMap<string, GatewayState>,
  route: Route,
): ParentAttachment[] {
  const results: ParentAttachment[] = [];
  for (const ref of route.spec.parentRefs) {
    const namespace = ref.namespace ?? route.metadata.namespace;
    const parentRef: RouteParentStatus['parentRef'] = { group: ref.group, kind: ref.kind, namespace, name: ref.name };
    if (ref.sectionName !== undefined) parentRef.sectionName = ref.sectionName;
    if (ref.port !== undefined) parentRef.port = ref.port;
    const result: ParentAttachment = { parentRef, attachments: [], notAccepted: null };
    results.push(result);

    if (ref.group !== GATEWAY_GROUP || ref.kind !== 'Gateway') {
      result.notAccepted = {
        status: 'False',
        reason: 'NoMatchingParent',
        message: `parentRef kind ${ref.kind} of group "${ref.group}" is not supported (only Gateway)`,
      };
      continue;
    }
    const gw = gateways.get(`${namespace}/${ref.name}`);
    if (!gw) {
      result.notAccepted = { status: 'False', reason: 'NoMatchingParent', message: `Gateway ${namespace}/${ref.name} not found` };
      continue;
    }
    if (gw.notServed) {
      result.notAccepted =
        gw.notServed.status === 'Unknown'
          ? { status: 'Unknown', reason: 'Pending', message: `Gateway ${gw.key} is not handled by this instance: ${gw.notServed.message}` }
          : { status: 'False', reason: 'NoMatchingParent', message: `Gateway ${gw.key} is not accepted: ${gw.notServed.message}` };
      continue;
    }
    const candidates = gw.listeners.filter(
      (l) => (ref.sectionName === undefined || l.spec.name === ref.sectionName) && (ref.port === undefined || l.spec.port === ref.port),
    );
    if (candidates.length === 0) {
      const what = [ref.sectionName !== undefined ? `sectionName ${ref.sectionName}` : '', ref.port !== undefined ? `port ${ref.port}` : '']
        .filter(Boolean)
        .join(' and ');
      result.notAccepted = { status: 'False', reason: 'NoMatchingParent', message: `Gateway ${gw.key} has no listener with ${what}` };
      continue;
    }

    const hostnames = routeHostnames(route);
    const refusals: string[] = [];
    let hostnameMiss = false;
    for (const l of candidates) {
      const refusal = listenerRefusal(ctx, l, route);
      if (refusal) {
        refusals.push(`${l.spec.name}: ${refusal}`);
        continue;
      }
      if (hostnames === null) {
        result.attachments.push({ listener: l, hostnames: [] });
        continue;
      }
      const intersected = intersectHostnames(l.hostname, hostnames);
      if (intersected.length === 0) {
        hostnameMiss = true;
        refusals.push(`${l.spec.name}: no route hostname intersects listener hostname ${l.hostname}`);
        continue;
      }
      result.attachments.push({ listener: l, hostnames: intersected });
    }
    if (result.attachments.length === 0) {
      result.notAccepted = hostnameMiss
        ? { status: 'False', reason: 'NoMatchingListenerHostname', message: `no listener hostname matches: ${refusals.join('; ')}` }
        : { status: 'False', reason: 'NotAllowedByListeners', message: `not allowed by listeners: ${refusals.join('; ')}` };
    }
    for (const a of result.attachments) a.listener.attachedRoutes.add(objectName(route));
  }
  return results;
}

/** Why a listener does not admit this route (kind, namespace, v1alpha1 route selector), or null. */
function listenerRefusal(ctx: CompileContext, l: ListenerState, route: Route): string | null {
  if (!l.supportedKinds.some((k) => k.kind === route.kind)) {
    const kinds = l.supportedKinds.map((k) => k.kind).join(', ') || 'none';
    return `kind ${route.kind} not allowed (allowed: ${kinds})`;
  }
  const gwNamespace = l.gateway.gateway.metadata.namespace;
  const allowed = l.spec.allowedRoutes;
  switch (allowed.namespaces.from) {
    case 'All':
      break;
    case 'Same':
      if (route.metadata.namespace !== gwNamespace) return `routes only from namespace ${gwNamespace} (from: Same)`;
      break;
    case 'Selector': {
      const selector = allowed.namespaces.selector;
      if (!selector || !selectorMatches(selector, ctx.labelsOfNamespace(route.metadata.namespace))) {
        return `namespace ${route.metadata.namespace} does not match the listener's namespace selector`;
      }
      break;
    }
    default:
      return `allowedRoutes.namespaces.from ${String(allowed.namespaces.from)} is not supported`;
  }
  if (allowed.routeSelector && !selectorMatches(allowed.routeSelector, route.metadata.labels)) {
    return 'route labels do not match the listener route selector';
  }
  return null;
}
