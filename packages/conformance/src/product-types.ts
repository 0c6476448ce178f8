/** The product types the harness uses, re-exported from their packages (type-only: no runtime import). */
export type { RoutingTable, PortIR, ListenerIR, StatusReport, Condition, Diagnostic, RawDocument } from '@gatehouse/core';
export type { Runtime, ApplyResult } from '@gatehouse/proxy';
