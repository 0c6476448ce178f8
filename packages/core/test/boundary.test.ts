// The arrows point one way (cli → proxy → core) and every package imports only what it declares.
// core is pure: no `node:` builtins and no runtime packages except the RE2 engine.
import t from 'tap';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const builtins = new Set(builtinModules);

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs: string[] = [];
  for (const m of text.matchAll(IMPORT_RE)) specs.push((m[1] ?? m[2])!);
  return specs;
}

function packageName(spec: string): string {
  if (spec.startsWith('@')) return spec.split('/').slice(0, 2).join('/');
  return spec.split('/')[0]!;
}

const rules: Record<string, { allowNode: boolean; forbidden: string[] }> = {
  core: { allowNode: false, forbidden: ['@gatehouse/proxy', '@gatehouse/cli'] },
  proxy: { allowNode: true, forbidden: ['@gatehouse/cli'] },
  cli: { allowNode: true, forbidden: [] },
};

for (const [pkg, rule] of Object.entries(rules)) {
  t.test(`packages/${pkg} imports`, async (t) => {
    const manifest = JSON.parse(readFileSync(join(root, 'packages', pkg, 'package.json'), 'utf8'));
    const declared = new Set(Object.keys(manifest.dependencies ?? {}));
    const problems: string[] = [];
    const files = sourceFiles(join(root, 'packages', pkg, 'src'));
    t.ok(files.length > 0, 'has sources');
    for (const file of files) {
      for (const spec of imports(file)) {
        if (spec.startsWith('.')) continue;
        const where = relative(root, file);
        const isNode = spec.startsWith('node:') || builtins.has(packageName(spec));
        if (isNode) {
          if (!rule.allowNode) problems.push(`${where}: imports ${spec} (core must stay free of Node APIs)`);
          continue;
        }
        const name = packageName(spec);
        if (rule.forbidden.includes(name)) problems.push(`${where}: imports ${spec} (arrows point cli → proxy → core)`);
        else if (!declared.has(name)) problems.push(`${where}: imports ${spec}, not declared in packages/${pkg}/package.json`);
      }
    }
    t.same(problems, [], 'no undeclared or forbidden imports');
  });
}
