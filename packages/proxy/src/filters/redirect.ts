import type { FilterIR, HttpGroupIR } from '@gatehouse/core';
import { PathModifier } from './path-modifier.js';

type RedirectIR = Extract<FilterIR, { type: 'RequestRedirect' }>;

/**
 * RequestRedirect (features.md §9.6), prepared per rule (a rule belongs to one group, so the listener
 * port and the default scheme are known here). Per request only the host and path are filled in.
 */
export class Redirect {
  readonly status: number;
  /** `scheme://` */
  readonly schemePrefix: string;
  /** Fixed host, or null = the request host (port stripped). */
  readonly hostname: string | null;
  /** `:port`, or '' when it is the scheme's default. */
  readonly portSuffix: string;
  readonly path: PathModifier | null;

  constructor(ir: RedirectIR, group: HttpGroupIR) {
    this.status = ir.statusCode || 302;
    const scheme = ir.scheme ?? (group.secure ? 'https' : 'http');
    this.schemePrefix = scheme + '://';
    this.hostname = ir.hostname;
    const port = ir.port ?? (ir.scheme !== null ? (ir.scheme === 'https' ? 443 : 80) : group.listenerPort);
    const isDefault = (scheme === 'http' && port === 80) || (scheme === 'https' && port === 443);
    this.portSuffix = isDefault ? '' : ':' + port;
    this.path = ir.path === null ? null : new PathModifier(ir.path);
  }

  /** The Location header value. The query string is kept. */
  location(host: string, path: string, query: string): string {
    const p = this.path === null ? path : this.path.apply(path);
    return this.schemePrefix + (this.hostname ?? host) + this.portSuffix + p + (query === '' ? '' : '?' + query);
  }
}
