/** Kubernetes label selectors (matchLabels AND every matchExpression), as used by allowedRoutes. */
import type { LabelSelector } from '../resources/types.js';

export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels)) {
    if (labels[key] !== value) return false;
  }
  for (const req of selector.matchExpressions) {
    const has = Object.prototype.hasOwnProperty.call(labels, req.key);
    const value = labels[req.key];
    switch (req.operator) {
      case 'In':
        if (!has || !req.values.includes(value)) return false;
        break;
      case 'NotIn':
        if (has && req.values.includes(value)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        // An operator decode did not know: select nothing rather than everything.
        return false;
    }
  }
  return true;
}
