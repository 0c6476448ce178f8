/**
 * Status assertions of the upstream suite (kubernetes/helpers.go, re-expressed) against the product's
 * StatusReport: listener lists (same count, found by name; expected supportedKinds included in the actual
 * ones; attachedRoutes; the listed conditions),
 * Gateway conditions, route parent statuses (matched by parentRef, controllerName, conditions), and
 * "no accepted parents".
 */
import type { Condition, StatusReport } from '@gatehouse/core';
import type { ConditionExpectation, StatusExpectation } from './cases.js';
import type { Mismatch } from './compare.js';

const GW_GROUP = 'gateway.networking.k8s.io';

export function describeConditions(cs: readonly Condition[]): string {
  return cs.length ? cs.map((c) => `${c.type}=${c.status}(${c.reason})`).join(', ') : '(no conditions)';
}

function fmtExpected(e: ConditionExpectation): string {
  return `${e.type}=${e.status}${e.reason ? `(${e.reason})` : ''}`;
}

function conditionMismatch(where: string, expected: readonly ConditionExpectation[], actual: readonly Condition[]): Mismatch | null {
  for (const e of expected) {
    const a = actual.find((c) => c.type === e.type);
    if (!a || a.status !== e.status || (e.reason !== null && a.reason !== e.reason)) {
      return { what: `${where} condition ${e.type}`, expected: fmtExpected(e), got: describeConditions(actual) };
    }
  }
  return null;
}

/** Every condition must report `generation` (upstream ConditionsHaveLatestObservedGeneration). */
function generationMismatch(where: string, generation: number | undefined, actual: readonly Condition[]): Mismatch | null {
  if (generation === undefined) return null;
  const stale = actual.filter((c) => c.observedGeneration !== generation);
  if (!stale.length && actual.length) return null;
  return {
    what: `${where} observedGeneration`,
    expected: `${generation} on every condition`,
    got: actual.length ? actual.map((c) => `${c.type}=${c.observedGeneration}`).join(', ') : '(no conditions)',
  };
}

/** All mismatches (not just the first): status problems are cheap to list and each is actionable. */
export function checkStatus(report: StatusReport, exp: StatusExpectation, controllerName: string): Mismatch[] {
  const out: Mismatch[] = [];
  for (const ce of exp.gatewayClasses ?? []) {
    const gc = report.gatewayClasses.find((c) => c.name === ce.name);
    if (!gc) {
      out.push({ what: `GatewayClass ${ce.name}`, expected: 'present in the status report', got: `absent (classes: ${report.gatewayClasses.map((c) => c.name).join(', ') || 'none'})` });
      continue;
    }
    const m = conditionMismatch(`GatewayClass ${ce.name}`, ce.conditions ?? [], gc.conditions);
    if (m) out.push(m);
    const g = generationMismatch(`GatewayClass ${ce.name}`, ce.observedGeneration, gc.conditions);
    if (g) out.push(g);
  }
  for (const ge of exp.gateways ?? []) {
    const gw = report.gateways.find((g) => g.name === ge.name);
    if (!gw) {
      out.push({ what: `Gateway ${ge.name}`, expected: 'present in the status report', got: `absent (gateways: ${report.gateways.map((g) => g.name).join(', ') || 'none'})` });
      continue;
    }
    const m = conditionMismatch(`Gateway ${ge.name}`, ge.conditions ?? [], gw.conditions);
    if (m) out.push(m);
    const g = generationMismatch(`Gateway ${ge.name}`, ge.observedGeneration, [...gw.conditions, ...gw.listeners.flatMap((l) => l.conditions)]);
    if (g) out.push(g);
    if (ge.hasAddress && !gw.addresses.some((a) => a.value)) {
      out.push({ what: `Gateway ${ge.name} status.addresses`, expected: 'at least one address with a value', got: JSON.stringify(gw.addresses) });
    }
    if (!ge.listeners) continue;
    const wantNames = ge.listeners.map((l) => l.name);
    const gotNames = gw.listeners.map((l) => l.name);
    if (wantNames.length !== gotNames.length || wantNames.some((n) => !gotNames.includes(n))) {
      out.push({ what: `Gateway ${ge.name} listeners`, expected: wantNames.join(', '), got: gotNames.join(', ') || '(none)' });
    }
    for (const le of ge.listeners) {
      const l = gw.listeners.find((x) => x.name === le.name);
      if (!l) continue;
      const where = `Gateway ${ge.name} listener ${le.name}`;
      if (le.attachedRoutes !== undefined && l.attachedRoutes !== le.attachedRoutes) {
        out.push({ what: `${where} attachedRoutes`, expected: String(le.attachedRoutes), got: String(l.attachedRoutes) });
      }
      if (le.supportedKinds !== undefined) {
        // As upstream: every expected kind must be supported (an implementation may support more kinds),
        // and an expected empty list means none.
        const got = l.supportedKinds.map((k) => (k.group === GW_GROUP || k.group === '' ? k.kind : `${k.group}/${k.kind}`)).sort();
        const missing = le.supportedKinds.filter((k) => !got.includes(k));
        if (missing.length || (le.supportedKinds.length === 0 && got.length > 0)) {
          out.push({ what: `${where} supportedKinds`, expected: le.supportedKinds.length ? `to include [${le.supportedKinds.join(', ')}]` : '[]', got: `[${got.join(', ')}]` });
        }
      }
      const cm = conditionMismatch(where, le.conditions ?? [], l.conditions);
      if (cm) out.push(cm);
    }
  }
  for (const re of exp.routes ?? []) {
    const route = report.routes.find((r) => r.kind === re.kind && r.name === re.name);
    const parents = route?.parents ?? [];
    if (re.observedGeneration !== undefined) {
      const g = route
        ? generationMismatch(`${re.kind} ${re.name}`, re.observedGeneration, parents.flatMap((p) => p.conditions))
        : { what: `${re.kind} ${re.name}`, expected: `conditions at observedGeneration ${re.observedGeneration}`, got: 'route absent from the status report' };
      if (g) out.push(g);
    }
    if (re.noAcceptedParents) {
      const accepted = parents.filter((p) => p.conditions.some((c) => c.type === 'Accepted' && c.status === 'True'));
      if (accepted.length) {
        out.push({
          what: `${re.kind} ${re.name}`,
          expected: 'no parent with Accepted=True',
          got: accepted.map((p) => `${p.parentRef.namespace}/${p.parentRef.name}${p.parentRef.sectionName ? `#${p.parentRef.sectionName}` : ''}: ${describeConditions(p.conditions)}`).join('; '),
        });
      }
    }
    for (const pe of re.parents ?? []) {
      const [ns, name] = pe.gateway.split('/') as [string, string];
      const p = parents.find(
        (x) =>
          x.parentRef.name === name &&
          (x.parentRef.namespace || route!.name.split('/')[0]) === ns &&
          (x.parentRef.sectionName ?? undefined) === pe.sectionName &&
          (pe.port === undefined || x.parentRef.port === pe.port),
      );
      const ref = `${pe.gateway}${pe.sectionName ? `#${pe.sectionName}` : ''}${pe.port ? `:${pe.port}` : ''}`;
      if (!route) {
        out.push({ what: `${re.kind} ${re.name}`, expected: `status for parent ${ref}`, got: 'route absent from the status report' });
        continue;
      }
      if (!p) {
        out.push({
          what: `${re.kind} ${re.name} parent ${ref}`,
          expected: 'a parent status entry',
          got: parents.map((x) => `${x.parentRef.namespace}/${x.parentRef.name}${x.parentRef.sectionName ? `#${x.parentRef.sectionName}` : ''}`).join(', ') || '(no parents)',
        });
        continue;
      }
      if (p.controllerName !== controllerName) {
        out.push({ what: `${re.kind} ${re.name} parent ${ref} controllerName`, expected: controllerName, got: p.controllerName });
      }
      const m = conditionMismatch(`${re.kind} ${re.name} parent ${ref}`, pe.conditions, p.conditions);
      if (m) out.push(m);
    }
  }
  return out;
}
