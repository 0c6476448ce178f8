import type { HeaderOps } from '@gatehouse/core';
import { addHeader, removeHeader, setHeader } from '../upstream/headers.js';

/**
 * RequestHeaderModifier / ResponseHeaderModifier, prepared once per table: names are lowercased here so
 * applying them per request only compares strings. `set` overwrites, `add` appends as `old,new`,
 * `remove` deletes every occurrence.
 */
export class HeaderModifier {
  /** Flat `[name, lower, value, ...]` triples. */
  readonly set: string[] = [];
  readonly add: string[] = [];
  readonly remove: string[] = [];

  constructor(ops: HeaderOps) {
    for (const [name, value] of ops.set) this.set.push(name, name.toLowerCase(), value);
    for (const [name, value] of ops.add) this.add.push(name, name.toLowerCase(), value);
    for (const name of ops.remove) this.remove.push(name.toLowerCase());
  }

  /** Edits a flat header list in place. */
  apply(list: string[]): void {
    const set = this.set;
    for (let i = 0; i < set.length; i += 3) setHeader(list, set[i], set[i + 1], set[i + 2]);
    const add = this.add;
    for (let i = 0; i < add.length; i += 3) addHeader(list, add[i], add[i + 1], add[i + 2]);
    const remove = this.remove;
    for (let i = 0; i < remove.length; i++) removeHeader(list, remove[i]);
  }
}
