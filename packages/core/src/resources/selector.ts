import type { LabelSelector } from './types.js';

/** Kubernetes label-selector semantics. An empty selector matches everything. */
export function matchesLabelSelector(sel: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!sel) return true;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    switch (e.operator) {
      case 'In':
        if (!has || !e.values.includes(labels[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has && e.values.includes(labels[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

/** `app=foo,tier in (a,b)`: a selector as kubectl would print it. */
export function formatLabelSelector(sel: LabelSelector | undefined): string {
  if (!sel) return '<everything>';
  const parts = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
    else parts.push(`${e.key} ${e.operator === 'In' ? 'in' : 'notin'} (${e.values.join(',')})`);
  }
  return parts.length ? parts.join(',') : '<everything>';
}
