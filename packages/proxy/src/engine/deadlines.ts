/**
 * Request and per-attempt timeouts without a timer per request: exchanges with a deadline sit in one
 * Set, and a single unref'd interval (running only while the set is non-empty) expires them. Resolution
 * is `tickMs` (default 10 ms), which is far below the timeouts users configure.
 */
export interface Expirable {
  /** Absolute time (performance.now()) at which `expire` must be called; Infinity = none. */
  deadline: number;
  expire(now: number): void;
}

export class Deadlines {
  readonly #items = new Set<Expirable>();
  readonly #tickMs: number;
  #timer: NodeJS.Timeout | null = null;

  constructor(tickMs = 10) {
    this.#tickMs = tickMs;
  }

  add(item: Expirable): void {
    this.#items.add(item);
    if (this.#timer === null) {
      this.#timer = setInterval(() => this.#tick(), this.#tickMs);
      this.#timer.unref();
    }
  }

  delete(item: Expirable): void {
    this.#items.delete(item);
  }

  get size(): number {
    return this.#items.size;
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  #tick(): void {
    if (this.#items.size === 0) {
      this.stop();
      return;
    }
    const now = performance.now();
    for (const item of this.#items) if (item.deadline <= now) item.expire(now);
  }
}
