/**
 * Hostname matching and listener ↔ route intersection (features.md §9.1).
 *
 * A wildcard is only ever a whole leftmost label (`*.example.com`) and, unlike RFC 2818 certificate
 * wildcards, it covers ONE OR MORE labels: `*.example.com` covers `a.example.com` and
 * `a.b.example.com`, never `example.com` itself. A missing hostname behaves like `*` (everything).
 * All names are compared lowercased.
 */

export function isWildcard(hostname: string): boolean {
  return hostname.startsWith('*.');
}

/** Whether `pattern` (exact, `*.suffix` or `*`) covers the exact name `name`. */
export function hostnameCovers(pattern: string, name: string): boolean {
  if (pattern === '*') return true;
  if (!isWildcard(pattern)) return pattern === name;
  const suffix = pattern.slice(1); // `.example.com`
  return name.length > suffix.length && name.endsWith(suffix);
}

/**
 * The intersection of one listener hostname (null = any) with one route hostname, or null when they
 * do not intersect:
 *  - precise ∩ precise: equal names;
 *  - wildcard ∩ precise: the precise name, when the wildcard covers it;
 *  - wildcard ∩ wildcard: the more specific one, when one suffix contains the other;
 *  - `*` (no hostname) ∩ X = X.
 */
export function intersectHostname(listener: string | null, route: string): string | null {
  const l = listener === null ? '*' : listener.toLowerCase();
  const r = route.toLowerCase();
  if (l === '*') return r;
  if (r === '*') return l;
  const lw = isWildcard(l), rw = isWildcard(r);
  if (!lw && !rw) return l === r ? l : null;
  if (lw && !rw) return hostnameCovers(l, r) ? r : null;
  if (!lw && rw) return hostnameCovers(r, l) ? l : null;
  // Both wildcards: `*.a.example.com` ∩ `*.example.com` = `*.a.example.com`.
  if (l === r) return l;
  if (hostnameCovers(r, l.slice(2))) return l;
  if (hostnameCovers(l, r.slice(2))) return r;
  return null;
}

/**
 * The hostnames a route serves through a listener: every route hostname that intersects the
 * listener's, as intersected (in the route's order, duplicates removed). A route without hostnames
 * serves the listener's hostname (`*` when the listener has none). An empty result means the route
 * does not attach to this listener (`NoMatchingListenerHostname`).
 */
export function intersectHostnames(listener: string | null, routeHostnames: readonly string[]): string[] {
  if (routeHostnames.length === 0) return [listener === null ? '*' : listener.toLowerCase()];
  const out: string[] = [];
  for (const h of routeHostnames) {
    const i = intersectHostname(listener, h);
    if (i !== null && !out.includes(i)) out.push(i);
  }
  return out;
}

/** Whether two listener hostnames (null = any) can both match one request name (OverlappingTLSConfig). */
export function hostnamesOverlap(a: string | null, b: string | null): boolean {
  return intersectHostname(a, b === null ? '*' : b) !== null;
}

/**
 * Listener specificity order: exact names first, then wildcards with a longer suffix, then no
 * hostname. Returns a negative number when `a` is more specific. Equal ranks tie (0).
 */
export function compareListenerHostnames(a: string | null, b: string | null): number {
  const ra = hostnameSpecificity(a), rb = hostnameSpecificity(b);
  if (ra[0] !== rb[0]) return ra[0] - rb[0];
  return rb[1] - ra[1];
}

function hostnameSpecificity(h: string | null): [kind: number, length: number] {
  if (h === null || h === '*') return [2, 0];
  if (isWildcard(h)) return [1, h.length - 1];
  return [0, h.length];
}
