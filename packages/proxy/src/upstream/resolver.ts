import { lookup } from 'node:dns/promises';
import type { BackendIR, RoutingTable } from '@gatehouse/core';
import type { BackendResolver, Logger, ResolvedEndpoint } from '../api.js';
import type { OutlierOptions } from '../limits.js';
import { OutlierDetector, type HealthState } from './health.js';

/** How long an endpoint that refused a connection is skipped while others are available. */
const DOWN_MS = 5_000;

class Endpoint implements ResolvedEndpoint, HealthState {
  downUntil = 0;
  // passive health (upstream/health.ts)
  consecutive = 0;
  ejectedUntil = 0;
  ejections = 0;
  constructor(
    readonly address: string,
    readonly port: number,
    readonly unix: boolean,
    readonly key: string,
  ) {}
}

function endpointKey(address: string, port: number, unix: boolean): string {
  if (unix) return address;
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

interface DnsEntry {
  name: string;
  addresses: string[];
  /** Bumped on every change of `addresses`, so backends rebuild their endpoint list lazily. */
  version: number;
  pending: Promise<void> | null;
  resolvedAt: number;
  error: string | null;
}

class BackendState {
  endpoints: Endpoint[] = [];
  next = 0;
  /** Sum of the versions of the DNS entries the list was built from. */
  builtFrom = -1;
  constructor(
    readonly statics: Endpoint[],
    readonly names: { entry: DnsEntry; port: number }[],
  ) {
    if (names.length === 0) {
      this.endpoints = statics;
      this.builtFrom = 0;
    }
  }
}

export interface ResolverOptions {
  /** Re-resolution period for `dns: true` endpoints (default 30 s). */
  refreshMs?: number;
  logger?: Logger;
  /** Injectable for tests: all addresses of a name. */
  lookupAll?: (name: string) => Promise<string[]>;
  /** Outlier detection (passive health); defaults as in limits.ts. */
  outlier?: OutlierOptions;
}

async function defaultLookupAll(name: string): Promise<string[]> {
  const all = await lookup(name, { all: true, order: 'ipv4first' });
  return all.map((a) => a.address);
}

/**
 * The default BackendResolver: static endpoints, `dns: true` names resolved with `dns.lookup(all)`,
 * cached, re-resolved every `refreshMs` and after a connect error, and unix sockets. Endpoints are
 * round-robined; one that refused a connection is skipped for a few seconds while others remain.
 * `prepare(table)` (called by the Runtime before a swap) starts resolution so the first requests find
 * addresses; a name still unresolved at pick time answers as "no endpoint" (503) and resolves meanwhile.
 */
export class DefaultBackendResolver implements BackendResolver {
  readonly #states = new WeakMap<BackendIR, BackendState>();
  readonly #dns = new Map<string, DnsEntry>();
  readonly #refreshMs: number;
  readonly #lookupAll: (name: string) => Promise<string[]>;
  readonly #logger: Logger | undefined;
  #timer: NodeJS.Timeout | null = null;
  #inUse = new Set<string>();
  readonly outlier: OutlierDetector;

  constructor(options: ResolverOptions = {}) {
    this.#refreshMs = options.refreshMs ?? 30_000;
    this.#lookupAll = options.lookupAll ?? defaultLookupAll;
    this.#logger = options.logger;
    this.outlier = new OutlierDetector(options.outlier);
    this.outlier.onEject = (ep, ms) => this.#logger?.warn('endpoint ejected (outlier detection)', { endpoint: ep.key, ejectedMs: ms });
  }

  /** Builds state for every backend of the table and resolves its names (waits up to `waitMs`). */
  async prepare(table: RoutingTable, waitMs = 2_000): Promise<void> {
    const inUse = new Set<string>();
    const pending: Promise<void>[] = [];
    for (const b of table.backends) {
      const st = this.#state(b);
      for (const n of st.names) {
        inUse.add(n.entry.name);
        if (n.entry.resolvedAt === 0) pending.push(this.#resolve(n.entry));
      }
    }
    this.#inUse = inUse;
    for (const name of this.#dns.keys()) if (!inUse.has(name)) this.#dns.delete(name);
    if (inUse.size > 0 && this.#timer === null) {
      this.#timer = setInterval(() => this.#refreshAll(), this.#refreshMs);
      this.#timer.unref();
    }
    if (pending.length > 0) {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled(pending),
        new Promise<void>((r) => {
          t = setTimeout(r, waitMs);
          t.unref();
        }),
      ]);
      clearTimeout(t);
    }
  }

  pick(backend: BackendIR): ResolvedEndpoint | null {
    const st = this.#state(backend);
    if (st.names.length > 0) this.#refreshList(st);
    const list = st.endpoints;
    const n = list.length;
    if (n === 0) return null;
    if (n === 1) return list[0];
    const now = Date.now();
    for (let i = 0; i < n; i++) {
      const ep = list[st.next];
      st.next = st.next + 1 === n ? 0 : st.next + 1;
      if (ep.downUntil <= now && ep.ejectedUntil <= now) return ep;
    }
    // every endpoint is down or ejected: prefer one that is not ejected, else any (round-robin)
    for (let i = 0; i < n; i++) {
      const ep = list[st.next];
      st.next = st.next + 1 === n ? 0 : st.next + 1;
      if (ep.ejectedUntil <= now) return ep;
    }
    const ep = list[st.next];
    st.next = st.next + 1 === n ? 0 : st.next + 1;
    return ep;
  }

  /**
   * `kind` `connect` (default): skipped for a few seconds and DNS re-resolved; every kind (5xx `status`,
   * `reset`, `timeout`) counts towards outlier ejection.
   */
  reportFailure(backend: BackendIR, endpoint: ResolvedEndpoint, kind: 'connect' | 'status' | 'reset' | 'timeout' = 'connect'): void {
    const st = this.#states.get(backend);
    if (endpoint instanceof Endpoint) {
      const now = Date.now();
      if (kind === 'connect') endpoint.downUntil = now + DOWN_MS;
      if (st !== undefined) this.outlier.failure(endpoint, st.endpoints, now);
    }
    if (st === undefined || kind !== 'connect') return;
    for (const n of st.names) if (n.entry.pending === null) void this.#resolve(n.entry);
  }

  reportSuccess(_backend: BackendIR, endpoint: ResolvedEndpoint): void {
    if (endpoint instanceof Endpoint) {
      if (endpoint.downUntil !== 0) endpoint.downUntil = 0;
      if (endpoint.consecutive !== 0) endpoint.consecutive = 0;
    }
  }

  close(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  #state(backend: BackendIR): BackendState {
    let st = this.#states.get(backend);
    if (st !== undefined) return st;
    const statics: Endpoint[] = [];
    const names: { entry: DnsEntry; port: number }[] = [];
    for (const e of backend.endpoints) {
      if (e.dns && !e.unix) {
        let entry = this.#dns.get(e.address);
        if (entry === undefined) {
          entry = { name: e.address, addresses: [], version: 1, pending: null, resolvedAt: 0, error: null };
          this.#dns.set(e.address, entry);
          void this.#resolve(entry);
        }
        names.push({ entry, port: e.port });
      } else {
        statics.push(new Endpoint(e.address, e.port, e.unix, endpointKey(e.address, e.port, e.unix)));
      }
    }
    st = new BackendState(statics, names);
    this.#states.set(backend, st);
    return st;
  }

  #refreshList(st: BackendState): void {
    let v = 0;
    for (const n of st.names) v += n.entry.version;
    if (v === st.builtFrom) return;
    const list = st.statics.slice();
    for (const n of st.names)
      for (const a of n.entry.addresses) list.push(new Endpoint(a, n.port, false, endpointKey(a, n.port, false)));
    st.endpoints = list;
    st.builtFrom = v;
    if (st.next >= list.length) st.next = 0;
  }

  #resolve(entry: DnsEntry): Promise<void> {
    if (entry.pending !== null) return entry.pending;
    entry.pending = this.#lookupAll(entry.name).then(
      (addrs) => {
        entry.pending = null;
        entry.resolvedAt = Date.now();
        entry.error = null;
        const sorted = [...new Set(addrs)].sort();
        if (sorted.join(',') !== entry.addresses.join(',')) {
          entry.addresses = sorted;
          entry.version++;
        }
      },
      (err: unknown) => {
        entry.pending = null;
        entry.resolvedAt = Date.now();
        entry.error = (err as Error).message;
        this.#logger?.warn('dns resolution failed', { name: entry.name, error: entry.error });
        // keep the last good addresses
      },
    );
    return entry.pending;
  }

  #refreshAll(): void {
    for (const name of this.#inUse) {
      const e = this.#dns.get(name);
      if (e !== undefined) void this.#resolve(e);
    }
  }
}
