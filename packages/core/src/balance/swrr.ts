/**
 * Smooth weighted round-robin, as nginx defines it (ngx_http_upstream_get_peer): every pick adds each
 * weight to its current value, takes the largest, and subtracts the total from the winner.
 * 5:1:1 gives a a b a c a a. Weight 0 is never picked; all zero → -1.
 */
export class SmoothWeightedRoundRobin {
  constructor(weights: readonly number[]) {
    void weights;
    throw new Error('SmoothWeightedRoundRobin: not implemented yet');
  }
  /** Index of the next item, or -1 when every weight is 0. No allocation. */
  next(): number {
    return -1;
  }
}
