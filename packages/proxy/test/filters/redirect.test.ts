import t from 'tap';
import type { HttpGroupIR } from '@gatehouse/core';
import { Redirect } from '../../src/filters/redirect.js';

const group = (secure: boolean, listenerPort: number): HttpGroupIR => ({
  hostname: null,
  listeners: [0],
  secure,
  listenerPort,
  entries: [],
  rules: [],
});
const base = { type: 'RequestRedirect' as const, scheme: null, hostname: null, port: null, path: null, statusCode: 302 };

t.test('Location construction (features.md §9.6 conformance cases)', async (t) => {
  const http8080 = group(false, 8080);
  const https443 = group(true, 443);
  const http80 = group(false, 80);
  t.equal(new Redirect(base, http8080).location('example.org', '/x', ''), 'http://example.org:8080/x', 'no scheme, no port → listener port');
  t.equal(new Redirect({ ...base, scheme: 'https' }, http8080).location('example.org', '/x', ''), 'https://example.org/x', 'scheme https → 443 omitted');
  t.equal(new Redirect({ ...base, port: 80 }, http8080).location('example.org', '/x', ''), 'http://example.org/x', 'port 80 with http omitted');
  t.equal(new Redirect(base, https443).location('example.org', '/x', ''), 'https://example.org/x', 'HTTPS listener default scheme');
  t.equal(new Redirect({ ...base, scheme: 'http', port: 8080 }, https443).location('example.org', '/x', ''), 'http://example.org:8080/x');
  t.equal(new Redirect({ ...base, hostname: 'example.net' }, http80).location('example.org', '/x', 'a=1'), 'http://example.net/x?a=1', 'hostname + query kept');
  t.equal(new Redirect({ ...base, scheme: 'https', port: 8443 }, http80).location('h', '/', ''), 'https://h:8443/');
  t.equal(
    new Redirect({ ...base, path: { type: 'ReplacePrefixMatch', value: '/replacement-prefix', prefix: '/original-prefix' } }, http80).location('h', '/original-prefix/lemon', ''),
    'http://h/replacement-prefix/lemon',
  );
  t.equal(new Redirect({ ...base, path: { type: 'ReplaceFullPath', value: '/full' } }, http80).location('h', '/a/b', 'q'), 'http://h/full?q');
  t.equal(new Redirect({ ...base, statusCode: 301 }, http80).status, 301);
});
