/**
 * Status the compiler cannot know: a socket the data plane failed to bind. Pure (the runtime passes the
 * failures in), so it lives in core next to the rest of the status model.
 *
 * For each failed port of the table:
 *  - a Gateway `spec.addresses` IP that cannot be bound on this machine (EADDRNOTAVAIL) → the Gateway
 *    is Programmed=False `AddressNotUsable` (spec: "a provided static address can't be used"), and the
 *    listeners on that socket are Programmed=False;
 *  - anything else (EADDRINUSE, EACCES on a privileged port, ...) → each listener on the socket is
 *    Accepted=False `PortUnavailable` and Programmed=False; the Gateway's Accepted becomes
 *    `ListenersNotValid` and its Programmed is recounted (False `Invalid` when no listener is left).
 * The report passed in is not modified: a new one is returned (the same object when nothing failed).
 */
import type { RoutingTable } from '../ir/types.js';
import type { Condition, GatewayStatus, StatusReport } from '../compile/status.js';

export interface BindFailure {
  /** PortIR.key. */
  key: string;
  /** The error message, shown in the condition. */
  error: string;
  /** errno code (`EADDRINUSE`, `EACCES`, `EADDRNOTAVAIL`); read from the message when absent. */
  code?: string;
}

export function withBindFailures(status: StatusReport, table: RoutingTable, failures: readonly BindFailure[]): StatusReport {
  if (failures.length === 0) return status;
  const gateways: GatewayStatus[] = status.gateways.map((g) => ({
    ...g,
    conditions: g.conditions.map((c) => ({ ...c })),
    listeners: g.listeners.map((l) => ({ ...l, conditions: l.conditions.map((c) => ({ ...c })) })),
  }));
  const byName = new Map(gateways.map((g) => [g.name, g]));
  const touched = new Set<GatewayStatus>();
  for (const failure of failures) {
    const port = table.ports.find((p) => p.key === failure.key);
    if (!port) continue;
    const code = errno(failure);
    const addressUnusable = port.address !== null && code === 'EADDRNOTAVAIL';
    for (const l of port.listeners) {
      const gw = byName.get(l.gateway);
      const ls = gw?.listeners.find((x) => x.name === l.name);
      if (!gw || !ls) continue;
      touched.add(gw);
      const gen = ls.conditions[0]?.observedGeneration ?? 1;
      if (addressUnusable) {
        set(gw.conditions, 'Programmed', 'False', 'AddressNotUsable',
          `spec.addresses ${port.address} cannot be bound on this machine (${failure.error}): use an address of one of its interfaces, or remove it to bind --bind`, gen);
        set(ls.conditions, 'Programmed', 'False', 'Invalid', `not programmed: address ${port.address} cannot be bound (${failure.error})`, gen);
        continue;
      }
      const why = code === 'EADDRINUSE' ? 'the port is already in use' : code === 'EACCES' ? 'permission denied (a port below 1024 needs privileges)' : 'the port cannot be bound';
      set(ls.conditions, 'Accepted', 'False', 'PortUnavailable', `${why}: ${port.key}: ${failure.error}`, gen);
      set(ls.conditions, 'Programmed', 'False', 'Invalid', `not programmed: ${port.key} could not be bound`, gen);
    }
  }
  for (const gw of touched) recountGateway(gw);
  return { ...status, gateways };
}

/** The errno code (`EADDRINUSE`): the one given when it is one, else the first in the message. */
function errno(failure: BindFailure): string {
  if (failure.code !== undefined && /^E[A-Z]+$/.test(failure.code)) return failure.code;
  return /\b(E[A-Z]{3,})\b/.exec(failure.error)?.[1] ?? '';
}

function set(list: Condition[], type: string, status: Condition['status'], reason: string, message: string, gen: number): void {
  const c: Condition = { type, status, reason, message, observedGeneration: gen };
  const i = list.findIndex((x) => x.type === type);
  if (i >= 0) list[i] = c;
  else list.push(c);
}

/** Gateway Accepted / Programmed after listeners changed (AddressNotUsable, once set, is kept). */
function recountGateway(gw: GatewayStatus): void {
  const isTrue = (cs: Condition[], type: string) => cs.find((c) => c.type === type)?.status === 'True';
  const gen = gw.conditions[0]?.observedGeneration ?? 1;
  const notAccepted = gw.listeners.filter((l) => !isTrue(l.conditions, 'Accepted'));
  const accepted = gw.conditions.find((c) => c.type === 'Accepted');
  if (notAccepted.length > 0 && accepted && accepted.status === 'True') {
    const all = notAccepted.length === gw.listeners.length;
    const names = notAccepted.map((l) => l.name).join(', ');
    set(gw.conditions, 'Accepted', all ? 'False' : 'True', 'ListenersNotValid',
      all ? `no valid listener: ${names}` : `Accepted, but some listeners are not valid: ${names}`, gen);
  }
  const programmed = gw.conditions.find((c) => c.type === 'Programmed');
  if (programmed?.reason === 'AddressNotUsable') return;
  const serving = gw.listeners.filter((l) => isTrue(l.conditions, 'Programmed')).length;
  set(gw.conditions, 'Programmed', serving > 0 ? 'True' : 'False', serving > 0 ? 'Programmed' : 'Invalid',
    serving > 0 ? `Programmed: ${serving} of ${gw.listeners.length} listeners serve traffic` : 'no listener is bound', gen);
}
