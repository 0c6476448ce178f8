import type { FieldPath, RawDocument } from '../../src/index.js';
import { formatPath } from '../../src/index.js';

/** In-memory documents for decode tests: `locate` answers line = document order, col = path depth + 1. */
export function docs(...values: unknown[]): RawDocument[] {
  return values.map((value, i) => ({
    file: 'test.yaml',
    index: i,
    order: i,
    value,
    locate: (p: FieldPath) => ({ file: 'test.yaml', line: i + 1, col: p.length + 1 }),
  }));
}

export const GW = 'gateway.networking.k8s.io/v1';
export const X = 'networking.x-k8s.io/v1alpha1';

export function route(spec: unknown, name = 'r', extra: Record<string, unknown> = {}) {
  return { apiVersion: GW, kind: 'HTTPRoute', metadata: { name, ...extra }, spec };
}

export function gateway(listeners: unknown[], name = 'gw') {
  return { apiVersion: GW, kind: 'Gateway', metadata: { name }, spec: { gatewayClassName: 'gatehouse', listeners } };
}

export { formatPath };
