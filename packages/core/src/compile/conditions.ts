/** Building status conditions: one place for the shape, so every stage writes them the same way. */
import type { Condition } from './status.js';

export function condition(
  type: string,
  status: Condition['status'],
  reason: string,
  message: string,
  observedGeneration: number,
): Condition {
  return { type, status, reason, message, observedGeneration };
}

/** A reason and a human message: what a stage records before conditions are written. */
export interface Problem {
  reason: string;
  message: string;
}

/** Stages return `T | Problem`; a Problem is the only such shape with `reason` + `message` and no `type`. */
export function isProblem(x: object): x is Problem {
  return !Array.isArray(x) && !('type' in x) && 'reason' in x && 'message' in x;
}
