/**
 * Passive health checking (outlier detection, after Envoy's `consecutive_5xx`): an endpoint that fails
 * `consecutiveFailures` times in a row (5xx answers, connect errors, resets, timeouts) is ejected for
 * `baseEjectionMs × times ejected` (capped by `maxEjectionMs`), and pickers skip it until then. At most
 * `maxEjectionPercent` of a backend's endpoints are ejected at once — at least one may be, but never the
 * last healthy one, so a backend whose every endpoint fails still gets traffic (and answers its errors)
 * instead of a blanket 503. No timers: ejection ends by time, checked when picking.
 */
import type { OutlierOptions } from '../limits.js';
import { DEFAULT_LIMITS } from '../limits.js';

/** The per-endpoint state (the resolver's endpoints carry these fields). */
export interface HealthState {
  key: string;
  /** Failures in a row since the last success. */
  consecutive: number;
  /** Ejected until this `Date.now()`; 0 = never ejected. */
  ejectedUntil: number;
  /** How many times ejected (the multiplier of the next ejection). */
  ejections: number;
}

export function newHealthState(key: string): HealthState {
  return { key, consecutive: 0, ejectedUntil: 0, ejections: 0 };
}

export class OutlierDetector {
  readonly opts: Required<OutlierOptions>;
  /** Called on each ejection (log line). */
  onEject: ((ep: HealthState, ms: number) => void) | null = null;

  constructor(opts: OutlierOptions = {}) {
    const d = DEFAULT_LIMITS.outlier;
    this.opts = {
      consecutiveFailures: opts.consecutiveFailures ?? d.consecutiveFailures,
      baseEjectionMs: opts.baseEjectionMs ?? d.baseEjectionMs,
      maxEjectionMs: opts.maxEjectionMs ?? d.maxEjectionMs,
      maxEjectionPercent: opts.maxEjectionPercent ?? d.maxEjectionPercent,
    };
  }

  configure(opts: OutlierOptions): void {
    Object.assign(this.opts, Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)));
  }

  success(ep: HealthState): void {
    if (ep.consecutive !== 0) ep.consecutive = 0;
  }

  /** A failure of `ep`, one of `group` (the backend's endpoints). True when it was ejected now. */
  failure(ep: HealthState, group: readonly HealthState[], now = Date.now()): boolean {
    const o = this.opts;
    if (o.consecutiveFailures <= 0) return false;
    ep.consecutive++;
    if (ep.consecutive < o.consecutiveFailures || ep.ejectedUntil > now) return false;
    // how many are ejected now, and may one more be?
    let ejected = 0;
    for (let i = 0; i < group.length; i++) if (group[i].ejectedUntil > now) ejected++;
    const n = group.length;
    const allowed = Math.max(1, Math.floor((n * o.maxEjectionPercent) / 100));
    if (ejected >= allowed || ejected + 1 >= n) return false;
    // a long healthy stretch since the last ejection resets the multiplier
    if (ep.ejections > 0 && now - ep.ejectedUntil > o.maxEjectionMs) ep.ejections = 0;
    ep.ejections++;
    const ms = Math.min(o.baseEjectionMs * ep.ejections, o.maxEjectionMs);
    ep.ejectedUntil = now + ms;
    ep.consecutive = 0;
    this.onEject?.(ep, ms);
    return true;
  }

  static available(ep: HealthState, now: number): boolean {
    return ep.ejectedUntil <= now;
  }
}
