/**
 * RequestMirror (features.md §9.9), prepared once. The copy goes to one endpoint of the mirror backend,
 * fire-and-forget: its response is read and dropped, its errors only counted, and it never delays or
 * fails the main request. Bodies: requests without a body are mirrored as they are; a request body with
 * a Content-Length of at most `MIRROR_BODY_LIMIT` is read first (bounded) and sent to both the main
 * backend and the mirror. Larger or chunked bodies stream to the main backend only and are not mirrored
 * (a mirror must never make the gateway buffer a stream).
 */
export const MIRROR_BODY_LIMIT = 64 * 1024;

export class Mirror {
  constructor(
    /** Index into `RoutingTable.backends`. */
    readonly backend: number,
    /** 0..1 */
    readonly fraction: number,
  ) {}

  sample(): boolean {
    return this.fraction >= 1 || (this.fraction > 0 && Math.random() < this.fraction);
  }
}
