/**
 * Reading the compiled table the way a client of the Gateway would: which socket serves a listener
 * (after the runner's port remapping), which Host header to send, and which backends resolved to ports
 * no echo pod listens on (the usual cause of a wall of 502s).
 */
import type { RequestSpec } from './cases.js';
import type { Target } from './client.js';
import type { K8sObject } from './manifests.js';
import type { RoutingTable } from './product-types.js';

/**
 * Backends the product resolved from the runner's EndpointSlices to an address/port that no slice lists:
 * the usual cause is reading the Service's targetPort instead of the EndpointSlice port (the slice port is
 * what the endpoints listen on; it is matched to the Service port by name, "" for an unnamed port).
 */
export function endpointHints(table: RoutingTable, slices: readonly K8sObject[]): string[] {
  const out: string[] = [];
  for (const b of table.backends) {
    if (b.resolution !== 'EndpointSlice') continue;
    const m = /^Service ([^/]+)\/([^:]+):(\d+)/.exec(b.id);
    if (!m) continue;
    const mine = slices.filter((s) => s.metadata?.namespace === m[1] && s.metadata?.labels?.['kubernetes.io/service-name'] === m[2]);
    if (!mine.length) continue;
    const ports = new Set(mine.flatMap((s) => ((s as { ports?: { port: number }[] }).ports ?? []).map((p) => p.port)));
    const wrong = b.endpoints.filter((e) => !ports.has(e.port));
    if (wrong.length) {
      out.push(`${b.id} resolved to ${wrong.map((e) => `${e.address}:${e.port}`).join(', ')} but its EndpointSlice lists port(s) ${[...ports].join(', ')} (a slice port is matched to the Service port by name, "" for an unnamed one, and its number is what the endpoint listens on)`);
    }
    if (!b.endpoints.length) out.push(`${b.id} resolved to no endpoints although its EndpointSlice has a ready one`);
  }
  return out;
}

export type TargetResolution = { ok: true; target: Target; host: string; certificateRef?: { namespace: string; name: string } } | { ok: false; error: string; unbound?: boolean };

/** The gateway listener a request goes to, its real (bound) port, and the Host header to send. */
export function resolveTarget(table: RoutingTable, bound: Map<string, number>, objects: K8sObject[], spec: RequestSpec): TargetResolution {
  const [ns, name] = spec.gateway.split('/') as [string, string];
  const gw = objects.find((o) => o.kind === 'Gateway' && o.metadata?.name === name && o.metadata?.namespace === ns);
  const listeners = (gw?.spec?.listeners ?? []) as {
    name?: string;
    port?: number;
    protocol?: string;
    tls?: { mode?: string; certificateRefs?: { name?: string; namespace?: string }[] };
  }[];
  const listenerName = spec.listener ?? listeners[0]?.name;
  if (!listenerName) return { ok: false, error: `Gateway ${spec.gateway} not found in the manifests` };
  const id = `${spec.gateway}/${listenerName}`;
  const make = (key: string, manifestPort: number, protocol: string): TargetResolution => {
    const port = bound.get(key);
    if (port === undefined) return { ok: false, error: `listener ${id} is in the table (port key ${key}) but the runtime reports no bound port for it` };
    const tls = protocol === 'HTTPS' || protocol === 'TLS';
    const defaultPort = tls ? 443 : 80;
    const host = spec.host || (manifestPort === defaultPort ? '127.0.0.1' : `127.0.0.1:${manifestPort}`);
    const hostOnly = host.replace(/:\d+$/, '');
    const target: Target = { port, tls };
    if (tls) {
      const sni = spec.sni ?? (/^[\d.]+$/.test(hostOnly) ? undefined : hostOnly);
      if (sni !== undefined) target.sni = sni;
    }
    if (spec.http2) target.http2 = true;
    // The certificate an HTTPS (terminating) listener must serve for a request with SNI.
    const ml = listeners.find((x) => x.name === listenerName);
    const ref = ml?.tls?.certificateRefs?.[0];
    if (tls && target.sni !== undefined && protocol === 'HTTPS' && ref?.name) {
      return { ok: true, target, host, certificateRef: { namespace: ref.namespace ?? ns, name: ref.name } };
    }
    return { ok: true, target, host };
  };
  for (const p of table.ports) {
    const l = p.listeners.find((x) => x.id === id);
    if (l) return make(p.key, l.port, l.protocol);
  }
  // The listener itself is not programmed: like a client of the Gateway address, connect to whatever
  // serves the listener's port (another listener may share the socket), so "rejected" can be observed.
  const ml = listeners.find((x) => x.name === listenerName);
  // With isolated Gateways (socket keys end in `#ns/name`) only this Gateway's own sockets count, as with
  // its own address on a cluster.
  const isolated = table.ports.some((p) => p.key.includes('#'));
  const shared =
    ml?.port === undefined
      ? undefined
      : table.ports.find(
          (p) => p.transport === 'tcp' && (!isolated || p.key.endsWith(`#${spec.gateway}`)) && p.listeners.some((x) => x.port === ml.port),
        );
  if (shared && ml) return make(shared.key, ml.port!, ml.protocol ?? 'HTTP');
  return { ok: false, error: `listener ${id} is not in the compiled table (not programmed)`, unbound: true };
}
