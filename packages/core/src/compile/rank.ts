/**
 * Object age, for every "the oldest wins" rule (route precedence steps 6–7, Gateways sharing a port,
 * TCP/UDP routes sharing a port).
 *
 * YAML in a directory rarely carries `metadata.creationTimestamp`, so the order is:
 *  1. objects WITH a parseable creationTimestamp, oldest first (equal timestamps: `namespace/name`);
 *  2. then objects WITHOUT one, in load order (`source.order`: files sorted by path, then document
 *     index inside the file) — the document written first counts as the older;
 *  3. `namespace/name` breaks any remaining tie.
 */

interface Aged {
  kind: string;
  metadata: { namespace: string; name: string; creationTimestamp?: string };
  source: { order: number };
}

function timestampOf(o: Aged): number | null {
  const ts = o.metadata.creationTimestamp;
  if (!ts) return null;
  const ms = Date.parse(ts);
  return Number.isNaN(ms) ? null : ms;
}

export function nsName(o: { metadata: { namespace: string; name: string } }): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
}

/** Negative when `a` is older (ranks first). */
export function compareAge(a: Aged, b: Aged): number {
  const ta = timestampOf(a), tb = timestampOf(b);
  if (ta !== null && tb === null) return -1;
  if (ta === null && tb !== null) return 1;
  if (ta !== null && tb !== null && ta !== tb) return ta - tb;
  if (ta === null && tb === null && a.source.order !== b.source.order) return a.source.order - b.source.order;
  const na = nsName(a), nb = nsName(b);
  if (na !== nb) return na < nb ? -1 : 1;
  return a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0;
}

/** `objects` sorted oldest first (a copy). */
export function byAge<T extends Aged>(objects: readonly T[]): T[] {
  return [...objects].sort(compareAge);
}
