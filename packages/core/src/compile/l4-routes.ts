/**
 * TLSRoute, TCPRoute and UDPRoute → backendRefs. v1 allows exactly one rule; routes converted from
 * older versions may carry several, whose backendRefs are served together as one weighted list.
 * An unresolvable ref keeps its weight with `backend: -1` (the data plane rejects that share of
 * connections / drops that share of datagrams).
 */
import type { BackendRefIR } from '../ir/types.js';
import type { TCPRoute, TLSRoute, UDPRoute } from '../resources/types.js';
import { backendRefName, resolveBackendRef, type BackendRegistry } from './backends.js';
import type { CompileContext } from './context.js';
import { addStatus, type RefReport } from './filters.js';

export interface CompiledL4Route {
  route: TLSRoute | TCPRoute | UDPRoute;
  backendRefs: BackendRefIR[];
  refs: RefReport;
}

export function compileL4Route(ctx: CompileContext, route: TLSRoute | TCPRoute | UDPRoute, registry: BackendRegistry): CompiledL4Route {
  const out: CompiledL4Route = { route, backendRefs: [], refs: { problems: [], statuses: [] } };
  for (const rule of route.spec.rules) {
    for (const ref of rule.backendRefs) {
      const resolution = resolveBackendRef(ctx, route, ref, 'l4');
      addStatus(out.refs, resolution.status);
      if (!resolution.ok) out.refs.problems.push(resolution.problem);
      out.backendRefs.push({
        name: backendRefName(ref, route.metadata.namespace),
        weight: ref.weight,
        backend: resolution.ok ? registry.intern(resolution.backend) : -1,
        invalidReason: resolution.ok ? null : resolution.problem.reason,
        filters: [],
      });
    }
  }
  return out;
}
