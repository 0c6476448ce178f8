/**
 * `metadata.generation` as the Kubernetes API server keeps it, for objects read from files.
 *
 * In a cluster the API server owns `metadata.generation`: 1 when an object is created, +1 on every change
 * to its spec (not to labels, annotations or status), and a controller writes it back as
 * `observedGeneration` on the conditions it reports. Files carry no counter, so the reload layer keeps one:
 *
 *  - first load of an object (kind + namespace + name): its `metadata.generation` when the file sets
 *    one, else 1 (the decoder's default);
 *  - every successful reload: an object whose content other than `metadata`/`status` changed (compared
 *    by a hash of its decoded, defaulted form, so moving it to another file or line, reformatting the
 *    YAML or editing a label does not count) gets generation + 1; a file that sets a higher
 *    `metadata.generation` wins (the counter never goes down while the object exists);
 *  - an object that disappears is forgotten: when it comes back it starts again at its file's value.
 *
 * The counters live for the life of the process (the primary's, with `--workers`: it compiles once and
 * ships table and status to every worker). A rejected reload changes nothing: `observe` only computes,
 * `commit` (called once the table is applied) makes the new counters current.
 *
 * core stays pure: compile() reads `metadata.generation` from the ResourceSet it is given, and this
 * module hands it a copy whose objects carry the tracked generation.
 */
import { createHash } from 'node:crypto';
import type { ResourceSet } from '@gatehouse/core';

interface Tracked {
  /** Hash of everything but metadata (and the loader's source position). */
  hash: string;
  /** `metadata.generation` as the file gives it (1 when absent). */
  fileGeneration: number;
  generation: number;
}

/** What `observe` computed for one load; pass it to `commit` once that config is serving. */
export interface ObservedGenerations {
  /** The loaded resources, each object's `metadata.generation` set to its tracked generation. */
  resources: ResourceSet;
  /** Objects whose generation went up compared with the serving config (`Kind ns/name`). */
  bumped: string[];
  readonly next: ReadonlyMap<string, Tracked>;
}

/** Keys of an object that are not its "spec" for generation purposes. */
const NOT_SPEC = new Set(['metadata', 'status', 'source', 'apiVersion', 'convertedFrom']);

/** JSON with object keys sorted, so equal content hashes equally whatever the key order. */
function stableJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  const keys = Object.keys(v as Record<string, unknown>)
    .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
}

export function specHash(o: Record<string, unknown>): string {
  const h = createHash('sha256');
  for (const k of Object.keys(o).sort()) {
    if (NOT_SPEC.has(k) || o[k] === undefined) continue;
    h.update(JSON.stringify(k));
    h.update(':');
    h.update(stableJson(o[k]));
    h.update(';');
  }
  return h.digest('base64url');
}

type AnyObject = { kind: string; metadata: { namespace: string; name: string; generation: number } } & Record<string, unknown>;

export class GenerationTracker {
  private current = new Map<string, Tracked>();

  /** The generation currently recorded for `Kind ns/name` (or `Kind name`), for tests and tools. */
  generationOf(kind: string, namespace: string, name: string): number | undefined {
    return this.current.get(key(kind, namespace, name))?.generation;
  }

  /** Computes generations for a freshly loaded config against the serving one; changes no state. */
  observe(resources: ResourceSet): ObservedGenerations {
    const next = new Map<string, Tracked>();
    const bumped: string[] = [];
    const out = {} as Record<string, unknown[]>;
    for (const [field, list] of Object.entries(resources) as [string, AnyObject[]][]) {
      if (!Array.isArray(list)) {
        out[field] = list;
        continue;
      }
      out[field] = list.map((o) => {
        const k = key(o.kind, o.metadata.namespace, o.metadata.name);
        const hash = specHash(o);
        const fileGeneration = o.metadata.generation;
        const prev = this.current.get(k);
        let generation = fileGeneration;
        if (prev) {
          generation = Math.max(fileGeneration, prev.generation + (prev.hash === hash ? 0 : 1));
          if (generation > prev.generation) bumped.push(k);
        }
        // A name given twice (a diagnostic elsewhere) keeps the first object's counter.
        if (!next.has(k)) next.set(k, { hash, fileGeneration, generation });
        else generation = next.get(k)!.generation;
        return generation === o.metadata.generation ? o : { ...o, metadata: { ...o.metadata, generation } };
      });
    }
    return { resources: out as unknown as ResourceSet, bumped, next };
  }

  /** Makes an observed config's generations the current ones (call once it is serving). */
  commit(observed: ObservedGenerations): void {
    this.current = new Map(observed.next);
  }
}

function key(kind: string, namespace: string, name: string): string {
  return namespace ? `${kind} ${namespace}/${name}` : `${kind} ${name}`;
}
