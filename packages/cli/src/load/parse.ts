/**
 * One file's text → RawDocuments with positions. YAML 1.2 (JSON is a subset, so `.json` goes the
 * same way). Syntax errors become `YAML_SYNTAX` diagnostics for the document they are in; the file's
 * other documents still load. Unquoted YAML 1.1 booleans (`yes`, `on`, ...) get a `YAML11_BOOLEAN`
 * warning: they are strings in YAML 1.2, which is rarely what the author meant.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, visit, type Document, type Node } from 'yaml';
import jsyaml from 'js-yaml';
import { formatPath, type Diagnostic, type FieldPath, type Position, type RawDocument } from '@gatehouse/core';
import { needsFullParse, parseBlock, type ParsedFile } from './block-parse.js';

export { parseBlock, type ParsedFile } from './block-parse.js';

const YAML11_BOOL = /^(y|yes|n|no|on|off)$/i;
const CLUSTER_SCOPED = new Set(['GatewayClass', 'Namespace']);

function objectLabel(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, any>;
  if (typeof o.kind !== 'string') return undefined;
  const name = typeof o.metadata?.name === 'string' ? o.metadata.name : '<unnamed>';
  if (CLUSTER_SCOPED.has(o.kind)) return `${o.kind} ${name}`;
  const ns = typeof o.metadata?.namespace === 'string' && o.metadata.namespace ? o.metadata.namespace : 'default';
  return `${o.kind} ${ns}/${name}`;
}

/** Finds the node at `path` (for the last step that is a key: the key), or the nearest ancestor. */
function locateIn(doc: Document, lc: LineCounter, file: string, path: FieldPath): Position {
  const at = (offset: number | undefined): Position => {
    const { line, col } = lc.linePos(offset ?? 0);
    return { file, line, col };
  };
  let node: unknown = doc.contents;
  let offset = (doc.contents as Node | null)?.range?.[0] ?? doc.range?.[0] ?? 0;
  for (const step of path) {
    if (typeof step === 'number') {
      if (!isSeq(node)) break;
      const item = node.items[step] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      if (!isMap(node)) break;
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === step);
      if (!pair) break;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value;
    }
  }
  return at(offset);
}

/**
 * `order` is the global load order of the first document; the caller adds the count of docs returned.
 * `blockTried`: the caller already tried `parseBlock` (block-parse.ts) on this text, and it gave up.
 *
 * Three paths, one result. The `yaml` package gives every node a position and precise errors, but it
 * parses about ten times slower than js-yaml, which gives no positions. So:
 *   1. plain block YAML (nearly every config file) goes through the block reader (block-yaml.ts), which
 *      records positions only when a diagnostic asks for one (it reads the file again to do so);
 *   2. other ordinary files go through js-yaml, with document starts from a line scan and the `yaml`
 *      AST built only if a diagnostic needs a position inside the file;
 *   3. anything unusual (tabs, anchors/aliases, tags, merge keys, possible YAML 1.1 booleans, or a file
 *      js-yaml rejects) goes through `yaml` straight away, which also gives the precise syntax errors.
 */
export function parseFile(file: string, text: string, firstOrder: number, blockTried = false): ParsedFile {
  if (!needsFullParse(text)) {
    const fast = (blockTried ? undefined : parseBlock(file, text, firstOrder)) ?? parseFast(file, text, firstOrder);
    if (fast) return fast;
  }
  return parseFull(file, text, firstOrder);
}

/** Strings that YAML 1.1 read as booleans: the full path warns about them, with the exact place. */
const YAML11_WORD = /^(y|yes|n|no|on|off)$/i;
function hasYaml11Word(v: unknown): boolean {
  if (typeof v === 'string') return v.length <= 3 && YAML11_WORD.test(v);
  if (Array.isArray(v)) return v.some(hasYaml11Word);
  if (v !== null && typeof v === 'object') {
    for (const k in v) if (hasYaml11Word((v as Record<string, unknown>)[k])) return true;
  }
  return false;
}

const DOC_MARKER = /^(---|\.\.\.)(?=\s|$)/;

/**
 * Start (line, col) of each document's first node, found by scanning lines: `---` opens a document,
 * `...` closes one, comments and blank lines are skipped. The caller checks the count against the parser.
 */
function documentStarts(text: string): { line: number; col: number }[] {
  const starts: { line: number; col: number }[] = [];
  let cur: { line: number; col: number; content: boolean } | undefined;
  let lineNo = 0;
  for (let pos = 0; pos <= text.length; ) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    lineNo++;
    const c0 = text.charCodeAt(pos);
    // Fast skip: inside a document whose first node is known, only column-0 markers matter.
    if (cur?.content && c0 !== 0x2d /* - */ && c0 !== 0x2e /* . */) {
      pos = end + 1;
      continue;
    }
    const line = text.slice(pos, text.charCodeAt(end - 1) === 0x0d ? end - 1 : end);
    pos = end + 1;
    const marker = DOC_MARKER.exec(line)?.[1];
    if (marker === '---') {
      if (cur) starts.push(cur);
      const inline = line.slice(3).search(/\S/);
      const hasInline = inline >= 0 && line[3 + inline] !== '#';
      cur = hasInline ? { line: lineNo, col: 4 + inline, content: true } : { line: lineNo, col: 4, content: false };
      continue;
    }
    if (marker === '...') {
      if (cur) starts.push(cur);
      cur = undefined;
      continue;
    }
    if (cur?.content) continue;
    if (/^\s*(#|$)/.test(line) || (!cur && line.startsWith('%'))) continue;
    if (!cur) cur = { line: lineNo, col: 1, content: false };
    cur.line = lineNo;
    cur.col = line.search(/\S/) + 1;
    cur.content = true;
  }
  if (cur) starts.push(cur);
  return starts.map(({ line, col }) => ({ line, col }));
}

/** The js-yaml path (exported for tests); undefined when the file must go through `yaml`. */
export function parseFast(file: string, text: string, firstOrder: number): ParsedFile | undefined {
  let values: unknown[];
  try {
    values = [];
    jsyaml.loadAll(text, (v) => values.push(v), { schema: jsyaml.CORE_SCHEMA, json: false });
  } catch {
    return undefined;
  }
  if (values.some(hasYaml11Word)) return undefined;
  const starts = documentStarts(text);
  if (starts.length === 0 && values.every((v) => v === null || v === undefined)) return { docs: [], diagnostics: [] };
  if (starts.length !== values.length) return undefined;
  let full: { docs: Document[]; lc: LineCounter } | undefined;
  const ast = () => {
    if (!full) {
      const lc = new LineCounter();
      const parsed = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, merge: true });
      full = { docs: Array.isArray(parsed) ? parsed : [], lc };
    }
    return full;
  };
  const docs: RawDocument[] = values.map((value, index) => ({
    file,
    index,
    order: firstOrder + index,
    value,
    locate: (p: FieldPath): Position => {
      if (p.length === 0) return { file, ...starts[index]! };
      const { docs: ds, lc } = ast();
      const d = ds[index];
      return d ? locateIn(d, lc, file, p) : { file, ...starts[index]! };
    },
  }));
  return { docs, diagnostics: [] };
}

/** The `yaml` path: positions for every node, precise syntax errors, YAML 1.1 boolean warnings. */
export function parseFull(file: string, text: string, firstOrder: number): ParsedFile {
  const lc = new LineCounter();
  const docs: RawDocument[] = [];
  const diagnostics: Diagnostic[] = [];
  const parsed = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, merge: true });
  const all = Array.isArray(parsed) ? parsed : [];
  all.forEach((doc, index) => {
    const pos = (offset: number) => lc.linePos(offset);
    if (doc.errors.length) {
      // The first error is the real one; the rest are usually the parser losing its footing after it.
      const e = doc.errors[0]!;
      {
        const { line, col } = pos(e.pos[0]);
        diagnostics.push({
          severity: 'error',
          code: 'YAML_SYNTAX',
          message: `${yamlMessage(e.code, e.message, text.slice(e.pos[0]).split('\n', 1)[0]!.replace(/\s*:.*$/, ''), text, e.pos[0], lc)}${all.length > 1 ? ` (document ${index + 1} of this file is skipped)` : ''}`,
          file,
          line,
          col,
        });
      }
      return;
    }
    for (const w of doc.warnings) {
      const { line, col } = pos(w.pos[0]);
      diagnostics.push({ severity: 'warning', code: 'YAML_WARNING', message: w.message, file, line, col });
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (e) {
      const { line, col } = pos(doc.range?.[0] ?? 0);
      diagnostics.push({ severity: 'error', code: 'YAML_SYNTAX', message: e instanceof Error ? e.message : String(e), file, line, col });
      return;
    }
    const object = objectLabel(value);
    visit(doc, {
      Scalar(key, node, path) {
        if (key === 'key' || node.type !== 'PLAIN' || typeof node.value !== 'string' || !YAML11_BOOL.test(node.value)) return;
        const fieldPath: (string | number)[] = [];
        for (let i = 0; i < path.length; i++) {
          const p = path[i];
          if (isPair(p) && isScalar(p.key)) fieldPath.push(String(p.key.value));
          else if (isSeq(p)) {
            const next = path[i + 1] ?? node;
            fieldPath.push(p.items.indexOf(next as never));
          }
        }
        const v = node.value;
        const meant = /^(y|yes|on)$/i.test(v) ? 'true' : 'false';
        const { line, col } = pos(node.range?.[0] ?? 0);
        diagnostics.push({
          severity: 'warning',
          code: 'YAML11_BOOLEAN',
          message: `unquoted ${v} is the string "${v}" in YAML 1.2, not the boolean ${meant}: write ${meant} for a boolean, or quote it ("${v}") to keep the string`,
          file,
          line,
          col,
          ...(object ? { object } : {}),
          ...(fieldPath.length ? { path: formatPath(fieldPath) } : {}),
        });
      },
    });
    docs.push({ file, index, order: firstOrder + docs.length, value, locate: (p) => locateIn(doc, lc, file, p) });
  });
  return { docs, diagnostics };
}

function yamlMessage(code: string, message: string, source: string, text: string, offset: number, lc: LineCounter): string {
  switch (code) {
    case 'TAB_AS_INDENT':
      return 'tabs are not allowed for indentation in YAML; indent with spaces';
    case 'DUPLICATE_KEY': {
      const key = source.trim();
      return `duplicate key${key && key.length < 60 ? ` ${JSON.stringify(key)}` : ''}: a key may appear only once in a map (the later value would silently replace the earlier one)`;
    }
    case 'BAD_INDENT': {
      const open = /^Flow (sequence|map)/.exec(message);
      if (open) {
        const ch = open[1] === 'sequence' ? '[' : '{';
        const at = text.lastIndexOf(ch, offset);
        if (at >= 0) {
          const { line, col } = lc.linePos(at);
          return `the ${ch} opened at line ${line}, column ${col} is not closed with ${ch === '[' ? ']' : '}'} (or its next line is not indented enough)`;
        }
      }
      return message.replace(/\s+/g, ' ').trim();
    }
    case 'BLOCK_AS_IMPLICIT_KEY':
      return `${message}: a "key: value" cannot follow another value on the same line or be indented under a plain value (check the indentation, or quote a value that contains ": ")`;
    default:
      return message.replace(/\s+/g, ' ').trim();
  }
}
