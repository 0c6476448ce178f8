/**
 * The block-YAML path of `parseFile` (parse.ts), without the `yaml` and `js-yaml` packages: the loader
 * tries this first and imports parse.ts (and with it both YAML libraries, ~45 ms of start-up) only for
 * a file outside the block subset. A directory of plain block YAML never loads them.
 */
import type { Diagnostic, FieldPath, Position, RawDocument } from '@gatehouse/core';
import { readBlockYaml, type BlockDoc, type Positions } from './block-yaml.js';

export interface ParsedFile {
  docs: RawDocument[];
  diagnostics: Diagnostic[];
}

/** The block-YAML reader (exported for tests): positions recorded while reading; undefined outside its subset. */
export function parseBlock(file: string, text: string, firstOrder: number): ParsedFile | undefined {
  // YAML 1.1 boolean words go to the full parser, which warns about them with their exact place.
  const read = readBlockYaml(text, undefined, true);
  if (!read) return undefined;
  // Positions inside documents are needed only for diagnostics: read the file again, recording them.
  let located: { docs: BlockDoc[]; positions: Positions } | undefined;
  const withPositions = () => {
    if (!located) {
      const positions: Positions = new WeakMap();
      located = { docs: readBlockYaml(text, positions)!, positions };
    }
    return located;
  };
  const docs: RawDocument[] = read.map((d, index) => ({
    file,
    index,
    order: firstOrder + index,
    value: d.value,
    locate: (path: FieldPath): Position => {
      if (path.length === 0) return { file, line: d.start.line, col: d.start.col };
      const { docs: again, positions } = withPositions();
      let node: unknown = again[index]!.value;
      let pos = d.start;
      for (const step of path) {
        if (node === null || typeof node !== 'object') break;
        const p = positions.get(node);
        const q = typeof step === 'number' ? (Array.isArray(p) ? p[step] : undefined) : p instanceof Map ? p.get(step) : undefined;
        if (!q) break;
        pos = q;
        node = (node as Record<string | number, unknown>)[step];
      }
      return { file, line: pos.line, col: pos.col };
    },
  }));
  return { docs, diagnostics: [] };
}

/** Features the fast path leaves to `yaml`: tabs, anchors, aliases, tags, merge keys. */
export function needsFullParse(text: string): boolean {
  if (text.includes('\t') || text.includes('<<')) return true;
  for (const ch of ['&', '*', '!']) {
    for (let i = text.indexOf(ch); i >= 0; i = text.indexOf(ch, i + 1)) {
      const before = i === 0 ? ' ' : text[i - 1]!;
      const after = text[i + 1] ?? ' ';
      if (/[\s[{,]/.test(before) && !/\s/.test(after)) return true;
    }
  }
  return false;
}

