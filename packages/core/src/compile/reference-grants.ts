/**
 * ReferenceGrant (features.md §8): a cross-namespace reference is allowed only when a grant in the
 * TARGET namespace lists the referring object's group, kind and namespace in `from` and the target's
 * group, kind and (when set) name in `to`. Every field must agree; grants are additive.
 * Route → Gateway parentRefs never need one (they go through allowedRoutes).
 */
import type { ReferenceGrant } from '../resources/types.js';

export interface ReferenceFrom {
  group: string;
  kind: string;
  namespace: string;
}
export interface ReferenceTo {
  group: string;
  kind: string;
  namespace: string;
  name: string;
}

export function referenceAllowed(grants: readonly ReferenceGrant[], from: ReferenceFrom, to: ReferenceTo): boolean {
  if (from.namespace === to.namespace) return true;
  for (const grant of grants) {
    if (grant.metadata.namespace !== to.namespace) continue;
    const fromOk = grant.spec.from.some(
      (f) => f.group === from.group && f.kind === from.kind && f.namespace === from.namespace,
    );
    if (!fromOk) continue;
    const toOk = grant.spec.to.some(
      (t) => t.group === to.group && t.kind === to.kind && (t.name === undefined || t.name === '' || t.name === to.name),
    );
    if (toOk) return true;
  }
  return false;
}
