import type { PathModifierIR } from '@gatehouse/core';

/**
 * HTTPPathModifier (features.md §9.4), shared by URLRewrite and RequestRedirect. Prepared once:
 * ReplacePrefixMatch keeps `rest = path[len(prefix):]` and returns `stripTrailingSlash(replacement) + rest`
 * (or `/` when that is empty), which reproduces every row of the spec's table.
 */
export class PathModifier {
  readonly full: boolean;
  readonly value: string;
  readonly prefixLength: number;
  readonly replacement: string;

  constructor(ir: PathModifierIR) {
    this.full = ir.type === 'ReplaceFullPath';
    this.value = ir.value;
    this.replacement = stripTrailingSlash(ir.value);
    this.prefixLength = stripTrailingSlash(ir.prefix ?? '').length;
  }

  /** The modified path (no query). `path` is the normalised request path the rule matched. */
  apply(path: string): string {
    if (this.full) return this.value;
    const rest = path.length > this.prefixLength ? path.slice(this.prefixLength) : '';
    const out = this.replacement + (rest === '' || rest.charCodeAt(0) === 47 /* / */ ? rest : '/' + rest);
    return out === '' ? '/' : out;
  }
}

function stripTrailingSlash(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 47) end--;
  return end === s.length ? s : s.slice(0, end);
}
