/** "did you mean" hints: the closest candidate by edit distance (Damerau: a swap counts as one edit). */

export function editDistance(a: string, b: string): number {
  const n = a.length, m = b.length;
  if (!n) return m;
  if (!m) return n;
  let prev2: number[] = [];
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  for (let i = 1; i <= n; i++) {
    const cur = [i];
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      cur.push(d);
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[m]!;
}

/** `did you mean "weight"?` when a candidate is close enough (case-insensitive match counts as close). */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const w = word.toLowerCase();
  for (const c of candidates) {
    const d = c.toLowerCase() === w ? 0 : editDistance(w, c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  if (best === undefined) return undefined;
  // `Prefix` for `PathPrefix`, `tcp` for `TCP`: a candidate that contains the word is a better guess.
  if (bestD > 0 && w.length >= 3) {
    const containing = candidates.filter((c) => c.toLowerCase().includes(w));
    if (containing.length === 1) return `did you mean ${JSON.stringify(containing[0])}?`;
  }
  const limit = Math.max(1, Math.min(3, Math.floor(Math.max(word.length, best.length) / 3)));
  return bestD <= limit ? `did you mean ${JSON.stringify(best)}?` : undefined;
}
