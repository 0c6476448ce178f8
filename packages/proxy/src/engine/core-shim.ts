/**
 * The matcher, path/host normalisation and balancer from @gatehouse/core, bound in one place so the
 * engine's imports say what it uses from core.
 */
import { SmoothWeightedRoundRobin } from '@gatehouse/core';

export { buildPortMatcher, normalizeHost, normalizePath } from '@gatehouse/core';

export interface Balancer {
  next(): number;
}

/** Smooth weighted round-robin over backendRef weights (weight 0 never; all zero → -1). */
export function newBalancer(weights: readonly number[]): Balancer {
  return new SmoothWeightedRoundRobin(weights as number[]);
}
