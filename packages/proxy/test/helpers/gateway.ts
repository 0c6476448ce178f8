import type { RoutingTable } from '@gatehouse/core';
import { GatehouseRuntime, type RuntimeOptions } from '../../src/runtime.js';
import { emptyStatus } from './ir.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** A Runtime serving `table` on loopback; returns it and the bound port of the first table port. */
export async function gateway(t: RoutingTable, opts: RuntimeOptions = {}): Promise<{ rt: GatehouseRuntime; port: number }> {
  const rt = new GatehouseRuntime({ bindAddress: '127.0.0.1', logger: quiet, ...opts });
  const r = await rt.apply(t, emptyStatus);
  if (r.failed.length > 0) throw new Error('bind failed: ' + JSON.stringify(r.failed));
  return { rt, port: rt.boundPorts().get(t.ports[0].key)! };
}
