/**
 * A small, fast reader for the plain block YAML that configuration files are almost always written in:
 * block mappings and sequences, single-line plain and quoted scalars, one-line flow sequences of
 * scalars (`["a", b]`), `{}` and `[]`, comments, document markers. On request it records the position
 * of every key and list item, the way the `yaml` package's nodes would give them.
 *
 * Anything outside that subset (other flow collections, block scalars, multi-line scalars, anchors,
 * tags, complex keys, duplicate keys, odd indentation) makes it give up (`undefined`), and the caller
 * falls back to a full YAML parser. Scalars resolve with the YAML 1.2 core schema, like `yaml`. Tests
 * check that both agree, value for value and position for position, on every fixture and conformance
 * file, and on thousands of mangled texts.
 */

export interface Pos {
  line: number;
  col: number;
}

/** Positions of a map's keys or a sequence's items. */
export type Positions = WeakMap<object, Map<string, Pos> | Pos[]>;

export interface BlockDoc {
  value: unknown;
  start: Pos;
}

class GiveUp extends Error {}
const giveUp = (): never => {
  throw new GiveUp();
};

interface Line {
  no: number;
  indent: number;
  /** Content without indentation, trailing comment and trailing spaces. */
  text: string;
}

const NULL = /^(?:~|null|Null|NULL)$/;
const BOOL = /^(?:true|True|TRUE|false|False|FALSE)$/;
const INT = /^[-+]?[0-9]+$/;
const OCT = /^0o[0-7]+$/;
const HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
const INF = /^[-+]?\.(?:inf|Inf|INF)$/;
const NAN = /^\.(?:nan|NaN|NAN)$/;

/** YAML 1.2 core schema resolution of a plain scalar. */
function resolvePlain(s: string): unknown {
  if (s === '' || NULL.test(s)) return null;
  const c = s.charCodeAt(0);
  // Fast exit for the common case: starts with a letter other than t/f/n/N/T/F.
  if (((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) && !'tfnTFN'.includes(s[0]!)) return s;
  if (BOOL.test(s)) return s[0] === 't' || s[0] === 'T';
  if (INT.test(s)) return Number(s);
  if (OCT.test(s)) return parseInt(s.slice(2), 8);
  if (HEX.test(s)) return parseInt(s.slice(2), 16);
  if (FLOAT.test(s)) return Number(s);
  if (INF.test(s)) return s[0] === '-' ? -Infinity : Infinity;
  if (NAN.test(s)) return NaN;
  return s;
}

/** Index of `#` starting a comment (outside quotes, after whitespace), or -1. */
function commentStart(s: string): number {
  let quote = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (quote) {
      if (ch === '\\' && quote === '"') i++;
      else if (ch === quote) {
        if (quote === "'" && s[i + 1] === "'") i++;
        else quote = '';
      }
    } else if (ch === '#' && (i === 0 || s[i - 1] === ' ')) return i;
    else if ((ch === '"' || ch === "'") && (i === 0 || /[\s:\-[{,]/.test(s[i - 1]!))) quote = ch;
  }
  return quote ? giveUp() : -1; // an unterminated quote: multi-line scalar
}

const ESCAPES: Record<string, string> = { '0': '\0', a: '\x07', b: '\b', t: '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b', ' ': ' ', '"': '"', '/': '/', '\\': '\\', N: '\x85', _: '\xa0', L: '\u2028', P: '\u2029' };

/** A whole quoted scalar starting at s[0]; returns [value, length] or gives up. */
function quoted(s: string): [string, number] {
  const q = s[0]!;
  let out = '';
  for (let i = 1; i < s.length; i++) {
    const ch = s[i]!;
    if (q === "'") {
      if (ch === "'") {
        if (s[i + 1] === "'") {
          out += "'";
          i++;
        } else return [out, i + 1];
      } else out += ch;
    } else if (ch === '"') return [out, i + 1];
    else if (ch === '\\') {
      const e = s[++i];
      if (e === undefined) giveUp();
      if (e === 'x' || e === 'u' || e === 'U') {
        const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
        const hex = s.slice(i + 1, i + 1 + n);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== n) giveUp();
        out += String.fromCodePoint(parseInt(hex, 16));
        i += n;
      } else out += ESCAPES[e!] ?? giveUp();
    } else out += ch;
  }
  return giveUp();
}

/** A scalar that is the whole rest of a line. */
function scalar(s: string): unknown {
  const c = s[0];
  if (c === '"' || c === "'") {
    const [v, n] = quoted(s);
    if (n !== s.length) giveUp();
    return v;
  }
  // Indicators a plain scalar cannot start with (flow, block scalars, anchors, tags, directives...).
  if (c !== undefined && '[]{},#&*!|>%@`'.includes(c)) giveUp();
  if ((c === '-' || c === '?' || c === ':') && (s.length === 1 || s[1] === ' ')) giveUp();
  if (s.includes(': ') || s.endsWith(':')) giveUp(); // a mapping where a scalar was expected
  return resolvePlain(s);
}

/** Splits `key: rest` (rest may be empty); undefined when the text is not a mapping entry. */
function splitEntry(s: string): { key: string; rest: string; restCol: number } | undefined {
  let keyEnd: number;
  let key: string;
  const c = s[0];
  if (c === '"' || c === "'") {
    const [v, n] = quoted(s);
    key = v;
    keyEnd = n;
    if (s[keyEnd] !== ':' || (keyEnd + 1 < s.length && s[keyEnd + 1] !== ' ')) return undefined;
  } else {
    const i = s.indexOf(': ');
    keyEnd = i >= 0 ? i : s.endsWith(':') ? s.length - 1 : -1;
    if (keyEnd <= 0) return undefined;
    key = s.slice(0, keyEnd);
    if (c === '?' || c === '[' || c === '{' || c === '&' || c === '*' || c === '!' || c === '-' && key.length === 1) giveUp();
    const r = resolvePlain(key);
    if (typeof r !== 'string' && typeof r !== 'number') giveUp();
    if (typeof r === 'number' && String(r) !== key) giveUp();
  }
  let restStart = keyEnd + 1;
  while (s[restStart] === ' ') restStart++;
  return { key, rest: s.slice(restStart), restCol: restStart };
}

class Reader {
  i = 0;
  constructor(
    readonly lines: Line[],
    /** Recorded only when asked: positions cost allocations, and most files never need them. */
    readonly positions: Positions | undefined,
  ) {}

  peek(): Line | undefined {
    return this.lines[this.i];
  }

  /** A node whose first line is the current one, at exactly `indent`. */
  block(indent: number): unknown {
    const l = this.peek()!;
    if (l.indent !== indent) giveUp();
    if (l.text === '-' || l.text.startsWith('- ')) return this.seq(indent);
    if (splitEntry(l.text)) return this.map(indent, l.text, 0);
    this.i++;
    const v = scalar(l.text);
    const next = this.peek();
    if (next && next.indent > indent) giveUp(); // a multi-line scalar
    return v;
  }

  /** The value after `key:` (or `- `) when nothing follows on the line: a nested block, or null. */
  nested(parentIndent: number, seqAllowedAtSameIndent: boolean): unknown {
    const next = this.peek();
    if (!next) return null;
    if (next.indent > parentIndent) return this.block(next.indent);
    if (seqAllowedAtSameIndent && next.indent === parentIndent && (next.text === '-' || next.text.startsWith('- ')))
      return this.seq(parentIndent);
    return null;
  }

  /**
   * A block mapping at `indent`. Its first entry may sit inside the current line at column `offset`
   * (a compact mapping after `- `): `firstText` is that part of the line.
   */
  map(indent: number, firstText: string, offset: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const pos = this.positions ? new Map<string, Pos>() : undefined;
    if (pos) this.positions!.set(out, pos);
    let text = firstText;
    let col = indent + 1 + offset;
    for (;;) {
      const line = this.lines[this.i]!;
      const e = splitEntry(text) ?? giveUp();
      // A duplicate key is left to the full parser to report; `__proto__` would not be a plain key here.
      if (e!.key === '__proto__' || Object.prototype.hasOwnProperty.call(out, e!.key)) giveUp();
      pos?.set(e!.key, { line: line.no, col });
      this.i++;
      const here = indent + offset;
      out[e!.key] = e!.rest === '' ? this.nested(here, true) : this.inline(e!.rest, here, line.no, col + e!.restCol);
      const next = this.peek();
      if (!next || next.indent < here) return out;
      if (next.indent > here) giveUp();
      if (next.text === '-' || next.text.startsWith('- ')) return offset ? giveUp() : out; // a sequence where a key belongs
      text = next.text;
      col = next.indent + 1;
      // Later entries of a compact mapping are ordinary lines at the same column.
    }
  }

  /** A value written on the same line as its key: a scalar (the subset has no flow collections). */
  inline(rest: string, entryIndent: number, lineNo: number, col: number): unknown {
    const v = rest[0] === '[' || rest[0] === '{' ? this.flow(rest, lineNo, col) : scalar(rest);
    const next = this.peek();
    if (next && next.indent > entryIndent) giveUp(); // a multi-line plain scalar, or an error: not ours
    return v;
  }

  seq(indent: number): unknown[] {
    const out: unknown[] = [];
    const pos: Pos[] | undefined = this.positions ? [] : undefined;
    if (pos) this.positions!.set(out, pos);
    for (;;) {
      const line = this.peek();
      if (!line || line.indent !== indent || !(line.text === '-' || line.text.startsWith('- '))) return out;
      let off = 1;
      while (line.text[off] === ' ') off++;
      const rest = line.text.slice(off);
      if (rest === '') {
        this.i++;
        const next = this.peek();
        pos?.push(next && next.indent > indent ? { line: next.no, col: next.indent + 1 } : { line: line.no, col: indent + 2 });
        out.push(this.nested(indent, false));
        continue;
      }
      pos?.push({ line: line.no, col: indent + off + 1 });
      if (rest === '-' || rest.startsWith('- ')) giveUp(); // nested compact sequence
      if (splitEntry(rest)) {
        out.push(this.map(indent, rest, off));
        continue;
      }
      this.i++;
      out.push(rest[0] === '[' || rest[0] === '{' ? this.flow(rest, line.no, indent + off + 1) : scalar(rest));
      const next = this.peek();
      if (next && next.indent > indent) giveUp();
    }
  }

  /** A one-line flow collection: `{}`, or a sequence of scalars such as `["a", b]`. Nothing nested. */
  flow(s: string, lineNo: number, col: number): unknown {
    if (s === '{}') {
      const out = {};
      this.positions?.set(out, new Map());
      return out;
    }
    if (s[0] !== '[' || s[s.length - 1] !== ']') giveUp();
    const out: unknown[] = [];
    const pos: Pos[] | undefined = this.positions ? [] : undefined;
    if (pos) this.positions!.set(out, pos);
    let i = 1;
    const skipSpaces = () => {
      while (s[i] === ' ') i++;
    };
    skipSpaces();
    if (i === s.length - 1) return out; // []
    for (;;) {
      skipSpaces();
      const start = i;
      let item: unknown;
      if (s[i] === '"' || s[i] === "'") {
        const [v, n] = quoted(s.slice(i));
        item = v;
        i += n;
      } else {
        while (i < s.length - 1 && s[i] !== ',') i++;
        const text = s.slice(start, i).trimEnd();
        if (text === '' || /[[\]{}]|: |:$|^[-?:]( |$)|^[#&*!|>%@`]/.test(text)) giveUp();
        item = resolvePlain(text);
      }
      out.push(item);
      pos?.push({ line: lineNo, col: col + start });
      skipSpaces();
      if (i === s.length - 1) return out;
      if (s[i] !== ',') giveUp();
      i++;
      skipSpaces();
      if (i === s.length - 1) giveUp(); // a trailing comma: leave it to the full parser
    }
  }
}

/**
 * Reads every document of `text`, or returns undefined when the file is outside the subset. With
 * `positions`, records where every key and list item of the returned values was written.
 */
export function readBlockYaml(text: string, positions?: Positions): BlockDoc[] | undefined {
  try {
    const docs: BlockDoc[] = [];
    let lines: Line[] = [];
    let open = false;
    let markerLine = 0;
    const flush = () => {
      if (!open) return;
      if (lines.length === 0) docs.push({ value: null, start: { line: markerLine, col: 4 } });
      else {
        const r = new Reader(lines, positions);
        const first = lines[0]!;
        const value = r.block(first.indent);
        if (r.i !== lines.length) giveUp();
        docs.push({ value, start: { line: first.no, col: first.indent + 1 } });
      }
      lines = [];
      open = false;
    };
    let no = 0;
    for (let p = 0; p <= text.length; ) {
      let end = text.indexOf('\n', p);
      if (end < 0) end = text.length;
      no++;
      let raw = text.slice(p, end);
      p = end + 1;
      if (raw.endsWith('\r')) raw = raw.slice(0, -1);
      if (raw.startsWith('---') && (raw.length === 3 || raw[3] === ' ')) {
        if (raw.slice(3).trim() !== '' && !raw.slice(3).trim().startsWith('#')) giveUp();
        flush();
        open = true;
        markerLine = no;
        continue;
      }
      if (raw.startsWith('...') && (raw.length === 3 || raw[3] === ' ')) {
        flush();
        continue;
      }
      let indent = 0;
      while (raw.charCodeAt(indent) === 32) indent++;
      if (indent === raw.length || raw[indent] === '#') continue;
      if (raw[indent] === '%' && !open) giveUp(); // directives
      // Most lines have no `#` at all; an unterminated quote without one is caught by `quoted()`.
      const c = raw.indexOf('#', indent) < 0 ? -1 : commentStart(raw);
      const body = c >= 0 ? raw.slice(0, c).trimEnd() : raw.charCodeAt(raw.length - 1) === 32 ? raw.trimEnd() : raw;
      open = true;
      lines.push({ no, indent, text: body.slice(indent) });
    }
    flush();
    return docs;
  } catch (e) {
    if (e instanceof GiveUp) return undefined;
    throw e;
  }
}
