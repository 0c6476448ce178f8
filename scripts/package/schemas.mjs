#!/usr/bin/env node
/**
 * Writes schemas/ (JSON Schema for every kind Gatehouse reads, and all.json) from the decoder's schema
 * descriptions (packages/core/src/resources/json-schema.ts). Run after `npx tsc -b`:
 *
 *   node scripts/package/schemas.mjs           # regenerate
 *   node scripts/package/schemas.mjs --check   # exit 1 and list the stale files (CI; the schema test does the same)
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = join(ROOT, 'schemas');
const core = await import(pathToFileURL(join(ROOT, 'packages/core/dist/index.js')).href);

/** Every file schemas/ should hold: relative path → text. */
export function expectedFiles() {
  const files = new Map();
  const kinds = core.kindJsonSchemas();
  for (const k of kinds) files.set(k.file, JSON.stringify(k.schema, null, 2) + '\n');
  files.set('all.json', JSON.stringify(core.allJsonSchema(kinds), null, 2) + '\n');
  return files;
}

function existing(dir, base = dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) existing(p, base, out);
    else if (e.name.endsWith('.json')) out.push(relative(base, p));
  }
  return out;
}

const want = expectedFiles();
const have = existing(OUT);
if (process.argv.includes('--check')) {
  const stale = [...want].filter(([f, text]) => !existsSync(join(OUT, f)) || readFileSync(join(OUT, f), 'utf8') !== text).map(([f]) => f);
  const extra = have.filter((f) => !want.has(f));
  if (stale.length || extra.length) {
    process.stderr.write(`schemas/ is stale: ${[...stale, ...extra.map((f) => `${f} (not generated)`)].join(', ')}\nrun: npx tsc -b && node scripts/package/schemas.mjs\n`);
    process.exit(1);
  }
  process.stdout.write(`schemas/ is up to date (${want.size} files)\n`);
} else {
  for (const f of have) if (!want.has(f)) rmSync(join(OUT, f));
  for (const [f, text] of want) {
    mkdirSync(dirname(join(OUT, f)), { recursive: true });
    writeFileSync(join(OUT, f), text);
  }
  process.stdout.write(`wrote ${want.size} files under schemas/\n`);
}
