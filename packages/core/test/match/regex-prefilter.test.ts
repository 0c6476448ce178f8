// The regex prefilter (literal prefix + required literal runs, match/trie.ts) must never reject a path
// RE2 accepts: Candidate.regexMatches must equal a plain RE2 full match on every input. Inputs are
// built from the patterns' own pieces in order (so many match) plus one-character mutations of them.
import t from 'tap';
import { internCandidate } from '../../src/match/candidate.js';
import { compileFullMatch } from '../../src/match/predicates.js';
import { regexLiteralPrefix, regexRequiredLiterals } from '../../src/match/trie.js';
import type { HttpMatchEntry } from '../../src/ir/types.js';

const PATTERNS: [string, string[]][] = [
  ['/api/v[0-9]+/items/[0-9]+', ['/api/v', '1', '23', '/items/', '7', '/item/', 'x']],
  ['/a\\.b+c', ['/a', '.', 'b', 'bb', 'c', 'x']],
  ['/x{2}y', ['/', 'x', 'xx', 'y']],
  ['/a[]b]c', ['/a', ']', 'b', 'c']],
  ['/ab?c/d*e+f', ['/a', 'b', 'c', '/', 'd', 'e', 'f']],
  ['/a{x}', ['/a', '{x}', 'a', 'x']],
  ['^/p/[^/]+/q$', ['/p/', 'z', '/', '/q', 'q']],
  ['/v1/.*/end', ['/v1/', 'a/b', '/end', 'end', '/']],
  ['/s\\/t/u', ['/s', '/t', '/u', 't']],
  ['/a+b*?c', ['/', 'a', 'aa', 'b', 'c']],
  ['/x[a-c]{1,3}z', ['/x', 'a', 'bc', 'abc', 'z', 'd']],
  ['/lit]/x}', ['/lit', ']', '/x', '}']],
];

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

t.test('prefilter never changes the answer of RE2', async (t) => {
  const random = rng(42);
  const entry = (value: string): HttpMatchEntry => ({
    hostname: '*', path: { type: 'RegularExpression', value }, method: null, headers: [], queryParams: [],
    grpc: false, grpcMethod: null, rule: 0, matchIndex: 0, listener: 0,
  });
  let cases = 0, matches = 0, bad = 0;
  for (const [pattern, pieces] of PATTERNS) {
    const re = compileFullMatch(pattern);
    const c = internCandidate(entry(pattern), new Map(), new Map(), re, regexLiteralPrefix(pattern));
    for (let k = 0; k < 3000; k++) {
      // mostly the pieces in order (each skipped, doubled or swapped for another now and then)
      let s = '';
      for (const piece of pieces) {
        const r = random();
        if (r < 0.15) continue;
        s += r < 0.25 ? piece + piece : r < 0.35 ? pieces[Math.floor(random() * pieces.length)]! : piece;
      }
      if (random() < 0.3 && s.length > 1) {
        const at = Math.floor(random() * s.length);
        s = s.slice(0, at) + s.slice(at + 1);
      }
      const want = re.test(s);
      cases++;
      if (want) matches++;
      if (c.regexMatches(s) !== want) {
        bad++;
        if (bad < 5) t.fail(`${pattern} on ${JSON.stringify(s)}: RE2 ${want}, prefiltered ${!want}`);
      }
    }
  }
  t.equal(bad, 0, `${cases} inputs, ${matches} RE2 matches`);
  t.ok(matches > 1000, 'enough matching inputs to mean something');
});

t.test('required literals are conservative', async (t) => {
  t.same(regexRequiredLiterals('/api/v[0-9]+/items/[0-9]+'), ['/api/v', '/items/']);
  t.same(regexRequiredLiterals('/ab?c/d*e+f'), ['/a', 'c/', 'f']);
  for (const p of ['/a|/b', '(?i)/api', '/a\\d', '/[[:alpha:]]x', '/\\x41', '/ä', '/a{']) t.same(regexRequiredLiterals(p), [], p);
});
