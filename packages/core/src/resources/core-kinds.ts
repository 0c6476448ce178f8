/**
 * Schemas of the Kubernetes kinds Gatehouse reads (Service, EndpointSlice, Secret, ConfigMap,
 * Namespace) and of Envoy Gateway's Backend. Only the fields that matter are typed; the rest of each
 * Kubernetes spec is accepted as written, so ordinary manifests load.
 */
import { any, bool, int, intOrString, list, map, obj, oneOf, opt, req, str, type Ctx, type FieldPath } from './schema.js';
import { metadataName, namespaceName } from './formats.js';

const protocol = oneOf(['TCP', 'UDP', 'SCTP']);

export const metadata = obj(
  {
    name: req(metadataName()),
    namespace: opt(namespaceName()),
    labels: opt(map(str({ maxLength: 63 })), {}),
    annotations: opt(map(str()), {}),
    creationTimestamp: opt(str()),
    generation: opt(int(0), 1),
    // Fields kubectl and the API server write; accepted and ignored.
    uid: opt(any()),
    resourceVersion: opt(any()),
    generateName: opt(any()),
    selfLink: opt(any()),
    finalizers: opt(any()),
    ownerReferences: opt(any()),
    managedFields: opt(any()),
    deletionTimestamp: opt(any()),
    deletionGracePeriodSeconds: opt(any()),
  },
  undefined,
  'metadata',
);

export const serviceSpec = obj({
  type: opt(oneOf(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']), 'ClusterIP'),
  externalName: opt(str({ minLength: 1, maxLength: 253 })),
  ports: opt(
    list(
      obj(
        {
          name: opt(str({ maxLength: 63 })),
          port: req(int(1, 65535)),
          targetPort: opt(intOrString()),
          protocol: opt(protocol, 'TCP'),
          appProtocol: opt(str()),
          nodePort: opt(int(0, 65535)),
        },
        [(p) => void (p.targetPort ??= p.port)],
      ),
      { uniqueBy: { key: (p) => `${p.port}/${p.protocol}`, field: 'port', what: 'port' } },
    ),
    [],
  ),
  selector: opt(map(), {}),
  clusterIP: opt(str()),
  clusterIPs: opt(any()),
  externalIPs: opt(any()),
  sessionAffinity: opt(any()),
  sessionAffinityConfig: opt(any()),
  loadBalancerIP: opt(any()),
  loadBalancerSourceRanges: opt(any()),
  loadBalancerClass: opt(any()),
  externalTrafficPolicy: opt(any()),
  internalTrafficPolicy: opt(any()),
  healthCheckNodePort: opt(any()),
  publishNotReadyAddresses: opt(any()),
  ipFamilies: opt(any()),
  ipFamilyPolicy: opt(any()),
  allocateLoadBalancerNodePorts: opt(any()),
  trafficDistribution: opt(any()),
  topologyKeys: opt(any()),
}, [
  (s, ctx: Ctx, path: FieldPath) => {
    if (s.type === 'ExternalName' && !s.externalName) ctx.error('MISSING_FIELD', path, 'a Service of type ExternalName needs externalName');
  },
]);

/** EndpointSlice fields sit at the top level of the object; decode checks them as if they were a spec. */
export const endpointSliceBody = obj({
  addressType: req(oneOf(['IPv4', 'IPv6', 'FQDN'])),
  endpoints: opt(
    list(
      obj({
        addresses: req(list(str({ minLength: 1 }), { minItems: 1, maxItems: 100 })),
        conditions: opt(obj({ ready: opt(bool()), serving: opt(bool()), terminating: opt(bool()) }), {}),
        hostname: opt(str({ maxLength: 63 })),
        targetRef: opt(any()),
        nodeName: opt(any()),
        zone: opt(any()),
        hints: opt(any()),
        deprecatedTopology: opt(any()),
      }),
      { maxItems: 1000 },
    ),
    [],
  ),
  ports: opt(
    list(obj({ name: opt(str({ maxLength: 63 })), port: req(int(1, 65535)), protocol: opt(protocol, 'TCP'), appProtocol: opt(str()) }), { maxItems: 100 }),
    [],
  ),
});

export const secretBody = obj({
  type: opt(str(), 'Opaque'),
  data: opt(map(str()), {}),
  stringData: opt(map(str()), {}),
  immutable: opt(bool()),
});

export const configMapBody = obj({
  data: opt(map(str()), {}),
  binaryData: opt(map(str()), {}),
  immutable: opt(bool()),
});

export const backendSpec = obj({
  endpoints: req(
    list(
      obj(
        {
          ip: opt(obj({ address: req(str({ minLength: 1 })), port: req(int(0, 65535)) })),
          fqdn: opt(obj({ hostname: req(str({ minLength: 1, maxLength: 253 })), port: req(int(0, 65535)) })),
          unix: opt(obj({ path: req(str({ minLength: 1 })) })),
          zone: opt(any()),
        },
        [
          (e, ctx, path) => {
            const n = ['ip', 'fqdn', 'unix'].filter((k) => e[k] !== undefined).length;
            if (n !== 1) ctx.error('CEL_RULE', path, 'each endpoint sets exactly one of ip, fqdn or unix');
          },
        ],
      ),
      { minItems: 1, maxItems: 64 },
    ),
  ),
  appProtocols: opt(list(oneOf(['gateway.envoyproxy.io/h2c', 'gateway.envoyproxy.io/ws', 'gateway.envoyproxy.io/wss'])), []),
  fallback: opt(bool()),
  type: opt(any()),
  tls: opt(any()),
});
