/**
 * Reading a configuration directory.
 *
 * Which files: every `.yaml`, `.yml` and `.json` file under the directory, recursively, sorted by
 * path (plain code-point order of the `/`-separated relative path). Skipped: names starting with `.`
 * (dotfiles, dot-directories, Kubernetes ConfigMap-mount `..data` links, editor temp files), editor
 * backups ending in `~`, `.swp`/`.swx` swap files, and `node_modules`. Symlinks are followed.
 *
 * How files are named in diagnostics: relative to the loaded directory's parent, so loading
 * `fixtures/quickstart` prints `quickstart/gateway.yaml`. When the directory is the current working
 * directory (`gatehouse validate .`), paths are printed relative to it (`gateway.yaml`). A single
 * file may be loaded too; it is printed as given.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, join, resolve, sep } from 'node:path';
import {
  compareDiagnostics,
  DocumentDecoder,
  type Diagnostic,
  type RawDocument,
  type ResourceSet,
} from '@gatehouse/core';
import { needsFullParse, parseBlock, type ParsedFile } from './block-parse.js';

export interface LoadedDirectory {
  docs: RawDocument[];
  diagnostics: Diagnostic[];
  /** Printed file names, in load order. */
  files: string[];
  /** sha256 over every file's printed path and content: equal hashes mean nothing changed. */
  hash: string;
}

export interface LoadedResources {
  resources: ResourceSet;
  /** Loader and decoder diagnostics together, sorted by file, line, column, code. */
  diagnostics: Diagnostic[];
  files: string[];
  /** As LoadedDirectory's; `''` when the caller passed `{ hash: false }`. */
  hash: string;
}

export interface LoadOptions {
  /**
   * Compute the content hash (default true). The reloader needs it to recognise a no-op save;
   * one-shot commands (`validate`, `routes`, `explain`) do not, and skip hashing every byte read.
   */
  hash?: boolean;
}

/** The path does not exist or is neither a directory nor a file. Callers print `message` and exit. */
export class LoadError extends Error {
  constructor(
    message: string,
    readonly code: 'ENOENT' | 'ENOTDIR' | 'EACCES' | 'EIO',
  ) {
    super(message);
    this.name = 'LoadError';
  }
}

const EXTENSIONS = /\.(ya?ml|json)$/i;

function skipped(name: string): boolean {
  return name.startsWith('.') || name.endsWith('~') || name === 'node_modules' || /\.sw[px]$/i.test(name);
}

interface Found {
  abs: string;
  /** Relative to the loaded directory, `/`-separated. */
  rel: string;
}

/**
 * Synchronous on purpose, like the reads: a directory walk is a few system calls per directory, and
 * the promise versions each wait for a thread-pool round trip (on a busy machine, most of the wall
 * time of listing a thousand-file tree).
 */
function listFiles(root: string, diagnostics: Diagnostic[], display: (rel: string) => string): Found[] {
  const out: Found[] = [];
  const visited = new Set<string>();
  function walkDir(abs: string, rel: string): void {
    let real: string;
    try {
      real = realpathSync(abs);
    } catch {
      real = abs;
    }
    if (visited.has(real)) return; // symlink loop
    visited.add(real);
    let entries;
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch (e) {
      diagnostics.push({ severity: 'error', code: 'READ_ERROR', message: `cannot read directory: ${errText(e)}`, file: display(rel || '.'), line: 1, col: 1 });
      return;
    }
    for (const ent of entries) {
      if (skipped(ent.name)) continue;
      const childAbs = join(abs, ent.name);
      const childRel = rel ? `${rel}/${ent.name}` : ent.name;
      let isDir = ent.isDirectory();
      let isFile = ent.isFile();
      if (ent.isSymbolicLink()) {
        try {
          const st = statSync(childAbs);
          isDir = st.isDirectory();
          isFile = st.isFile();
        } catch {
          continue; // dangling link
        }
      }
      if (isDir) walkDir(childAbs, childRel);
      else if (isFile && EXTENSIONS.test(ent.name)) out.push({ abs: childAbs, rel: childRel });
    }
  }
  walkDir(root, '');
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

function errText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err?.code ? `${err.code}: ${err.message.replace(/^\w+: /, '')}` : String(e);
}

/** Reads and parses every configuration file under `dir` (or the one file `dir`). Throws LoadError only for a bad path. */
export async function loadDirectory(dir: string): Promise<LoadedDirectory> {
  const docs: RawDocument[] = [];
  const read = await readConfig(dir, (parsed) => {
    for (const d of parsed) docs.push(d);
  });
  return { docs, ...read };
}

/**
 * loadDirectory's work, handing each file's documents (in load order) to `sink` as soon as the file is
 * parsed, instead of collecting them.
 */
async function readConfig(dir: string, sink: (docs: RawDocument[]) => void, hashing = true): Promise<Omit<LoadedDirectory, 'docs'>> {
  const abs = resolve(dir);
  let st;
  try {
    st = await stat(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new LoadError(`${dir}: no such file or directory`, 'ENOENT');
    if (code === 'EACCES') throw new LoadError(`${dir}: permission denied`, 'EACCES');
    throw new LoadError(`${dir}: ${errText(e)}`, 'EIO');
  }
  const diagnostics: Diagnostic[] = [];
  let found: Found[];
  let display: (rel: string) => string;
  if (st.isDirectory()) {
    const base = abs === process.cwd() ? '' : basename(abs);
    display = (rel) => (base ? `${base}/${rel}` : rel);
    found = listFiles(abs, diagnostics, display);
  } else if (st.isFile()) {
    const shown = dir.split(sep).join('/');
    display = () => shown;
    found = [{ abs, rel: basename(abs) }];
  } else {
    throw new LoadError(`${dir}: not a directory or a regular file`, 'ENOTDIR');
  }

  const hash = hashing ? createHash('sha256') : null;
  // Read synchronously: for a thousand small files one readFileSync each costs a fraction of the
  // promise version (a thread-pool round trip per open, stat, read and close), and parsing, which
  // follows, holds the event loop anyway.
  const texts = found.map((f) => {
    try {
      return { f, text: readFileSync(f.abs, 'utf8'), error: undefined as unknown };
    } catch (error) {
      return { f, text: undefined, error };
    }
  });
  let order = 0; // global load order of the next document
  const files: string[] = [];
  let full: typeof import('./parse.js') | undefined;
  for (const { f, text, error } of texts) {
    const file = display(f.rel);
    files.push(file);
    hash?.update(f.rel).update('\0');
    if (text === undefined) {
      hash?.update('<unreadable>\0');
      diagnostics.push({ severity: 'error', code: 'READ_ERROR', message: `cannot read file: ${errText(error)}`, file, line: 1, col: 1 });
      continue;
    }
    hash?.update(text).update('\0');
    const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    // Plain block YAML (nearly every file) needs neither YAML library; parse.ts loads them on first use.
    let parsed: ParsedFile | undefined = needsFullParse(body) ? undefined : parseBlock(file, body, order);
    if (parsed === undefined) {
      full ??= await import('./parse.js');
      parsed = full.parseFile(file, body, order, true);
    }
    order += parsed.docs.length;
    diagnostics.push(...parsed.diagnostics);
    sink(parsed.docs);
  }
  return { diagnostics, files, hash: hash ? hash.digest('hex') : '' };
}

/** loadDirectory + decodeDocuments (file by file): what run, validate, routes, explain and status start from. */
export async function loadResources(dir: string, options: LoadOptions = {}): Promise<LoadedResources> {
  // Each file is decoded as soon as it is parsed, and its parsed values dropped (DocumentDecoder): they
  // die young instead of surviving, and being copied by, every scavenge until the directory is read.
  const decoder = new DocumentDecoder();
  const loaded = await readConfig(dir, (docs) => {
    for (const d of docs) {
      decoder.add(d);
      d.value = undefined;
    }
  }, options.hash ?? true);
  const decoded = decoder.finish();
  const diagnostics = [...loaded.diagnostics, ...decoded.diagnostics].sort(compareDiagnostics);
  return { resources: decoded.resources, diagnostics, files: loaded.files, hash: loaded.hash };
}

/** Number of objects in a ResourceSet. */
export function countObjects(set: ResourceSet): number {
  let n = 0;
  for (const list of Object.values(set)) n += (list as unknown[]).length;
  return n;
}


