import type { PortIR } from '@gatehouse/core';
import type { PortServer, PortServerContext } from '../api.js';

/** Placeholder until the L4 work lands: refuses to start so a table using it fails loudly. */
export class UdpPortServer implements PortServer {
  readonly key: string;
  constructor(port: PortIR, _ctx: PortServerContext) {
    this.key = port.key;
  }
  async listen(): Promise<void> {
    throw new Error('UdpPortServer is not implemented yet');
  }
  update(_port: PortIR, _ctx: PortServerContext): void {}
  async close(_drainMs: number): Promise<void> {}
  boundPort(): number {
    return 0;
  }
}
