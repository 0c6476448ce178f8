/**
 * A latency histogram with log-linear buckets (the HDR histogram idea, without the dependency):
 * values are integer microseconds; each power-of-two range [2^e, 2^(e+1)) is split into
 * 2^SUB_BITS equal sub-buckets, so every recorded value is known to within 1/2^SUB_BITS (≈3%) of
 * its true value, from 1 µs up to ~1 hour, in a fixed array of counters. Recording is O(1) and
 * allocates nothing.
 */
const SUB_BITS = 5;
const SUB = 1 << SUB_BITS; // 32 sub-buckets per power of two
const MAX_EXP = 32; // 2^32 µs ≈ 71 minutes
const MAX_US = 2 ** MAX_EXP - 1;

function indexOf(us: number): number {
  if (us < SUB) return us; // values below 32 µs are exact
  const e = 31 - Math.clz32(us); // floor(log2)
  const shift = e - SUB_BITS;
  return (e - SUB_BITS + 1) * SUB + ((us >>> shift) - SUB);
}

/** The highest value of a bucket (what percentiles report: never an under-estimate). */
function upperOf(index: number): number {
  if (index < SUB) return index;
  const block = Math.floor(index / SUB) - 1; // = e - SUB_BITS
  const sub = index % SUB;
  return (SUB + sub + 1) * 2 ** block - 1;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array((MAX_EXP - SUB_BITS + 1) * SUB);
  count = 0;
  private sum = 0;
  minUs = Infinity;
  maxUs = 0;

  /** Record one latency in microseconds (fractions are rounded, negatives count as 0). */
  record(us: number): void {
    let v = Math.round(us);
    if (!(v > 0)) v = 0;
    if (v > MAX_US) v = MAX_US;
    this.counts[indexOf(v)]!++;
    this.count++;
    this.sum += v;
    if (v < this.minUs) this.minUs = v;
    if (v > this.maxUs) this.maxUs = v;
  }

  merge(other: LatencyHistogram): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.sum += other.sum;
    this.minUs = Math.min(this.minUs, other.minUs);
    this.maxUs = Math.max(this.maxUs, other.maxUs);
  }

  meanUs(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** The value at percentile `p` (0–100): the upper bound of its bucket, capped by the maximum seen. */
  percentileUs(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(upperOf(i), this.maxUs);
    }
    return this.maxUs;
  }

  /**
   * Counts per power-of-two range (`≤ leUs`), from the first non-empty range to the last: the coarse
   * shape for the text report and the JSON.
   */
  octaves(): { leUs: number; count: number }[] {
    const out: { leUs: number; count: number }[] = [];
    let acc = 0;
    let lastUpper = -1;
    for (let i = 0; i < this.counts.length; i++) {
      acc += this.counts[i]!;
      const up = upperOf(i);
      const next = i + 1 < this.counts.length ? upperOf(i + 1) : Infinity;
      // close a range at every power-of-two boundary (upper = 2^k - 1)
      if (Number.isInteger(Math.log2(up + 1)) || next === Infinity) {
        if (up > lastUpper) out.push({ leUs: up + 1, count: acc });
        lastUpper = up;
        acc = 0;
      }
    }
    const first = out.findIndex((b) => b.count > 0);
    let last = out.length - 1;
    while (last >= 0 && out[last]!.count === 0) last--;
    if (first < 0) return [];
    return out.slice(first, last + 1);
  }
}
