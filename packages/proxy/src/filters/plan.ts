import type { FilterIR, HttpGroupIR } from '@gatehouse/core';
import { Cors } from './cors.js';
import { HeaderModifier } from './header-modifier.js';
import { Mirror } from './mirror.js';
import { PathModifier } from './path-modifier.js';
import { Redirect } from './redirect.js';

/**
 * The filters of a rule (and of a rule + one backendRef), prepared at swap time into one object the
 * request path reads field by field: no per-request regex, lowercasing or closure. Filters run in the
 * order written, rule-level first, then backendRef-level.
 */
export class FilterPlan {
  /** RequestHeaderModifiers in order. */
  request: HeaderModifier[] = [];
  /** ResponseHeaderModifiers in order. */
  response: HeaderModifier[] = [];
  /** URLRewrite. */
  hostRewrite: string | null = null;
  pathRewrite: PathModifier | null = null;
  /** RequestRedirect: answered by the gateway. */
  redirect: Redirect | null = null;
  cors: Cors | null = null;
  mirrors: Mirror[] = [];
  /** An ExtensionRef or other filter that cannot be honoured: the request is answered 500. */
  unsupported: string | null = null;
  /**
   * The first `ruleMirrors` of `mirrors` are the rule's own; when this backendRef's filters edit the
   * request, those copies carry the rule-level edits only (`mirrorBase`), not the ones meant for this
   * backend (a credential header must not leak to a mirror). Null when they would be the same request.
   */
  mirrorBase: FilterPlan | null = null;
  ruleMirrors = 0;

  /** Whether any filter at all (lets the hot path skip work for plain rules). */
  get empty(): boolean {
    return (
      this.request.length === 0 &&
      this.response.length === 0 &&
      this.hostRewrite === null &&
      this.pathRewrite === null &&
      this.redirect === null &&
      this.cors === null &&
      this.mirrors.length === 0 &&
      this.unsupported === null
    );
  }

  /** Whether the plan answers the request itself (before any backend is chosen). */
  get terminal(): boolean {
    return this.redirect !== null || this.unsupported !== null || this.cors !== null;
  }

  static build(filters: readonly FilterIR[], group: HttpGroupIR, base?: FilterPlan): FilterPlan {
    const plan = new FilterPlan();
    if (base !== undefined) {
      plan.request = base.request.slice();
      plan.response = base.response.slice();
      plan.hostRewrite = base.hostRewrite;
      plan.pathRewrite = base.pathRewrite;
      plan.redirect = base.redirect;
      plan.cors = base.cors;
      plan.mirrors = base.mirrors.slice();
      plan.unsupported = base.unsupported;
    }
    if (base !== undefined && base.mirrors.length > 0 && filters.some(editsRequest)) {
      plan.mirrorBase = base;
      plan.ruleMirrors = base.mirrors.length;
    }
    for (const f of filters) {
      switch (f.type) {
        case 'RequestHeaderModifier':
          plan.request.push(new HeaderModifier(f.ops));
          break;
        case 'ResponseHeaderModifier':
          plan.response.push(new HeaderModifier(f.ops));
          break;
        case 'RequestRedirect':
          plan.redirect = new Redirect(f, group);
          break;
        case 'URLRewrite':
          if (f.hostname !== null) plan.hostRewrite = f.hostname;
          if (f.path !== null) plan.pathRewrite = new PathModifier(f.path);
          break;
        case 'RequestMirror':
          plan.mirrors.push(new Mirror(f.backend, f.fraction));
          break;
        case 'CORS':
          plan.cors = new Cors(f);
          break;
        case 'Unsupported':
          plan.unsupported ??= f.reason;
          break;
        default:
          plan.unsupported ??= `unknown filter ${(f as { type: string }).type}`;
      }
    }
    return plan;
  }
}

/** Whether a filter changes what is sent upstream (so a rule-level mirror copy must not carry it). */
function editsRequest(f: FilterIR): boolean {
  return f.type === 'RequestHeaderModifier' || f.type === 'URLRewrite';
}
