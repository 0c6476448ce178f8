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

const INT = /^[-+]?[0-9]+$/;
const OCT = /^0o[0-7]+$/;
const HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
const INF = /^[-+]?\.(?:inf|Inf|INF)$/;
const NAN = /^\.(?:nan|NaN|NAN)$/;

/** YAML 1.2 core schema resolution of a plain scalar. */
function resolvePlain(s: string): unknown {
  const len = s.length;
  if (len === 0) return null;
  const c = s.charCodeAt(0);
  // Nearly every key and value starts with a letter: then only null and the booleans, in their three
  // spellings each, are not strings (numbers, .inf and .nan start with a digit, a sign or a dot).
  if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) {
    if (len === 4) {
      if (s === 'null' || s === 'Null' || s === 'NULL') return null;
      if (s === 'true' || s === 'True' || s === 'TRUE') return true;
    } else if (len === 5 && (s === 'false' || s === 'False' || s === 'FALSE')) return false;
    return s;
  }
  if (c === 126 /* ~ */ && len === 1) return null;
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

const YAML11_WORD = /^(?:y|yes|n|no|on|off)$/i;
/** Set for the duration of a `readBlockYaml` call that gives up on YAML 1.1 boolean words. */
let stopOnYaml11 = false;

/** A plain value scalar, resolved; gives up on a YAML 1.1 boolean word when asked to. */
function plainValue(s: string): unknown {
  const v = resolvePlain(s);
  if (stopOnYaml11 && s.length <= 3 && YAML11_WORD.test(s)) giveUp();
  return v;
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
  return plainValue(s);
}

interface Entry {
  key: string;
  rest: string;
  restCol: number;
}

/** Splits `key: rest` (rest may be empty); undefined when the text is not a mapping entry. */
function splitEntry(s: string): Entry | undefined {
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
    const e = splitEntry(l.text);
    if (e) return this.map(indent, e, 0);
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
   * (a compact mapping after `- `): `first` is that entry, already split.
   */
  map(indent: number, first: Entry, offset: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const pos = this.positions ? new Map<string, Pos>() : undefined;
    if (pos) this.positions!.set(out, pos);
    let e: Entry | undefined = first;
    let col = indent + 1 + offset;
    for (;;) {
      const line = this.lines[this.i]!;
      if (e === undefined) giveUp();
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
      e = splitEntry(next.text);
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
      const e = splitEntry(rest);
      if (e) {
        out.push(this.map(indent, e, off));
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
        item = plainValue(text);
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

/** Where `text.slice(from, to).trimEnd()` would end (JavaScript's white space and line terminators). */
function trimmedEnd(text: string, from: number, to: number): number {
  while (to > from) {
    const c = text.charCodeAt(to - 1);
    if (
      c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
      c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
    )
      to--;
    else break;
  }
  return to;
}

/**
 * Reads every document of `text`, or returns undefined when the file is outside the subset. With
 * `positions`, records where every key and list item of the returned values was written.
 */
export function readBlockYaml(text: string, positions?: Positions, giveUpOnYaml11Words = false): BlockDoc[] | undefined {
  stopOnYaml11 = giveUpOnYaml11Words;
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
    // Offsets into `text`, not a string per line: only a kept line's content is cut out, once.
    let nextHash = -2; // position of the next `#` at or after the line start (-1: none left)
    for (let p = 0; p <= text.length; ) {
      let end = text.indexOf('\n', p);
      if (end < 0) end = text.length;
      no++;
      const lineEnd = end > p && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
      const lineStart = p;
      p = end + 1;
      const c0 = lineStart < lineEnd ? text.charCodeAt(lineStart) : -1;
      if (c0 === 45 /* - */ && text.startsWith('---', lineStart) && (lineEnd - lineStart === 3 || text.charCodeAt(lineStart + 3) === 32)) {
        const after = text.slice(lineStart + 3, lineEnd).trim();
        if (after !== '' && !after.startsWith('#')) giveUp();
        flush();
        open = true;
        markerLine = no;
        continue;
      }
      if (c0 === 46 /* . */ && text.startsWith('...', lineStart) && (lineEnd - lineStart === 3 || text.charCodeAt(lineStart + 3) === 32)) {
        flush();
        continue;
      }
      let at = lineStart;
      while (at < lineEnd && text.charCodeAt(at) === 32) at++;
      const indent = at - lineStart;
      if (at === lineEnd || text.charCodeAt(at) === 35 /* # */) continue;
      if (text.charCodeAt(at) === 37 /* % */ && !open) giveUp(); // directives
      // Most lines have no `#` at all; an unterminated quote without one is caught by `quoted()`.
      if (nextHash !== -1 && nextHash < at) nextHash = text.indexOf('#', at);
      let bodyEnd = lineEnd;
      if (nextHash !== -1 && nextHash < lineEnd) {
        const c = commentStart(text.slice(lineStart, lineEnd));
        if (c >= 0) bodyEnd = trimmedEnd(text, lineStart, lineStart + c);
      } else if (text.charCodeAt(lineEnd - 1) === 32) bodyEnd = trimmedEnd(text, lineStart, lineEnd);
      open = true;
      lines.push({ no, indent, text: text.slice(Math.min(at, bodyEnd), bodyEnd) });
    }
    flush();
    return docs;
  } catch (e) {
    if (e instanceof GiveUp) return undefined;
    throw e;
  } finally {
    stopOnYaml11 = false;
  }
}
