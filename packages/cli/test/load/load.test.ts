import t from 'tap';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoadError, loadDirectory, loadResources } from '../../src/load/index.js';

function tree(files: Record<string, string>): string {
  const root = join(mkdtempSync(join(tmpdir(), 'gh-load-')), 'config');
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}

const svc = (name: string) => `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  ports:\n  - port: 80\n`;

t.test('which files load, in which order, and how they are named', async (t) => {
  const dir = tree({
    'b.yaml': svc('b'),
    'a.yml': svc('a'),
    'sub/c.json': JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'c' } }),
    'sub/deeper/d.YAML': svc('d'),
    '.hidden.yaml': svc('hidden'),
    '.git/config.yaml': svc('git'),
    'node_modules/x/e.yaml': svc('nm'),
    'b.yaml~': svc('backup'),
    '.b.yaml.swp': 'binary',
    'x.yaml.swx': 'binary',
    'README.md': '# not config',
    '..data/real.yaml': svc('configmap-mount'),
  });
  const r = await loadDirectory(dir);
  t.same(r.files, ['config/a.yml', 'config/b.yaml', 'config/sub/c.json', 'config/sub/deeper/d.YAML']);
  t.same(r.diagnostics, []);
  t.same(r.docs.map((d) => [d.file, d.index, d.order]), [
    ['config/a.yml', 0, 0],
    ['config/b.yaml', 0, 1],
    ['config/sub/c.json', 0, 2],
    ['config/sub/deeper/d.YAML', 0, 3],
  ]);
});

t.test('symlinked files are followed (ConfigMap mounts), loops are not', async (t) => {
  const dir = tree({ '..data/gw.yaml': svc('linked') });
  symlinkSync(join(dir, '..data/gw.yaml'), join(dir, 'gw.yaml'));
  symlinkSync(dir, join(dir, 'loop'));
  const r = await loadResources(dir);
  t.same(r.resources.services.map((s) => s.metadata.name), ['linked']);
  t.same(r.files, ['config/gw.yaml']);
});

t.test('multi-document files, a syntax error in one document', async (t) => {
  const dir = tree({ 'all.yaml': `${svc('one')}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: [broken\n---\n${svc('three')}---\n` });
  const r = await loadResources(dir);
  t.same(r.resources.services.map((s) => s.metadata.name), ['one', 'three']);
  t.equal(r.diagnostics.length, 1);
  t.match(r.diagnostics[0], { severity: 'error', code: 'YAML_SYNTAX', file: 'config/all.yaml', line: 13 });
  t.match(r.diagnostics[0]!.message, /document 2 of this file is skipped/);
});

t.test('locate: keys, list items, the nearest ancestor', async (t) => {
  const dir = tree({
    'r.yaml': [
      '# comment',
      'apiVersion: gateway.networking.k8s.io/v1',
      'kind: HTTPRoute',
      'metadata:',
      '  name: r',
      'spec:',
      '  rules:',
      '  - backendRefs:',
      '    - name: a',
      '      port: 80',
      '    - {name: b, port: 81}',
      '',
    ].join('\n'),
  });
  const [doc] = (await loadDirectory(dir)).docs;
  const at = (p: (string | number)[]) => {
    const { line, col } = doc!.locate(p);
    return `${line}:${col}`;
  };
  t.equal(at([]), '2:1');
  t.equal(at(['kind']), '3:1');
  t.equal(at(['spec', 'rules', 0]), '8:5');
  t.equal(at(['spec', 'rules', 0, 'backendRefs', 0, 'port']), '10:7');
  t.equal(at(['spec', 'rules', 0, 'backendRefs', 1]), '11:7');
  t.equal(at(['spec', 'rules', 0, 'backendRefs', 1, 'port']), '11:17');
  t.equal(at(['spec', 'rules', 0, 'backendRefs', 1, 'weight']), '11:7', 'missing key: the nearest ancestor');
  t.equal(at(['spec', 'rules', 5, 'matches']), '7:3', 'missing index: the list');
  t.equal(doc!.locate(['kind']).file, 'config/r.yaml');
});

t.test('JSON files keep positions too', async (t) => {
  const dir = tree({ 'r.json': '{\n  "apiVersion": "gateway.networking.k8s.io/v1",\n  "kind": "HTTPRoute",\n  "metadata": {"name": "r"},\n  "spec": {"hostnames": ["Bad.example.com"]}\n}\n' });
  const r = await loadResources(dir);
  t.match(r.diagnostics, [{ code: 'INVALID_HOSTNAME', file: 'config/r.json', line: 5, col: 26, path: 'spec.hostnames[0]' }]);
});

t.test('YAML 1.1 booleans: unquoted y/yes/no/on/off in any case warn; quoted do not', async (t) => {
  const dir = tree({
    'cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flags\ndata:\n  a: on\n  b: OFF\n  c: Y\n  d: "yes"\n  e: true\n  f: nope\n',
  });
  const r = await loadResources(dir);
  t.same(
    r.diagnostics.map((d) => `${d.line}:${d.col} ${d.severity} ${d.code} ${d.object} ${d.path}`),
    ['6:6 warning YAML11_BOOLEAN ConfigMap default/flags data.a', '7:6 warning YAML11_BOOLEAN ConfigMap default/flags data.b', '8:6 warning YAML11_BOOLEAN ConfigMap default/flags data.c', '10:3 error INVALID_TYPE ConfigMap default/flags data.e'],
  );
  t.match(r.diagnostics[1]!.message, /unquoted OFF is the string "OFF" in YAML 1\.2, not the boolean false/);
});

t.test('hash: stable for the same content, changes with content or names', async (t) => {
  const dir = tree({ 'a.yaml': svc('a'), 'b.yaml': svc('b') });
  const h1 = (await loadDirectory(dir)).hash;
  t.equal((await loadDirectory(dir)).hash, h1);
  t.match(h1, /^[0-9a-f]{64}$/);
  writeFileSync(join(dir, 'b.yaml'), svc('b2'));
  const h2 = (await loadDirectory(dir)).hash;
  t.not(h2, h1);
  writeFileSync(join(dir, 'b.yaml'), svc('b'));
  t.equal((await loadDirectory(dir)).hash, h1, 'back to the same content');
  writeFileSync(join(dir, 'README.md'), 'ignored');
  t.equal((await loadDirectory(dir)).hash, h1, 'files that are not loaded do not count');
});

t.test('a path that does not exist is a LoadError; a single file loads', async (t) => {
  await t.rejects(loadDirectory('/nonexistent/gatehouse-config'), { name: 'LoadError', code: 'ENOENT', message: '/nonexistent/gatehouse-config: no such file or directory' });
  t.ok(LoadError);
  const dir = tree({ 'one.yaml': svc('one') });
  const r = await loadResources(join(dir, 'one.yaml'));
  t.same(r.resources.services.map((s) => s.metadata.name), ['one']);
  t.equal(r.files.length, 1);
});

t.test('the current directory prints bare relative paths', async (t) => {
  const dir = tree({ 'x/r.yaml': 'apiVersion: v1\nkind: Service\nmetadata:\n  name: Bad_Name\n' });
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const r = await loadResources('.');
    t.match(r.diagnostics, [{ file: 'x/r.yaml', line: 4, code: 'INVALID_NAME' }]);
  } finally {
    process.chdir(cwd);
  }
});

t.test('diagnostics come sorted by file, line, column', async (t) => {
  const dir = tree({
    'b.yaml': 'apiVersion: v1\nkind: Service\nmetadata:\n  name: b\nspec:\n  ports:\n  - port: 0\n',
    'a.yaml': 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  type: Foo\n',
  });
  const r = await loadResources(dir);
  t.same(r.diagnostics.map((d) => `${d.file}:${d.line} ${d.code}`), ['config/a.yaml:2 UNSUPPORTED_KIND', 'config/a.yaml:11 INVALID_ENUM', 'config/b.yaml:7 OUT_OF_RANGE']);
});

t.test('the js-yaml fast path and the yaml path agree on values and document starts', async (t) => {
  const { parseFast, parseFull } = await import('../../src/load/parse.js');
  const { readdirSync, readFileSync, statSync } = await import('node:fs');
  const files: string[] = [];
  const walkDir = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walkDir(p);
      else if (/\.ya?ml$/.test(e)) files.push(p);
    }
  };
  walkDir('/work/shared/conformance');
  walkDir(join(import.meta.dirname, '../../../../fixtures'));
  const extra = ['', '# only a comment\n', 'a: 1\n---\n', '---\na: 1\n...\n---\nb: 2\n', '--- {a: 1}\n---\n', '%YAML 1.2\n---\nx: [1, 2]\n'];
  let compared = 0;
  for (const [name, text] of [...files.map((f) => [f, readFileSync(f, 'utf8')] as const), ...extra.map((x, i) => [`extra-${i}`, x] as const)]) {
    const fast = parseFast('f.yaml', text, 0);
    if (!fast) continue;
    const full = parseFull('f.yaml', text, 0);
    if (full.diagnostics.length) continue;
    compared++;
    t.same(fast.docs.map((d) => d.value), full.docs.map((d) => d.value), `${name}: values`);
    t.same(fast.docs.map((d) => d.locate([])), full.docs.map((d) => d.locate([])), `${name}: document starts`);
    t.same(fast.docs.map((d) => d.locate(['metadata', 'name'])), full.docs.map((d) => d.locate(['metadata', 'name'])), `${name}: inner positions`);
  }
  t.ok(compared > 150, `${compared} files compared`);
});

t.test('a file that cannot be read is a diagnostic, and the rest still loads', { skip: process.platform !== 'linux' && 'needs /proc' }, async (t) => {
  const dir = tree({ 'good.yaml': svc('good') });
  symlinkSync('/proc/self/mem', join(dir, 'bad.yaml')); // a "file" whose read fails with EIO
  const r = await loadResources(dir);
  t.same(r.resources.services.map((s) => s.metadata.name), ['good']);
  t.match(r.diagnostics, [{ severity: 'error', code: 'READ_ERROR', file: 'config/bad.yaml', line: 1, col: 1, message: /^cannot read file: EIO/ }]);
  t.same(r.files, ['config/bad.yaml', 'config/good.yaml']);
});

t.test('the block-YAML reader agrees with the yaml path on values and every position', async (t) => {
  const { parseBlock, parseFull } = await import('../../src/load/parse.js');
  const { readdirSync, readFileSync, statSync } = await import('node:fs');
  const files: string[] = [];
  const walkDir = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walkDir(p);
      else if (/\.ya?ml$/.test(e)) files.push(p);
    }
  };
  walkDir('/work/shared/conformance');
  walkDir(join(import.meta.dirname, '../../../../fixtures'));
  const extra = [
    '', '# only a comment\n', 'a: 1\n---\n', '---\na: 1\n...\n---\nb: 2\n', '--- # c\na:\n- 1\n- -2\n- 0x1f\n- 0o17\n- 1.5e3\n- .inf\n- ~\n- null\n- true\n- "q\\"uote\\u00e9"\n- \'it\'\'s\'\n',
    'k:\n  - a: 1\n    b:\n      c: d\n  -\n    e: f\n  - g\n"quoted key": x # comment\nurl: http://a:80/b#frag\nempty:\nafter: 1\n',
    'a: b\r\nc:\r\n  - d\r\n',
    'spec:\n  hostnames: ["a.example.com", b.example.com, \'c\']\n  empty: []\n  map: {}\n  nums: [1, 0x10, -2.5, ~, true]\n  list:\n  - [x, z]\n  - {}\n',
  ];
  let compared = 0;
  for (const [name, text] of [...files.map((f) => [f, readFileSync(f, 'utf8')] as const), ...extra.map((x, i) => [`extra-${i}`, x] as const)]) {
    const fast = parseBlock('f.yaml', text, 0);
    if (!fast) continue;
    const full = parseFull('f.yaml', text, 0);
    t.same(full.diagnostics, [], `${name}: the reader accepted only valid YAML`);
    compared++;
    t.same(fast.docs.map((d) => d.value), full.docs.map((d) => d.value), `${name}: values`);
    // Every path into every document locates to the same place.
    const mismatches: string[] = [];
    fast.docs.forEach((d, i) => {
      const visit = (v: unknown, path: (string | number)[]) => {
        const a = d.locate(path), b = full.docs[i]!.locate(path);
        if (a.line !== b.line || a.col !== b.col) mismatches.push(`${path.join('.')}: ${a.line}:${a.col} vs ${b.line}:${b.col}`);
        if (Array.isArray(v)) v.forEach((x, j) => visit(x, [...path, j]));
        else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) visit(x, [...path, k]);
      };
      visit(d.value, []);
      visit(undefined, ['no-such-key']);
    });
    t.same(mismatches.slice(0, 5), [], `${name}: positions`);
  }
  t.ok(compared > 150, `${compared} files compared`);
});

t.test('fuzz: when the block reader accepts mangled text, yaml reads the same values', async (t) => {
  const { parseBlock, parseFull } = await import('../../src/load/parse.js');
  const { readFileSync } = await import('node:fs');
  const base = ['seed/v1/02-whoami-nginx.yaml', 'seed/v1/00-gateway.yaml', 'invalid/typo-weight/route.yaml'].map((f) =>
    readFileSync(join(import.meta.dirname, '../../../../fixtures', f), 'utf8'),
  );
  base.push('spec:\n  hostnames: ["a.example.com", b.example.com, \'c\']\n  empty: []\n  map: {}\n  rules:\n  - methods: [GET, "POST"]\n    x: {}\n');
  let seed = 11;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  const bits = [' ', '  ', '-', '- ', ':', ': ', '#', ' #', '"', "'", '\n', '\n  ', 'x', '---\n', '...', '\\', '0x1', '~', '[', '{', ']', '}', ',', ', '];
  let accepted = 0;
  const disagreements: string[] = [];
  for (let i = 0; i < 3000; i++) {
    let text = base[rnd(base.length)]!;
    for (let k = 1 + rnd(3); k > 0; k--) {
      const at = rnd(text.length);
      text = rnd(2) ? text.slice(0, at) + bits[rnd(bits.length)] + text.slice(at) : text.slice(0, at) + text.slice(at + 1 + rnd(3));
    }
    const fast = parseBlock('f.yaml', text, 0);
    if (!fast) continue;
    accepted++;
    const full = parseFull('f.yaml', text, 0);
    const same = full.diagnostics.length === 0 && JSON.stringify(fast.docs.map((d) => d.value)) === JSON.stringify(full.docs.map((d) => d.value));
    if (!same && disagreements.length < 3) disagreements.push(JSON.stringify(text));
  }
  t.same(disagreements, [], 'no text where the two disagree');
  t.ok(accepted > 300, `${accepted} mangled texts accepted and compared`);
});
