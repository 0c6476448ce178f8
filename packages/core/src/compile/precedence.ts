/**
 * HTTPRoute/GRPCRoute match precedence — the one place it is defined (features.md §9.1, §9.5; GRPCRoute
 * §8). compile sorts every group's entries with `compareHttpEntries`; the trie matcher relies on that
 * order, and the linear reference matcher applies the comparator to the matching candidates.
 *
 * Order (first difference wins):
 *  1. hostname: an exact hostname before any wildcard; longer before shorter (`*` last);
 *  2. path type: Exact, then RegularExpression, then PathPrefix
 *     (gRPC: method matches come before plain path matches, and compare by service characters, then
 *     method characters);
 *  3. PathPrefix: more characters first (a trailing `/` not counted); regex: longer pattern first;
 *  4. a method match before none;
 *  5. more header matches;
 *  6. more query-param matches;
 *  7. route age rank, then rule index (both encoded in `rule`, see ir/types.ts), then match index.
 */
import type { HttpMatchEntry } from '../ir/types.js';

const PATH_RANK = { Exact: 0, RegularExpression: 1, PathPrefix: 2 } as const;

export function hostnameRank(hostname: string): [wildcard: number, length: number] {
  if (hostname === '*') return [1, 0];
  return hostname.startsWith('*.') ? [1, hostname.length - 1] : [0, hostname.length];
}

/** Characters of a PathPrefix value for precedence: the trailing `/` is not counted (`/foo/` ≡ `/foo`). */
export function prefixLength(value: string): number {
  return value.length > 1 && value.endsWith('/') ? value.length - 1 : value.length;
}

/** hostnameRank's first element without the array (the comparator runs n log n times per group). */
function hostWildcard(hostname: string): number {
  return hostname === '*' || hostname.startsWith('*.') ? 1 : 0;
}

/** hostnameRank's second element without the array. */
function hostLength(hostname: string): number {
  return hostname === '*' ? 0 : hostname.startsWith('*.') ? hostname.length - 1 : hostname.length;
}

export function compareHttpEntries(a: HttpMatchEntry, b: HttpMatchEntry): number {
  if (a.hostname !== b.hostname) {
    const aw = hostWildcard(a.hostname), bw = hostWildcard(b.hostname);
    if (aw !== bw) return aw - bw;
    const al = hostLength(a.hostname), bl = hostLength(b.hostname);
    if (al !== bl) return bl - al;
  }

  // A gRPC method match and a plain path match are ranked on different scales (characters of
  // service/method vs path type and length). Mixing the two scales pairwise is not a total order
  // (A<B<C<A cycles when a GRPCRoute and an HTTPRoute share a hostname), so gRPC method matches come
  // first as a class: they are also the more specific ones (they require content-type application/grpc).
  const ag = a.grpcMethod ? 0 : 1, bg = b.grpcMethod ? 0 : 1;
  if (ag !== bg) return ag - bg;
  if (a.grpcMethod && b.grpcMethod) {
    const as = a.grpcMethod.service?.length ?? 0, bs = b.grpcMethod.service?.length ?? 0;
    if (as !== bs) return bs - as;
    const am = a.grpcMethod.method?.length ?? 0, bm = b.grpcMethod.method?.length ?? 0;
    if (am !== bm) return bm - am;
  } else {
    const ar = PATH_RANK[a.path.type], br = PATH_RANK[b.path.type];
    if (ar !== br) return ar - br;
    if (a.path.type === 'PathPrefix' || a.path.type === 'RegularExpression') {
      const la = a.path.type === 'PathPrefix' ? prefixLength(a.path.value) : a.path.value.length;
      const lb = b.path.type === 'PathPrefix' ? prefixLength(b.path.value) : b.path.value.length;
      if (la !== lb) return lb - la;
    }
    const am = a.method ? 0 : 1, bm = b.method ? 0 : 1;
    if (am !== bm) return am - bm;
  }
  if (a.headers.length !== b.headers.length) return b.headers.length - a.headers.length;
  if (a.queryParams.length !== b.queryParams.length) return b.queryParams.length - a.queryParams.length;
  if (a.rule !== b.rule) return a.rule - b.rule;
  return a.matchIndex - b.matchIndex;
}
