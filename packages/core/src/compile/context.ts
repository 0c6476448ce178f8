/**
 * State shared by the compile stages: the input, the options with defaults applied, collected
 * diagnostics, and lookups built once (namespaces, objects by `namespace/name`).
 */
import type { Diagnostic, Severity } from '../diagnostics.js';
import {
  objectName,
  type Backend,
  type EndpointSlice,
  type ResourceSet,
  type Secret,
  type Service,
} from '../resources/types.js';
import type { CompileOptions } from './index.js';

export const METADATA_NAME_LABEL = 'kubernetes.io/metadata.name';
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface Located {
  kind: string;
  metadata: { namespace: string; name: string };
  source: { file: string; line: number; col: number };
}

export class CompileContext {
  readonly diagnostics: Diagnostic[] = [];
  readonly strictBackends: boolean;
  readonly controllerName: string;
  readonly gatewayClassFilter: ReadonlySet<string> | null;

  private readonly namespaceLabels = new Map<string, Record<string, string>>();
  readonly services = new Map<string, Service>();
  readonly secrets = new Map<string, Secret>();
  readonly backends = new Map<string, Backend>();
  /** EndpointSlices by `namespace/serviceName`, in load order. */
  readonly endpointSlices = new Map<string, EndpointSlice[]>();

  constructor(
    readonly resources: ResourceSet,
    options: CompileOptions,
    defaultControllerName: string,
  ) {
    this.strictBackends = options.backendResolution === 'strict';
    this.controllerName = options.controllerName ?? defaultControllerName;
    // An empty list restricts nothing (rather than serving nothing).
    this.gatewayClassFilter = options.gatewayClasses && options.gatewayClasses.length > 0 ? new Set(options.gatewayClasses) : null;

    for (const ns of resources.namespaces) {
      this.namespaceLabels.set(ns.metadata.name, { ...ns.metadata.labels, [METADATA_NAME_LABEL]: ns.metadata.name });
    }
    for (const s of resources.services) firstWins(this.services, key(s.metadata), s);
    for (const s of resources.secrets) firstWins(this.secrets, key(s.metadata), s);
    for (const b of resources.backends) firstWins(this.backends, key(b.metadata), b);
    for (const slice of resources.endpointSlices) {
      const service = slice.spec.serviceName ?? slice.metadata.labels[SERVICE_NAME_LABEL];
      if (!service) continue;
      const k = `${slice.metadata.namespace}/${service}`;
      const list = this.endpointSlices.get(k);
      if (list) list.push(slice);
      else this.endpointSlices.set(k, [slice]);
    }
  }

  /**
   * Labels of a namespace for `allowedRoutes.namespaces.selector`. A namespace without a Namespace
   * object in the directory has only the label Kubernetes sets on every namespace.
   */
  labelsOfNamespace(namespace: string): Record<string, string> {
    return this.namespaceLabels.get(namespace) ?? { [METADATA_NAME_LABEL]: namespace };
  }

  diagnose(severity: Severity, code: string, message: string, object?: Located, path?: string): void {
    const d: Diagnostic = { severity, code, message };
    if (object) {
      d.file = object.source.file;
      d.line = object.source.line;
      d.col = object.source.col;
      d.object = objectName(object);
    }
    if (path) d.path = path;
    this.diagnostics.push(d);
  }
}

export function key(meta: { namespace: string; name: string }): string {
  return `${meta.namespace}/${meta.name}`;
}

function firstWins<T>(map: Map<string, T>, k: string, v: T): void {
  if (!map.has(k)) map.set(k, v);
}
