import type { Diagnostic } from '../diagnostics.js';
import type { ResourceSet } from '../resources/types.js';
import type { RoutingTable } from '../ir/types.js';
import type { StatusReport } from './status.js';

export interface CompileOptions {
  /** Only serve Gateways of these GatewayClass names (default: every class in the directory). */
  gatewayClasses?: string[];
  /** `strict` disables the DNS fallback of DESIGN.md §5. */
  backendResolution?: 'default' | 'strict';
  /** controllerName written into route status. Default `gatehouse.dev/gateway-controller`. */
  controllerName?: string;
}

export interface CompileResult {
  table: RoutingTable;
  status: StatusReport;
  /** Compile-time findings (warnings mostly; compile never throws on user input). */
  diagnostics: Diagnostic[];
}

export const DEFAULT_CONTROLLER_NAME = 'gatehouse.dev/gateway-controller';

/** Pure and deterministic: the same resources give the same table, byte for byte when serialised. */
export function compile(resources: ResourceSet, options: CompileOptions = {}): CompileResult {
  void resources;
  void options;
  throw new Error('compile: not implemented yet');
}
