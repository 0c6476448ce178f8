/**
 * The StatusReport: conditions with the spec's types and reasons (features.md §11), messages meant
 * for a human, and `observedGeneration` = `metadata.generation` everywhere.
 */
import { condition } from './conditions.js';
import type { GatewayClassState, GatewayState, ListenerState } from './gateways.js';
import { listenerProgrammed } from './gateways.js';
import { nsName } from './rank.js';
import type { RouteWork } from './routing.js';
import type { Condition, GatewayStatus, ListenerStatus, RouteParentStatus, RouteStatus, StatusReport } from './status.js';

const ROUTE_KIND_ORDER = ['HTTPRoute', 'GRPCRoute', 'TLSRoute', 'TCPRoute', 'UDPRoute'];

export function buildStatusReport(
  classes: Map<string, GatewayClassState>,
  gateways: readonly GatewayState[],
  works: readonly RouteWork[],
  controllerName: string,
  defaultAddress: string | null = null,
): StatusReport {
  const gatewayClasses = [...classes.values()]
    .sort((a, b) => cmp(a.gatewayClass.metadata.name, b.gatewayClass.metadata.name))
    .map(({ gatewayClass, selected, problem }) => ({
      name: gatewayClass.metadata.name,
      controllerName: gatewayClass.spec.controllerName,
      conditions: [
        !selected
          ? condition('Accepted', 'Unknown', 'Pending', 'not handled by this instance (not selected by --gateway-class)', gatewayClass.metadata.generation)
          : problem
            ? condition('Accepted', 'False', problem.reason, `${problem.message}; Gateways of this class are not served`, gatewayClass.metadata.generation)
            : condition('Accepted', 'True', 'Accepted', 'Accepted: Gateways of this class are served', gatewayClass.metadata.generation),
      ],
    }));
  const gatewayStatuses = [...gateways].sort((a, b) => cmp(a.key, b.key)).map((gw) => gatewayStatus(gw, defaultAddress));
  const routes = [...works]
    .sort((a, b) => {
      const k = ROUTE_KIND_ORDER.indexOf(a.route.kind) - ROUTE_KIND_ORDER.indexOf(b.route.kind);
      return k !== 0 ? k : cmp(nsName(a.route), nsName(b.route));
    })
    .map((w) => routeStatus(w, controllerName));
  return { gatewayClasses, gateways: gatewayStatuses, routes };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------- gateways

function listenerValid(l: ListenerState): boolean {
  return l.notAccepted === null && l.conflict === null && l.refProblems.length === 0;
}

function gatewayStatus(gw: GatewayState, defaultAddress: string | null): GatewayStatus {
  const gen = gw.gateway.metadata.generation;
  const conditions: Condition[] = [];
  if (gw.notServed) {
    conditions.push(condition('Accepted', gw.notServed.status, gw.notServed.reason, gw.notServed.message, gen));
    const reason = gw.notServed.status === 'Unknown' ? 'Pending' : 'Invalid';
    conditions.push(condition('Programmed', gw.notServed.status, reason, gw.notServed.message, gen));
    return {
      name: gw.key,
      conditions,
      listeners: gw.listeners.map((l) => ({
        name: l.spec.name,
        supportedKinds: l.supportedKinds,
        attachedRoutes: l.attachedRoutes.size,
        conditions: [condition('Programmed', gw.notServed!.status, reason, `Gateway not served: ${gw.notServed!.message}`, gen)],
      })),
      addresses: [],
    };
  }
  const invalid = gw.listeners.filter((l) => !listenerValid(l));
  if (invalid.length === 0) {
    conditions.push(condition('Accepted', 'True', 'Accepted', 'Accepted', gen));
  } else {
    const names = invalid.map((l) => l.spec.name).join(', ');
    const someValid = invalid.length < gw.listeners.length;
    conditions.push(
      condition(
        'Accepted',
        someValid ? 'True' : 'False',
        'ListenersNotValid',
        someValid ? `Accepted, but some listeners are not valid: ${names}` : `no valid listener: ${names}`,
        gen,
      ),
    );
  }
  const programmed = gw.listeners.filter(listenerProgrammed);
  conditions.push(
    programmed.length > 0
      ? condition('Programmed', 'True', 'Programmed', `Programmed: ${programmed.length} of ${gw.listeners.length} listeners serve traffic`, gen)
      : condition('Programmed', 'False', 'Invalid', 'no listener can be programmed', gen),
  );
  // ResolvedRefs (experimental in the godoc): the Gateway's own refs (spec.tls client certificates,
  // not read by Gatehouse) plus a summary of its listeners' ResolvedRefs.
  const unresolved = gw.listeners.filter((l) => l.refProblems.length > 0);
  conditions.push(
    unresolved.length === 0
      ? condition('ResolvedRefs', 'True', 'ResolvedRefs', 'ResolvedRefs', gen)
      : condition(
          'ResolvedRefs',
          'False',
          'ListenersNotResolved',
          `listeners with unresolved references: ${unresolved.map((l) => `${l.spec.name} (${l.refProblems[0].reason})`).join(', ')}`,
          gen,
        ),
  );
  return {
    name: gw.key,
    conditions,
    listeners: gw.listeners.map((l) => listenerStatus(l, gen)),
    // `null` is the default bind address (`--bind`): reported when the caller says what it is.
    addresses: gw.notServed
      ? []
      : gw.addresses
          .map((a) => a ?? defaultAddress)
          .filter((a): a is string => a !== null)
          .map((value) => ({ type: 'IPAddress', value })),
  };
}

function listenerStatus(l: ListenerState, gen: number): ListenerStatus {
  const conditions: Condition[] = [];
  conditions.push(
    l.notAccepted
      ? condition('Accepted', 'False', l.notAccepted.reason, l.notAccepted.message, gen)
      : condition('Accepted', 'True', 'Accepted', 'Accepted', gen),
  );
  conditions.push(
    l.refProblems.length > 0
      ? condition('ResolvedRefs', 'False', l.refProblems[0].reason, l.refProblems.map((p) => p.message).join('; '), gen)
      : condition('ResolvedRefs', 'True', 'ResolvedRefs', 'ResolvedRefs', gen),
  );
  if (listenerProgrammed(l)) {
    conditions.push(condition('Programmed', 'True', 'Programmed', 'Programmed', gen));
  } else {
    const why = l.conflict ?? l.notAccepted ?? l.refProblems[0] ?? { message: 'no supported route kind' };
    conditions.push(condition('Programmed', 'False', 'Invalid', `not programmed: ${why.message}`, gen));
  }
  conditions.push(
    l.conflict
      ? condition('Conflicted', 'True', l.conflict.reason, l.conflict.message, gen)
      : condition('Conflicted', 'False', 'NoConflicts', 'No conflicts', gen),
  );
  if (l.overlapping) conditions.push(condition('OverlappingTLSConfig', 'True', l.overlapping.reason, l.overlapping.message, gen));
  return { name: l.spec.name, supportedKinds: l.supportedKinds, attachedRoutes: l.attachedRoutes.size, conditions };
}

// ---------------------------------------------------------------------------------------------- routes

function routeStatus(work: RouteWork, controllerName: string): RouteStatus {
  const route = work.route;
  const gen = route.metadata.generation;
  const refs = work.http?.refs ?? work.l4?.refs ?? { problems: [], statuses: [] };
  const dropped = work.http?.dropped ?? [];
  const ruleCount = route.spec.rules.length;
  const allDropped = ruleCount > 0 && dropped.length === ruleCount;
  const droppedMessage = dropped.map((d) => `rule ${d.ruleIndex}: ${d.problem.message}`).join('; ');

  const parents: RouteParentStatus[] = work.parents.map((p) => {
    const conditions: Condition[] = [];
    if (p.notAccepted) {
      conditions.push(condition('Accepted', p.notAccepted.status, p.notAccepted.reason, p.notAccepted.message, gen));
    } else if (allDropped) {
      // The first rule's reason (UnsupportedValue, or IncompatibleFilters); the message lists every rule.
      conditions.push(condition('Accepted', 'False', dropped[0].problem.reason, `every rule is invalid: ${droppedMessage}`, gen));
    } else {
      const listeners = p.attachments.map((a) => a.listener.spec.name).join(', ');
      let message = `Accepted by listeners ${listeners}`;
      if (work.shadowed.length > 0) message += `; not serving: ${work.shadowed.join('; ')}`;
      conditions.push(condition('Accepted', 'True', 'Accepted', message, gen));
    }
    conditions.push(
      refs.problems.length > 0
        ? condition('ResolvedRefs', 'False', refs.problems[0].reason, refs.problems.map((x) => x.message).join('; '), gen)
        : condition('ResolvedRefs', 'True', 'ResolvedRefs', 'all references resolved', gen),
    );
    if (dropped.length > 0 && !allDropped) {
      conditions.push(condition('PartiallyInvalid', 'True', 'UnsupportedValue', `Dropped Rule(s): ${droppedMessage}`, gen));
    }
    return { parentRef: p.parentRef, controllerName, conditions };
  });
  return { kind: route.kind, name: nsName(route), parents, backends: refs.statuses };
}
