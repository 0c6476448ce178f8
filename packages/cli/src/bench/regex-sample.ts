/**
 * A string that a (simple) RE2 regular expression matches in full, for deriving bench requests from
 * RegularExpression path/header/query matches. Handles literals, escapes (\d \w \s \. …), `.`,
 * character classes (ranges, negation), groups (`(…)`, `(?:…)`, `(?P<n>…)`), alternation (the first
 * alternative that works), quantifiers (`* + ? {n} {n,} {n,m}`, lazy or not: the minimum count, at
 * least one for `+`) and the anchors `^ $`. Anything else (look-arounds are not RE2 anyway, `\p{…}`,
 * back-references, flags other than a leading `(?i)`) gives null: the caller skips that match with a
 * note. The result is only a candidate: callers check it against the real matcher.
 */
type Node =
  | { t: 'lit'; s: string }
  | { t: 'set'; pick: string | null }
  | { t: 'seq'; items: Node[] }
  | { t: 'alt'; alts: Node[] }
  | { t: 'rep'; node: Node; min: number };

class Unsupported extends Error {}

/** Characters tried, in order, when a class or `.` needs one. */
const ALPHABET = 'abcxyz0123456789ABCXYZ-_.~/';

function classPick(test: (c: string) => boolean, negated: boolean): string | null {
  for (const c of ALPHABET) if (test(c) !== negated) return c;
  return null;
}

const ESCAPE_CLASS: Record<string, (c: string) => boolean> = {
  d: (c) => c >= '0' && c <= '9',
  D: (c) => !(c >= '0' && c <= '9'),
  w: (c) => /[A-Za-z0-9_]/.test(c),
  W: (c) => !/[A-Za-z0-9_]/.test(c),
  s: (c) => c === ' ' || c === '\t',
  S: (c) => !(c === ' ' || c === '\t'),
};

class Parser {
  i = 0;
  constructor(readonly src: string) {}

  peek(): string | undefined {
    return this.src[this.i];
  }

  alt(): Node {
    const alts = [this.seq()];
    while (this.peek() === '|') {
      this.i++;
      alts.push(this.seq());
    }
    return alts.length === 1 ? alts[0]! : { t: 'alt', alts };
  }

  seq(): Node {
    const items: Node[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === '|' || c === ')') break;
      let atom = this.atom();
      atom = this.quantified(atom);
      items.push(atom);
    }
    return { t: 'seq', items };
  }

  quantified(atom: Node): Node {
    const c = this.peek();
    let min: number | null = null;
    if (c === '*' || c === '?') min = 0;
    else if (c === '+') min = 1;
    if (min !== null) {
      this.i++;
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i));
      if (m === null) return atom; // a literal `{` in RE2 when it is not a repetition
      this.i += m[0].length;
      min = Number(m[1]);
      if (min > 1000) throw new Unsupported('repetition too large');
    } else return atom;
    if (this.peek() === '?') this.i++; // lazy
    return { t: 'rep', node: atom, min };
  }

  atom(): Node {
    const c = this.src[this.i++]!;
    switch (c) {
      case '(': {
        if (this.src.startsWith('?:', this.i)) this.i += 2;
        else if (this.src.startsWith('?P<', this.i) || this.src.startsWith('?<', this.i)) {
          const end = this.src.indexOf('>', this.i);
          if (end < 0) throw new Unsupported('bad group');
          this.i = end + 1;
        } else if (this.src.startsWith('?i)', this.i) && this.i === 1) {
          this.i += 3; // leading case-insensitive flag: a lowercase sample still matches
          return { t: 'lit', s: '' };
        } else if (this.peek() === '?') throw new Unsupported('group flags');
        const inner = this.alt();
        if (this.src[this.i++] !== ')') throw new Unsupported('unbalanced (');
        return inner;
      }
      case '[':
        return this.klass();
      case '.':
        return { t: 'set', pick: 'a' };
      case '^':
      case '$':
        return { t: 'lit', s: '' };
      case '\\':
        return this.escape(false) as Node;
      case '*':
      case '+':
      case '?':
        throw new Unsupported('dangling quantifier');
      default:
        return { t: 'lit', s: c };
    }
  }

  /** After a backslash; in a class returns a test function. */
  escape(inClass: boolean): Node | ((c: string) => boolean) | string {
    const c = this.src[this.i++];
    if (c === undefined) throw new Unsupported('trailing backslash');
    const cls = ESCAPE_CLASS[c];
    if (cls) return inClass ? cls : { t: 'set', pick: classPick(cls, false) };
    if (c === 'A' || c === 'z' || c === 'b' || c === 'B') {
      if (inClass) throw new Unsupported(`\\${c}`);
      if (c === 'b' || c === 'B') throw new Unsupported('word boundary');
      return { t: 'lit', s: '' };
    }
    if (/[A-Za-z0-9]/.test(c)) {
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v' };
      if (simple[c] !== undefined) return inClass ? simple[c]! : { t: 'lit', s: simple[c]! };
      if (c === 'x') {
        const m = /^([0-9a-fA-F]{2})/.exec(this.src.slice(this.i));
        if (m === null) throw new Unsupported('\\x{…}');
        this.i += 2;
        const ch = String.fromCharCode(parseInt(m[1]!, 16));
        return inClass ? ch : { t: 'lit', s: ch };
      }
      throw new Unsupported(`\\${c}`);
    }
    return inClass ? c : { t: 'lit', s: c };
  }

  klass(): Node {
    let negated = false;
    if (this.peek() === '^') {
      negated = true;
      this.i++;
    }
    const tests: ((c: string) => boolean)[] = [];
    let first = true;
    let firstChar: string | null = null;
    for (;;) {
      const c = this.src[this.i];
      if (c === undefined) throw new Unsupported('unclosed [');
      if (c === ']' && !first) {
        this.i++;
        break;
      }
      first = false;
      if (c === '[' && this.src[this.i + 1] === ':') throw new Unsupported('[[:class:]]');
      let lo: string;
      this.i++;
      if (c === '\\') {
        const e = this.escape(true);
        if (typeof e === 'function') {
          tests.push(e);
          continue;
        }
        lo = e as string;
      } else lo = c;
      if (this.peek() === '-' && this.src[this.i + 1] !== undefined && this.src[this.i + 1] !== ']') {
        this.i++;
        let hi = this.src[this.i++]!;
        if (hi === '\\') {
          const e = this.escape(true);
          if (typeof e === 'function') throw new Unsupported('class range to an escape class');
          hi = e as string;
        }
        const l = lo, h = hi;
        tests.push((x) => x >= l && x <= h);
        firstChar ??= l;
      } else {
        const l = lo;
        tests.push((x) => x === l);
        firstChar ??= l;
      }
    }
    const test = (x: string): boolean => tests.some((f) => f(x));
    const safe = firstChar !== null && !/[\s?#%\\]/.test(firstChar) ? firstChar : null;
    const pick = negated ? classPick(test, true) : (classPick(test, false) ?? safe);
    return { t: 'set', pick };
  }
}

function render(n: Node): string | null {
  switch (n.t) {
    case 'lit':
      return n.s;
    case 'set':
      return n.pick;
    case 'seq': {
      let out = '';
      for (const it of n.items) {
        const s = render(it);
        if (s === null) return null;
        out += s;
      }
      return out;
    }
    case 'alt':
      for (const a of n.alts) {
        const s = render(a);
        if (s !== null) return s;
      }
      return null;
    case 'rep': {
      if (n.min === 0) return '';
      const s = render(n.node);
      return s === null ? null : s.repeat(n.min);
    }
  }
}

/** A candidate string the pattern matches in full, or null when the pattern is beyond this sampler. */
export function sampleRegex(pattern: string): string | null {
  try {
    const p = new Parser(pattern);
    const node = p.alt();
    if (p.i !== pattern.length) return null;
    return render(node);
  } catch (e) {
    if (e instanceof Unsupported) return null;
    throw e;
  }
}
