/** String formats of the Gateway API and Kubernetes (patterns from the CRDs), with messages that explain them. */
import { str, type StringSchema } from './schema.js';

const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const SUBDOMAIN = new RegExp(`^${LABEL}(\\.${LABEL})*$`);
const IPV4 = /^[0-9]+(\.[0-9]+){3}$/;

/** Gateway API `Hostname`: precise or `*.`-wildcard, lower case, no IP addresses. */
export function checkHostname(v: string): string | undefined {
  const q = JSON.stringify(v);
  if (v === '*') return `${q} is not a valid hostname: to match every host, leave the hostname out`;
  if (v.includes(':')) return `${q} is not a valid hostname: IP addresses and ports are not allowed`;
  if (IPV4.test(v)) return `${q} is not a valid hostname: IP addresses are not allowed`;
  if (/[A-Z]/.test(v) && checkHostname(v.toLowerCase()) === undefined)
    return `${q} is not a valid hostname: it must be lower case (write ${JSON.stringify(v.toLowerCase())})`;
  const body = v.startsWith('*.') ? v.slice(2) : v;
  if (body.includes('*')) return `${q} is not a valid hostname: a wildcard must be the whole leftmost label, as in "*.example.com"`;
  if (!SUBDOMAIN.test(body))
    return `${q} is not a valid hostname: expected lower-case letters, digits and "-" in dot-separated labels, optionally starting with "*."`;
  return undefined;
}
export const hostname = (): StringSchema => str({ minLength: 1, maxLength: 253, check: checkHostname, checkCode: 'INVALID_HOSTNAME' });

/** `PreciseHostname` (redirect and rewrite targets): a hostname without a wildcard. */
export const preciseHostname = (): StringSchema =>
  str({
    minLength: 1,
    maxLength: 253,
    check: (v) => (v.startsWith('*') ? `${JSON.stringify(v)} is not a valid hostname here: a redirect or rewrite needs a precise hostname, without a wildcard` : checkHostname(v)),
    checkCode: 'INVALID_HOSTNAME',
  });

/** IPv4 dotted quad or IPv6 (loosely: hex groups and colons, optional embedded IPv4). */
export function isIP(v: string): boolean {
  const v4 = /^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}$/;
  if (v4.test(v)) return true;
  if (!v.includes(':') || !/^[0-9a-fA-F:.]+$/.test(v) || (v.match(/::/g) ?? []).length > 1) return false;
  const groups = v.split(':');
  const last = groups[groups.length - 1]!;
  if (last.includes('.') && !v4.test(last)) return false;
  return groups.length <= 8 && groups.every((g) => g === '' || g.includes('.') || /^[0-9a-fA-F]{1,4}$/.test(g));
}

/** Names of Kubernetes objects (DNS subdomain). */
export const objectName = (): StringSchema =>
  str({ minLength: 1, maxLength: 253 });
export const metadataName = (): StringSchema =>
  str({ minLength: 1, maxLength: 253, pattern: SUBDOMAIN, patternCode: 'INVALID_NAME', patternWhat: 'name: expected lower-case letters, digits, "-" and "."' });
export const namespaceName = (): StringSchema =>
  str({
    minLength: 1,
    maxLength: 63,
    pattern: new RegExp(`^${LABEL}$`),
    patternCode: 'INVALID_NAME',
    patternWhat: 'namespace: expected lower-case letters, digits and "-" (RFC 1123 label)',
  });
/** Listener names and sectionNames. */
export const sectionName = (): StringSchema =>
  str({
    minLength: 1,
    maxLength: 253,
    pattern: SUBDOMAIN,
    patternCode: 'INVALID_NAME',
    patternWhat: 'section name: expected lower-case letters, digits, "-" and "."',
  });
export const group = (): StringSchema =>
  str({ maxLength: 253, pattern: new RegExp(`^$|^${LABEL}(\\.${LABEL})*$`), patternWhat: 'API group' });
export const kind = (): StringSchema =>
  str({ minLength: 1, maxLength: 63, pattern: /^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/, patternWhat: 'kind' });

/** RFC 7230 token: header names and query parameter names. */
const TOKEN = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;
export const headerName = (): StringSchema =>
  str({ minLength: 1, maxLength: 256, pattern: TOKEN, patternCode: 'INVALID_HEADER_NAME', patternWhat: 'header name (an RFC 7230 token: no spaces, ":" or "/")' });
export const queryParamName = (): StringSchema =>
  str({ minLength: 1, maxLength: 256, pattern: TOKEN, patternWhat: 'query parameter name (an RFC 7230 token)' });

/** `controllerName` and custom protocols: `example.com/path`. */
export const domainPrefixedPath = (): StringSchema =>
  str({
    minLength: 1,
    maxLength: 253,
    pattern: new RegExp(`^${LABEL}(\\.${LABEL})*\\/[A-Za-z0-9\\/\\-._~%!$&'()*+,;=:]+$`),
    patternWhat: 'controller name: expected a domain-prefixed path such as "example.com/gateway-controller"',
  });

const PATH_CHARS = /^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$/;

/** The CEL rules on Exact and PathPrefix values (features.md §9.4). */
export function checkPathValue(v: string): string | undefined {
  const q = JSON.stringify(v);
  if (!v.startsWith('/')) return `${q} is not a valid path: it must start with "/"`;
  for (const bad of ['//', '/./', '/../', '%2f', '%2F', '#'])
    if (v.includes(bad)) return `${q} is not a valid path: it must not contain ${JSON.stringify(bad)}`;
  if (v.endsWith('/..') || v.endsWith('/.')) return `${q} is not a valid path: it must not end with "/." or "/.."`;
  if (!PATH_CHARS.test(v))
    return `${q} is not a valid path: only letters, digits, "-._~!$&'()*+,;=:@/" and %-escapes are allowed`;
  return undefined;
}
