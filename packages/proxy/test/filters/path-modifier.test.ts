import t from 'tap';
import { PathModifier } from '../../src/filters/path-modifier.js';

t.test('ReplacePrefixMatch reproduces the spec table (features.md §9.4)', async (t) => {
  const rows: [string, string, string, string][] = [
    ['/foo/bar', '/foo', '/xyz', '/xyz/bar'],
    ['/foo/bar', '/foo', '/xyz/', '/xyz/bar'],
    ['/foo/bar', '/foo/', '/xyz', '/xyz/bar'],
    ['/foo/bar', '/foo/', '/xyz/', '/xyz/bar'],
    ['/foo', '/foo', '/xyz', '/xyz'],
    ['/foo/', '/foo', '/xyz', '/xyz/'],
    ['/foo/bar', '/foo', '', '/bar'],
    ['/foo/', '/foo', '', '/'],
    ['/foo', '/foo', '', '/'],
    ['/foo/', '/foo', '/', '/'],
    ['/foo', '/foo', '/', '/'],
    ['/strip-prefix/three', '/strip-prefix', '/', '/three'],
    ['/strip-prefix', '/strip-prefix', '/', '/'],
    ['/prefix/one/two', '/prefix/one', '/one', '/one/two'],
    ['/anything', '/', '/x', '/x/anything'],
  ];
  for (const [path, prefix, value, want] of rows) {
    const m = new PathModifier({ type: 'ReplacePrefixMatch', value, prefix: prefix.replace(/\/$/, '') });
    t.equal(m.apply(path), want, `${path}, ${prefix}, "${value}" → ${want}`);
  }
  t.equal(new PathModifier({ type: 'ReplaceFullPath', value: '/one' }).apply('/a/b'), '/one');
});
