/**
 * Watches the config directory and calls `onChange` (debounced) after anything in it changed.
 *
 * - chokidar@4, recursive, native events by default or stat polling (`--watch-poll`, for network and
 *   some container filesystems).
 * - Ignores dotfiles and editor droppings (swap, backup, `~`, `#…#`, vim's `4913` probe) but NOT
 *   Kubernetes' `..data` / `..2026_…` entries: a mounted ConfigMap/Secret volume updates by re-pointing
 *   the `..data` symlink atomically, and that rename is the only event there is.
 * - Editor rename-saves (write temp, rename over) show up as unlink+add or change; any mix of events in
 *   one burst becomes one call. The reloader's content hash turns a no-op save into nothing.
 */
import { watch, type FSWatcher } from 'chokidar';
import { basename, resolve } from 'node:path';
import type { Logger } from '@gatehouse/proxy';

export interface WatchOptions {
  /** Stat polling instead of native events. */
  poll?: boolean;
  /** Polling interval (default 500 ms). */
  pollIntervalMs?: number;
  /** Quiet time before `onChange` (default 200 ms). */
  debounceMs?: number;
  logger?: Logger;
}

/** Whether a path inside the config dir is noise that must not trigger a reload. */
export function isIgnoredPath(path: string): boolean {
  const b = basename(path);
  if (b.startsWith('..')) return false; // Kubernetes atomic-writer entries (..data, ..2026_11_26_...)
  if (b.startsWith('.')) return true; // dotfiles, .swp, .#emacs locks, .git
  if (b.endsWith('~')) return true; // backups
  if (/\.(swp|swo|swx|swpx|tmp|bak|orig|rej|crdownload|part)$/i.test(b)) return true;
  if (/^#.*#$/.test(b)) return true; // emacs autosave
  if (b === '4913') return true; // vim's write probe
  return false;
}

export class ConfigWatcher {
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly root: string;
  private readonly debounceMs: number;
  private closed = false;
  /** Events seen (for tests and debug logs). */
  events = 0;

  constructor(
    dir: string,
    private readonly onChange: (paths: string[]) => void,
    private readonly opts: WatchOptions = {},
  ) {
    this.root = resolve(dir);
    this.debounceMs = opts.debounceMs ?? 200;
  }

  private pending = new Set<string>();

  /** Starts watching; resolves once the initial scan is done (events before that are not missed). */
  start(): Promise<void> {
    const root = this.root;
    const w = watch(root, {
      ignoreInitial: true,
      persistent: true,
      followSymlinks: true,
      usePolling: this.opts.poll === true,
      interval: this.opts.pollIntervalMs ?? 500,
      binaryInterval: this.opts.pollIntervalMs ?? 500,
      atomic: true,
      ignored: (p: string) => resolve(p) !== root && isIgnoredPath(p),
    });
    this.watcher = w;
    w.on('all', (event, path) => this.bump(`${event} ${path}`));
    w.on('error', (err) => this.opts.logger?.warn('config watcher error', { error: err instanceof Error ? err.message : String(err) }));
    return new Promise((res) => w.once('ready', () => res()));
  }

  private bump(what: string): void {
    if (this.closed) return;
    this.events++;
    this.pending.add(what);
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      const paths = [...this.pending];
      this.pending.clear();
      this.opts.logger?.debug('config directory changed', { events: paths.length, first: paths[0] });
      this.onChange(paths);
    }, this.debounceMs);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.watcher?.close();
    this.watcher = null;
  }
}
