/**
 * Human descriptions of routing-table pieces, shared by `gatehouse explain`, `gatehouse routes` users and
 * the dashboard, so every view says the same thing about a rule.
 */
import type { BackendRefIR, FilterIR } from './types.js';

export interface BackendShare {
  name: string;
  weight: number;
  /** Percentage of the rule's traffic (0–100, two decimals). */
  share: number;
  /** Why this ref answers 500 instead of reaching a backend, else null. */
  invalid: string | null;
}

/** Each backendRef's share of its rule's traffic (weight 0 → 0 %; all zero → every share 0). */
export function backendShares(refs: readonly BackendRefIR[]): BackendShare[] {
  const total = refs.reduce((s, r) => s + Math.max(0, r.weight), 0);
  return refs.map((r) => ({
    name: r.name,
    weight: r.weight,
    share: total > 0 ? Math.round((Math.max(0, r.weight) / total) * 10000) / 100 : 0,
    invalid: r.backend < 0 ? (r.invalidReason ?? 'invalid') : null,
  }));
}

/** One line per filter, e.g. `RequestRedirect 301 ReplacePrefixMatch=/blog`. */
export function describeFilter(f: FilterIR): string {
  switch (f.type) {
    case 'RequestRedirect':
      return `RequestRedirect ${f.statusCode}${f.scheme ? ` scheme=${f.scheme}` : ''}${f.hostname ? ` hostname=${f.hostname}` : ''}${f.port ? ` port=${f.port}` : ''}${f.path ? ` ${f.path.type}=${f.path.value}` : ''}`;
    case 'URLRewrite':
      return `URLRewrite${f.hostname ? ` hostname=${f.hostname}` : ''}${f.path ? ` ${f.path.type}=${f.path.value}` : ''}`;
    case 'RequestHeaderModifier':
    case 'ResponseHeaderModifier':
      return `${f.type} set=${f.ops.set.length} add=${f.ops.add.length} remove=${f.ops.remove.length}`;
    case 'RequestMirror':
      return `RequestMirror backend #${f.backend} ${Math.round(f.fraction * 100)}%`;
    case 'CORS':
      return `CORS origins=${f.allowOrigins.join(',') || '-'}`;
    case 'Unsupported':
      return `Unsupported (${f.reason}) → 500`;
  }
}
