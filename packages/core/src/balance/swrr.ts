/**
 * Smooth weighted round-robin, as nginx defines it (ngx_http_upstream_get_peer): every pick adds each
 * weight to its current value, takes the largest (the first on a tie), and subtracts the total from the
 * winner. 5:1:1 gives a a b a c a a. Weight 0 is never picked; all zero → -1.
 *
 * Over any window of `sum(weights)` consecutive picks each item is picked exactly `weight` times, and
 * the picks are spread out rather than bunched (unlike plain weighted round-robin).
 *
 * State lives in typed arrays and `next()` allocates nothing: it runs once per request.
 *
 * The sequence is periodic: after `sum(weights)` picks every current value is back to 0. So when the
 * weights are integers and the period is small (≤ 65,536 picks, ≤ 4M steps to compute), the whole
 * period is computed once at construction and `next()` is O(1) — an array read — instead of nginx's
 * O(backends) scan (benchmarks/README.md: 256 backends, ~500 ns → a few ns). Otherwise `next()` runs
 * the scan. Either way the picks are exactly nginx's.
 */
const MAX_CYCLE = 65_536;
const MAX_CYCLE_WORK = 4_000_000;

export class SmoothWeightedRoundRobin {
  /** Effective weights (negative, NaN and non-finite count as 0; fractions are kept). */
  readonly weights: Float64Array;
  private readonly current: Float64Array;
  /** Indices of the items with weight > 0: the only ones a pick looks at. */
  private readonly live: Int32Array;
  private readonly total: number;
  /** One full period of picks, when it is small enough to precompute. */
  private readonly cycle: Int32Array | null;
  private pos = 0;

  constructor(weights: readonly number[]) {
    const n = weights.length;
    this.weights = new Float64Array(n);
    this.current = new Float64Array(n);
    let live = 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const w = weights[i]!;
      const v = Number.isFinite(w) && w > 0 ? w : 0;
      this.weights[i] = v;
      if (v > 0) live++;
      total += v;
    }
    this.live = new Int32Array(live);
    for (let i = 0, k = 0; i < n; i++) if (this.weights[i]! > 0) this.live[k++] = i;
    this.total = total;
    this.cycle = null;
    const integral = this.weights.every((x) => Number.isInteger(x));
    if (live > 1 && integral && total <= MAX_CYCLE && total * live <= MAX_CYCLE_WORK) {
      const cycle = new Int32Array(total);
      for (let k = 0; k < total; k++) cycle[k] = this.scan();
      this.current.fill(0); // a full period brings every current value back to 0 anyway
      this.cycle = cycle;
    }
  }

  get size(): number {
    return this.weights.length;
  }

  /** Index of the next item, or -1 when every weight is 0. No allocation. */
  next(): number {
    const cycle = this.cycle;
    if (cycle !== null) {
      const p = this.pos;
      this.pos = p + 1 === cycle.length ? 0 : p + 1;
      return cycle[p]!;
    }
    const n = this.live.length;
    if (n === 0) return -1;
    if (n === 1) return this.live[0]!;
    return this.scan();
  }

  /** nginx's step: add weights, take the largest (first on ties), subtract the total from it. */
  private scan(): number {
    const live = this.live;
    const n = live.length;
    const cur = this.current, w = this.weights;
    let best = -1;
    let bestValue = -Infinity;
    for (let k = 0; k < n; k++) {
      const i = live[k]!;
      const v = cur[i]! + w[i]!;
      cur[i] = v;
      if (v > bestValue) {
        bestValue = v;
        best = i;
      }
    }
    cur[best] = bestValue - this.total;
    return best;
  }

  /**
   * Like `next()`, over only the items for which `usable(i)` is true (nginx skips peers that are down
   * the same way: they take no part in the round, and the total is that of the usable ones). -1 when no
   * usable item has a weight. Pass a long-lived function to keep this allocation-free.
   * It keeps its own position, separate from `next()`'s: use one of the two per balancer.
   */
  nextUsable(usable: (index: number) => boolean): number {
    const live = this.live;
    const cur = this.current, w = this.weights;
    let best = -1;
    let bestValue = -Infinity;
    let total = 0;
    for (let k = 0; k < live.length; k++) {
      const i = live[k]!;
      if (!usable(i)) continue;
      const v = cur[i]! + w[i]!;
      cur[i] = v;
      total += w[i]!;
      if (v > bestValue) {
        bestValue = v;
        best = i;
      }
    }
    if (best >= 0) cur[best] = bestValue - total;
    return best;
  }

  /** Forget the position (the next picks start the sequence again). */
  reset(): void {
    this.current.fill(0);
    this.pos = 0;
  }
}

/**
 * Plain round-robin over `count` endpoints (the endpoints of one backend), optionally skipping the ones
 * a predicate rejects (unhealthy, ejected). Allocation-free.
 */
export class EndpointPicker {
  private cursor = 0;
  constructor(readonly count: number) {}

  /** Next endpoint index, or -1 when there are none (or none is usable). */
  next(usable?: (index: number) => boolean): number {
    const n = this.count;
    if (n <= 0) return -1;
    for (let tries = 0; tries < n; tries++) {
      const i = this.cursor;
      this.cursor = i + 1 === n ? 0 : i + 1;
      if (usable === undefined || usable(i)) return i;
    }
    return -1;
  }
}
