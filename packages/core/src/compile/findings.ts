/**
 * Compile findings as diagnostics, so `gatehouse validate` (which prints diagnostics, not status)
 * shows what will not be served and why. All are warnings: the spec reports these through status,
 * and the rest of the configuration is still served.
 *
 *   GATEWAYCLASS_NOT_ACCEPTED a GatewayClass is Accepted=False (InvalidParameters; from gateways.ts)
 *   GATEWAY_NOT_ACCEPTED     a Gateway is not served (missing class, address, no valid listener)
 *   LISTENER_NOT_PROGRAMMED  a listener carries no traffic (conflict, protocol, certificates, kinds)
 *   ROUTE_NOT_ACCEPTED       a route with parentRefs is accepted by none of them
 *   RULE_DROPPED             a rule cannot be honoured and is left out
 *   BACKEND_UNRESOLVED       a backendRef does not resolve: its share of traffic answers 500
 */
import type { CompileContext } from './context.js';
import { listenerProgrammed, type GatewayState } from './gateways.js';
import type { RouteWork } from './routing.js';

export function reportFindings(ctx: CompileContext, gateways: readonly GatewayState[], works: readonly RouteWork[]): void {
  for (const gw of gateways) {
    if (gw.notServed) {
      // A class deliberately left out (--gateway-class) is not a finding.
      if (gw.notServed.status === 'False') {
        ctx.diagnose('warning', 'GATEWAY_NOT_ACCEPTED', `${gw.notServed.reason}: ${gw.notServed.message}`, gw.gateway, 'spec');
      }
      continue;
    }
    gw.listeners.forEach((l, i) => {
      if (listenerProgrammed(l)) return;
      const why = l.conflict ?? l.notAccepted ?? l.refProblems[0] ?? { reason: 'InvalidRouteKinds', message: 'no supported route kind' };
      ctx.diagnose('warning', 'LISTENER_NOT_PROGRAMMED', `listener ${l.spec.name}: ${why.reason}: ${why.message}`, gw.gateway, `spec.listeners[${i}]`);
    });
  }
  for (const work of works) {
    const route = work.route;
    const accepted = work.parents.some((p) => p.notAccepted === null);
    // Parents left to another instance (--gateway-class: Pending) are not a finding.
    const rejected = work.parents.some((p) => p.notAccepted?.status === 'False');
    if (!accepted && rejected) {
      const reasons = work.parents.map((p) => `${p.parentRef.namespace}/${p.parentRef.name}: ${p.notAccepted!.reason}`).join('; ');
      ctx.diagnose('warning', 'ROUTE_NOT_ACCEPTED', `not accepted by any parent (${reasons}); it serves no traffic`, route, 'spec.parentRefs');
    }
    for (const d of work.http?.dropped ?? []) {
      ctx.diagnose('warning', 'RULE_DROPPED', `${d.problem.reason}: ${d.problem.message}`, route, `spec.rules[${d.ruleIndex}]`);
    }
    const refs = work.http?.refs ?? work.l4?.refs;
    for (const p of refs?.problems ?? []) {
      ctx.diagnose('warning', 'BACKEND_UNRESOLVED', `${p.reason}: ${p.message}`, route);
    }
  }
}
