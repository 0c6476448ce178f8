/**
 * The comparison rules of the upstream round-trip check (conformance/utils/http, re-expressed):
 * status first (408 and 504 count as the same timeout outcome); for 200/204 the echoed request
 * (path with query, method, host when expected, namespace, headers joined with `,`, absent headers,
 * pod name prefix) and the response headers; for 3xx the parts of `Location`; any other status only
 * the code. Returns the first mismatch, worded so a product engineer can act on it.
 */
import type { Expectation, RequestSpec } from './cases.js';
import type { RoundTrip } from './client.js';

export interface Mismatch {
  what: string;
  expected: string;
  got: string;
}

const isTimeout = (s: number): boolean => s === 408 || s === 504;
const isRedirect = (s: number): boolean => s >= 300 && s < 400;

function headerValues(headers: Record<string, string[]> | Map<string, string[]>, name: string): string[] | undefined {
  const lower = name.toLowerCase();
  if (headers instanceof Map) return headers.get(lower);
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

function describeHeaders(h: Record<string, string[]> | Map<string, string[]>): string {
  const entries = h instanceof Map ? [...h.entries()] : Object.entries(h);
  return entries.map(([k, v]) => `${k}: ${v.join(',')}`).join('; ') || '(none)';
}

/** `sentPath` is the path actually sent (mirror tests add a request id to it). */
export function compareRoundTrip(spec: RequestSpec, sentPath: string, expect: Expectation, rt: RoundTrip): Mismatch | null {
  const okStatus = expect.status.includes(rt.status) || (isTimeout(rt.status) && expect.status.some(isTimeout));
  if (!okStatus) {
    const extra = rt.echo ? ` (answered by pod ${rt.echo.pod}, path ${rt.echo.path})` : rt.bodySnippet ? ` (body: ${rt.bodySnippet.replace(/\s+/g, ' ').slice(0, 120)})` : '';
    return { what: 'status', expected: expect.status.join(' or '), got: `${rt.status}${extra}` };
  }
  if (rt.status === 200 || rt.status === 204) {
    const wantsEcho = expect.backend !== undefined || expect.namespace !== undefined || expect.request !== undefined;
    if (!wantsEcho && !expect.responseHeaders && !expect.responseAbsentHeaders && !expect.responseHeaderOneOf) return null;
    const echo = rt.echo;
    if (wantsEcho && !echo) {
      return { what: 'echo body', expected: 'a JSON echo reply (Content-Type: application/json)', got: `content-type ${rt.headers.get('content-type')?.join(',') ?? '(none)'}` };
    }
    if (echo) {
      const er = expect.request;
      const wantPath = er?.path !== undefined ? withRequestId(er.path, sentPath, spec.path) : sentPath;
      const wantMethod = er?.method ?? spec.method;
      const wantHost = er ? er.host : spec.host || undefined;
      const wantHeaders = er ? er.headers : spec.headers;
      if (wantHost !== undefined && wantHost !== '' && echo.host !== wantHost) return { what: 'backend saw Host', expected: wantHost, got: echo.host };
      if (echo.path !== wantPath) return { what: 'backend saw path', expected: wantPath, got: echo.path };
      if (echo.method !== wantMethod) return { what: 'backend saw method', expected: wantMethod, got: echo.method };
      if (expect.namespace !== undefined && echo.namespace !== expect.namespace) {
        return { what: 'backend namespace', expected: expect.namespace, got: `${echo.namespace} (pod ${echo.pod})` };
      }
      for (const [name, value] of wantHeaders ?? []) {
        const got = headerValues(echo.headers ?? {}, name);
        if (!got) return { what: `backend saw header ${name}`, expected: value, got: `absent (backend saw ${describeHeaders(echo.headers ?? {})})` };
        if (got.join(',') !== value) return { what: `backend saw header ${name}`, expected: value, got: got.join(',') };
      }
      for (const name of er?.absentHeaders ?? []) {
        const got = headerValues(echo.headers ?? {}, name);
        if (got) return { what: `backend saw header ${name}`, expected: 'absent', got: got.join(',') };
      }
      if (expect.backend !== undefined && !echo.pod.startsWith(expect.backend)) {
        return { what: 'backend', expected: `${expect.backend}-*`, got: echo.pod };
      }
    }
    const norm = (v: string): string => (expect.ignoreWhitespace ? v.replace(/\s+/g, '') : v);
    for (const [name, value] of expect.responseHeaders ?? []) {
      const got = headerValues(rt.headers, name);
      if (!got) return { what: `response header ${name}`, expected: value, got: `absent (response had ${describeHeaders(rt.headers)})` };
      if (norm(got.join(',')) !== norm(value)) return { what: `response header ${name}`, expected: value, got: got.join(',') };
    }
    for (const [name, values] of expect.responseHeaderOneOf ?? []) {
      const got = headerValues(rt.headers, name);
      const want = values.map((v) => `"${v}"`).join(' or ');
      if (!got) return { what: `response header ${name}`, expected: want, got: `absent (response had ${describeHeaders(rt.headers)})` };
      if (!values.some((v) => norm(v) === norm(got.join(',')))) return { what: `response header ${name}`, expected: want, got: got.join(',') };
    }
    for (const name of expect.responseAbsentHeaders ?? []) {
      const got = headerValues(rt.headers, name);
      if (got) return { what: `response header ${name}`, expected: 'absent', got: got.join(',') };
    }
    return null;
  }
  if (isRedirect(rt.status) && expect.redirect) {
    const loc = rt.headers.get('location')?.[0];
    if (!loc) return { what: 'Location', expected: 'a Location header', got: 'absent' };
    let url: URL;
    try {
      url = new URL(loc, `${spec.sni !== undefined ? 'https' : 'http'}://placeholder.invalid`);
    } catch {
      return { what: 'Location', expected: 'a valid URL', got: loc };
    }
    const gotScheme = url.protocol.replace(/:$/, '');
    const gotHost = url.hostname;
    // URL drops default ports; recover an explicit one from the raw header.
    const explicit = /^[a-z]+:\/\/(?:\[[^\]]*\]|[^/:?#]*)(?::(\d+))?/i.exec(loc);
    const gotPort = explicit?.[1] ?? '';
    const r = expect.redirect;
    const requestScheme = spec.sni !== undefined ? 'https' : 'http';
    const wantScheme = r.scheme ?? requestScheme;
    const wantPath = r.path ?? spec.path.split('?')[0]!;
    if (r.host !== undefined && r.host !== gotHost) return { what: 'Location host', expected: r.host, got: `${gotHost} (Location: ${loc})` };
    if (r.port === undefined || r.port === '') {
      if (gotScheme === 'http' && gotPort !== '' && gotPort !== '80') return { what: 'Location port', expected: 'none or 80', got: `${gotPort} (Location: ${loc})` };
      if (gotScheme === 'https' && gotPort !== '' && gotPort !== '443') return { what: 'Location port', expected: 'none or 443', got: `${gotPort} (Location: ${loc})` };
    } else if (r.port !== gotPort) return { what: 'Location port', expected: r.port, got: `${gotPort || 'none'} (Location: ${loc})` };
    if (wantScheme !== gotScheme) return { what: 'Location scheme', expected: wantScheme, got: `${gotScheme} (Location: ${loc})` };
    if (wantPath !== url.pathname) return { what: 'Location path', expected: wantPath, got: `${url.pathname} (Location: ${loc})` };
  }
  return null;
}

/** When the runner added a request id to the path, an expected backend path gets the same query. */
function withRequestId(expectedPath: string, sentPath: string, specPath: string): string {
  if (sentPath === specPath || !sentPath.startsWith(specPath)) return expectedPath;
  const added = sentPath.slice(specPath.length); // `?gateway-api-conformance-request-id=…` or `&…`
  if (expectedPath.includes('?')) return expectedPath + added.replace(/^\?/, '&');
  return expectedPath + added.replace(/^&/, '?');
}
