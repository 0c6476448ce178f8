import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { emptyResourceSet, type Diagnostic, type RoutingTable, type StatusReport } from '@gatehouse/core';
import type { ApplyResult, Runtime } from '@gatehouse/proxy';
import type { LoadResult } from '../../src/reload.js';

export const emptyStatus = (): StatusReport => ({ gatewayClasses: [], gateways: [], routes: [] });

export function tableWithHash(hash: string): RoutingTable {
  return { hash, ports: [], backends: [], certificates: [] };
}

/** A Runtime that records what it was given; `delayMs` makes apply slow. */
export class FakeRuntime implements Runtime {
  applied: RoutingTable[] = [];
  delayMs = 0;
  failNext: string | null = null;
  closedWith: number | null = null;
  private cur: { table: RoutingTable; status: StatusReport } | null = null;
  async apply(table: RoutingTable, status: StatusReport): Promise<ApplyResult> {
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failNext) {
      const e = this.failNext;
      this.failNext = null;
      throw new Error(e);
    }
    this.applied.push(table);
    this.cur = { table, status };
    return { opened: [], kept: [], closed: [], failed: [] };
  }
  current() {
    return this.cur;
  }
  async close(drainMs: number): Promise<void> {
    this.closedWith = drainMs;
  }
  boundPorts() {
    return new Map<string, number>();
  }
}

/**
 * A stand-in for loadResources: hashes every non-hidden file (following symlinks, skipping `..` dirs
 * like the real loader must) and reports an error diagnostic for any file containing `INVALID`.
 */
export async function hashingLoader(dir: string): Promise<LoadResult> {
  const h = createHash('sha256');
  const diagnostics: Diagnostic[] = [];
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith('.')) continue;
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p, `${rel}${name}/`);
      else {
        const text = readFileSync(p, 'utf8');
        h.update(`${rel}${name}\0${text}\0`);
        const i = text.indexOf('INVALID');
        if (i >= 0) {
          const line = text.slice(0, i).split('\n').length;
          const col = i - text.lastIndexOf('\n', i - 1);
          diagnostics.push({ severity: 'error', code: 'UNKNOWN_FIELD', message: 'unknown field "INVALID"', file: `${rel}${name}`, line, col, object: 'HTTPRoute default/web' });
        }
      }
    }
  };
  walk(dir, '');
  return { resources: emptyResourceSet(), diagnostics, hash: h.digest('hex').slice(0, 16) };
}

export function fakeCompile(_r: unknown, _o: unknown) {
  return { table: tableWithHash('compiled'), status: emptyStatus(), diagnostics: [] };
}

export function recordingLogger() {
  const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const mk = (level: string) => (msg: string, fields?: Record<string, unknown>) => void lines.push({ level, msg, fields });
  return { lines, logger: { debug: mk('debug'), info: mk('info'), warn: mk('warn'), error: mk('error') } };
}

export async function until(cond: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<number> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - t0;
}
