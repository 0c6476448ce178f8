// The subjectAltName reader behind OverlappingCertificates: real certificates (the status-reasons-tls
// golden's), malformed input (never throws, yields no names), and the RFC 6125 one-label wildcard rule.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeBase64 } from '../../src/resources/base64.js';
import { certificateDnsNames, certificateNamesOverlap, pemDnsNames } from '../../src/compile/x509.js';

const yaml = readFileSync(
  join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'fixtures', 'compile', 'status-reasons-tls', 'input', 'objects.yaml'),
  'utf8',
);
// Each Secret is preceded by a `# SAN <name>` comment; its certificate is the next PEM block.
const certs = [...yaml.matchAll(/# SAN (\S+)\n[\s\S]*?(-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----)/g)].map((m) => ({
  san: m[1]!,
  pem: m[2]!.replace(/^ +/gm, ''),
}));

t.test('reads the dNSName of real certificates', async (t) => {
  t.equal(certs.length, 3, 'three certificates in the fixture');
  for (const c of certs) t.same(pemDnsNames(c.pem), [c.san], c.san);
});

t.test('malformed input yields no names and never throws', async (t) => {
  t.same(pemDnsNames('-----BEGIN CERTIFICATE-----\nMIIBsite\n-----END CERTIFICATE-----'), []);
  t.same(pemDnsNames('not a certificate'), []);
  t.same(certificateDnsNames(new Uint8Array([])), []);
  t.same(certificateDnsNames(new Uint8Array([0x30, 0x84, 0xff, 0xff, 0xff, 0xff])), [], 'length past the end');
  const der = decodeBase64(certs[0]!.pem.replace(/-----[A-Z ]+-----/g, ''))!;
  let rnd = 12345;
  const next = () => (rnd = (rnd * 1103515245 + 12345) >>> 0);
  let named = 0;
  for (let i = 0; i < 2000; i++) {
    const copy = der.slice(0, i % 3 === 0 ? next() % der.length : der.length);
    if (i % 3 !== 0) copy[next() % copy.length] ^= 1 << (next() % 8);
    if (certificateDnsNames(copy).length > 0) named++; // throwing fails the test
  }
  t.ok(named < 2000, `2000 damaged copies parsed without an exception (${named} still yield a name)`);
});

t.test('certificate name overlap: exact, one-label wildcards', async (t) => {
  t.ok(certificateNamesOverlap('shop.example.com', 'shop.example.com'));
  t.ok(certificateNamesOverlap('*.example.com', 'shop.example.com'));
  t.ok(certificateNamesOverlap('shop.example.com', '*.example.com'));
  t.notOk(certificateNamesOverlap('*.example.com', 'a.shop.example.com'), 'a certificate wildcard covers one label');
  t.notOk(certificateNamesOverlap('*.example.com', 'example.com'));
  t.notOk(certificateNamesOverlap('*.example.com', '*.shop.example.com'));
  t.ok(certificateNamesOverlap('*.example.com', '*.example.com'));
  t.notOk(certificateNamesOverlap('api.example.org', 'shop.example.com'));
});
