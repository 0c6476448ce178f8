/**
 * Echo backends for the Services the manifests name, and the EndpointSlices that point those Services
 * at them. There is no Kubernetes here, so the runner plays the part of the Deployment controller and
 * the EndpointSlice controller:
 *
 * - every Deployment the manifests declare becomes one echo "pod" (named like a real pod:
 *   `<deployment>-<hash>-<hash>`, so weight checks can strip the last two segments as upstream does),
 *   speaking what its env asks for (HTTP echo, h2c on 3001, HTTPS on 8443 with the mounted Secret,
 *   the TCP line protocol, gRPC…);
 * - every Service with a selector gets an EndpointSlice (label `kubernetes.io/service-name`) listing the
 *   pods of the Deployments it selects, with one port entry per Service port: the entry carries the
 *   Service port's `name` and the real local port of that pod's container port, which is exactly what
 *   Kubernetes writes (EndpointSlice ports are the endpoints' ports, matched to Service ports by name).
 *
 * All sockets are on 127.0.0.1 and free ports, so several runs can share a machine.
 */
import { createHash } from 'node:crypto';
import type { KeyPair } from './certs.js';
import { createEchoPod, LOOPBACK, type EchoPod, type EchoPortKind } from './echo.js';
import type { K8sObject } from './manifests.js';

interface ContainerEnv {
  name?: string;
  value?: string;
}

interface DeploymentInfo {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  env: Map<string, string>;
  /** Secret mounted for TLS_SERVER_CERT. */
  tlsSecret: string | null;
  /** Named container ports. */
  namedPorts: Map<string, number>;
  /** Container images (the coredns Deployment is recognised by its image). */
  images: string[];
}

interface ServicePort {
  name: string;
  port: number;
  targetPort: number | string;
  protocol: string;
  appProtocol?: string;
}

function rec(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function podName(deployment: string): string {
  const h = createHash('sha256').update(deployment).digest('hex');
  const alnum = 'bcdfghjklmnpqrstvwxz2456789';
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += alnum[parseInt(h.slice(10 + i * 2, 12 + i * 2), 16) % alnum.length];
  return `${deployment}-${h.slice(0, 10)}-${suffix}`;
}

/** `infra-backend-v1-6c8f9b7d45-q7x2m` → `infra-backend-v1` (what the upstream weight checker does). */
export function backendNameOfPod(pod: string): string {
  const parts = pod.split('-');
  return parts.length > 2 ? parts.slice(0, -2).join('-') : pod;
}

function deploymentInfo(o: K8sObject): DeploymentInfo | null {
  if (o.kind !== 'Deployment' || !o.metadata?.name) return null;
  const template = rec(rec(o.spec).template);
  const podSpec = rec(template.spec);
  const labels = { ...(rec(rec(template.metadata).labels) as Record<string, string>) };
  const env = new Map<string, string>();
  const namedPorts = new Map<string, number>();
  const images: string[] = [];
  for (const c of list(podSpec.containers)) {
    if (typeof rec(c).image === 'string') images.push(rec(c).image as string);
    for (const e of list(rec(c).env) as ContainerEnv[]) if (e.name) env.set(e.name, e.value ?? '');
    for (const p of list(rec(c).ports)) {
      const pr = rec(p);
      if (typeof pr.name === 'string' && typeof pr.containerPort === 'number') namedPorts.set(pr.name, pr.containerPort);
    }
  }
  let tlsSecret: string | null = null;
  for (const v of list(podSpec.volumes)) {
    const s = rec(rec(v).secret);
    if (typeof s.secretName === 'string') tlsSecret = s.secretName;
  }
  return { namespace: o.metadata.namespace ?? 'default', name: o.metadata.name, labels, env, tlsSecret, namedPorts, images };
}

function portKind(d: DeploymentInfo, containerPort: number, protocol: string): EchoPortKind | null {
  // The base manifests' coredns Deployment (UDPRoute's backend): a tiny DNS responder stands in for it.
  if (d.images.some((i) => i.includes('coredns'))) return protocol === 'UDP' ? 'dns' : null;
  if (d.env.has('GRPC_ECHO_SERVER')) return 'grpc';
  if (d.env.has('UDP_ECHO_SERVER')) return 'udp';
  if (d.env.has('TCP_ECHO_SERVER')) return containerPort === Number(d.env.get('TLS_PORT') ?? 8443) ? 'tls-tcp' : 'tcp';
  if (containerPort === Number(d.env.get('H2C_PORT') ?? 3001)) return 'h2c';
  if (containerPort === Number(d.env.get('HTTPS_PORT') ?? 8443) && d.env.has('TLS_SERVER_CERT')) return 'https';
  return 'http';
}

export interface BackendSet {
  /** Starts what the objects need and returns the EndpointSlices to add to the directory. */
  endpointSlicesFor(objects: readonly K8sObject[]): Promise<K8sObject[]>;
  /** The pod(s) of a Deployment (`ns/name`), when started. */
  pod(namespacedDeployment: string): EchoPod | undefined;
  /** Pods serving a Service (`ns/name`), as of the last endpointSlicesFor. */
  podsOfService(namespacedService: string): EchoPod[];
  close(): Promise<void>;
}

/** `secrets`: generated TLS material by `ns/name`; Secrets in the manifests are looked up too. */
export function createBackendSet(secrets: ReadonlyMap<string, KeyPair>): BackendSet {
  const pods = new Map<string, EchoPod>();
  const servicePods = new Map<string, EchoPod[]>();

  const keyPairFor = (ns: string, name: string, objects: readonly K8sObject[]): KeyPair | undefined => {
    const gen = secrets.get(`${ns}/${name}`);
    if (gen) return gen;
    const s = objects.find((o) => o.kind === 'Secret' && o.metadata?.name === name && o.metadata?.namespace === ns);
    const data = rec(s?.data);
    if (typeof data['tls.crt'] === 'string' && typeof data['tls.key'] === 'string') {
      return {
        cert: Buffer.from(data['tls.crt'], 'base64').toString('utf8'),
        key: Buffer.from(data['tls.key'], 'base64').toString('utf8'),
      };
    }
    return undefined;
  };

  return {
    async endpointSlicesFor(objects) {
      const deployments = objects.map(deploymentInfo).filter((d): d is DeploymentInfo => d !== null);
      const existing = new Set<string>();
      for (const o of objects) {
        const svc = o.kind === 'EndpointSlice' ? o.metadata?.labels?.['kubernetes.io/service-name'] : undefined;
        if (svc) existing.add(`${o.metadata?.namespace ?? 'default'}/${svc}`);
      }
      const out: K8sObject[] = [];
      for (const o of objects) {
        if (o.kind !== 'Service' || !o.metadata?.name) continue;
        const ns = o.metadata.namespace ?? 'default';
        const svcKey = `${ns}/${o.metadata.name}`;
        const spec = rec(o.spec);
        const selector = rec(spec.selector) as Record<string, string>;
        if (spec.type === 'ExternalName' || Object.keys(selector).length === 0 || existing.has(svcKey)) continue;
        const selected = deployments.filter(
          (d) => d.namespace === ns && Object.entries(selector).every(([k, v]) => d.labels[k] === v),
        );
        const ports = list(spec.ports).map((p) => rec(p) as unknown as ServicePort);
        const served: EchoPod[] = [];
        for (const d of selected) {
          const key = `${d.namespace}/${d.name}`;
          let pod = pods.get(key);
          if (!pod) {
            pod = createEchoPod({ namespace: d.namespace, pod: podName(d.name), app: d.name });
            pods.set(key, pod);
          }
          const slicePorts: Record<string, unknown>[] = [];
          for (const sp of ports) {
            const target =
              typeof sp.targetPort === 'number'
                ? sp.targetPort
                : typeof sp.targetPort === 'string'
                  ? (d.namedPorts.get(sp.targetPort) ?? Number(sp.targetPort))
                  : sp.port;
            const protocol = sp.protocol ?? 'TCP';
            const kind = portKind(d, target, protocol);
            const udpKind = kind === 'udp' || kind === 'dns';
            if (kind === null || (protocol === 'UDP') !== udpKind || (protocol !== 'TCP' && protocol !== 'UDP')) continue;
            const tls = d.tlsSecret ? keyPairFor(d.namespace, d.tlsSecret, objects) : undefined;
            const needsTls = kind === 'https' || kind === 'tls-tcp';
            if (needsTls && !tls) continue;
            const real = await pod.listen(target, kind, needsTls ? tls : undefined);
            const entry: Record<string, unknown> = { name: sp.name ?? '', port: real, protocol };
            if (sp.appProtocol) entry.appProtocol = sp.appProtocol;
            slicePorts.push(entry);
          }
          if (!slicePorts.length) continue;
          served.push(pod);
          out.push({
            apiVersion: 'discovery.k8s.io/v1',
            kind: 'EndpointSlice',
            metadata: {
              name: `${o.metadata.name}-${d.name === o.metadata.name ? 'pods' : d.name}`.slice(0, 253),
              namespace: ns,
              labels: { 'kubernetes.io/service-name': o.metadata.name, 'endpointslice.kubernetes.io/managed-by': 'gatehouse-conformance' },
            },
            addressType: 'IPv4',
            endpoints: [{ addresses: [LOOPBACK], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'Pod', namespace: ns, name: pod.pod } }],
            ports: slicePorts,
          });
        }
        servicePods.set(svcKey, served);
      }
      return out;
    },
    pod: (k) => pods.get(k),
    podsOfService: (k) => servicePods.get(k) ?? [],
    async close() {
      await Promise.all([...pods.values()].map((p) => p.close()));
      pods.clear();
    },
  };
}
