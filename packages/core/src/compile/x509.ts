/**
 * Just enough X.509 for OverlappingTLSConfig `OverlappingCertificates`: the subjectAltName dNSName
 * entries of the first (leaf) certificate of a PEM bundle. A minimal DER walker, pure (no node:crypto),
 * bounds-checked everywhere: anything malformed yields no names, never an exception.
 *
 *   Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }
 *   TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer, validity,
 *                                 subject, subjectPublicKeyInfo, [1] [2] OPTIONAL, [3] extensions OPTIONAL }
 *   Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
 *   SubjectAltName (2.5.29.17) ::= SEQUENCE OF GeneralName; dNSName is [2] IA5String (tag 0x82)
 */
import { decodeBase64 } from '../resources/base64.js';

interface Tlv {
  tag: number;
  /** Start of the value. */
  start: number;
  /** End of the value (exclusive). */
  end: number;
}

function readTlv(b: Uint8Array, at: number, limit: number): Tlv | null {
  if (at + 2 > limit) return null;
  const tag = b[at]!;
  if ((tag & 0x1f) === 0x1f) return null; // multi-byte tags never occur in a certificate
  let len = b[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > limit) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[start + i]!;
    start += n;
  }
  const end = start + len;
  if (end > limit) return null;
  return { tag, start, end };
}

/** The children of a constructed value. */
function children(b: Uint8Array, parent: Tlv): Tlv[] | null {
  const out: Tlv[] = [];
  let at = parent.start;
  while (at < parent.end) {
    const c = readTlv(b, at, parent.end);
    if (c === null) return null;
    out.push(c);
    at = c.end;
    if (out.length > 4096) return null;
  }
  return out;
}

const SAN_OID = [0x55, 0x1d, 0x11];

function isSanOid(b: Uint8Array, t: Tlv): boolean {
  return t.tag === 0x06 && t.end - t.start === 3 && SAN_OID.every((x, i) => b[t.start + i] === x);
}

/** subjectAltName dNSNames of one DER certificate, lowercased (empty when none or malformed). */
export function certificateDnsNames(der: Uint8Array): string[] {
  const cert = readTlv(der, 0, der.length);
  if (cert === null || cert.tag !== 0x30) return [];
  const tbs = children(der, cert)?.[0];
  if (!tbs || tbs.tag !== 0x30) return [];
  const fields = children(der, tbs);
  const extsWrapper = fields?.find((f) => f.tag === 0xa3);
  if (!extsWrapper) return [];
  const extsSeq = children(der, extsWrapper)?.[0];
  if (!extsSeq || extsSeq.tag !== 0x30) return [];
  const names: string[] = [];
  for (const ext of children(der, extsSeq) ?? []) {
    const parts = ext.tag === 0x30 ? children(der, ext) : null;
    if (!parts || parts.length < 2 || !isSanOid(der, parts[0]!)) continue;
    const value = parts[parts.length - 1]!;
    if (value.tag !== 0x04) continue;
    const general = readTlv(der, value.start, value.end);
    if (general === null || general.tag !== 0x30) continue;
    for (const g of children(der, general) ?? []) {
      if (g.tag !== 0x82) continue;
      let s = '';
      for (let i = g.start; i < g.end; i++) s += String.fromCharCode(der[i]!);
      names.push(s.toLowerCase());
    }
  }
  return names;
}

/** dNSNames of the first certificate of a PEM bundle (empty when it has none or does not parse). */
export function pemDnsNames(pem: string): string[] {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(pem);
  if (!m) return [];
  const der = decodeBase64(m[1]!);
  return der ? certificateDnsNames(der) : [];
}

/**
 * Whether two certificate names can both be presented for one server name. Certificate wildcards
 * (RFC 6125) cover exactly one label: `*.example.com` covers `a.example.com`, not `a.b.example.com`.
 */
export function certificateNamesOverlap(a: string, b: string): boolean {
  if (a === b) return true;
  const covers = (w: string, n: string) =>
    w.startsWith('*.') && !n.startsWith('*.') && n.length > w.length - 1 && n.endsWith(w.slice(1)) && !n.slice(0, n.length - w.length + 1).includes('.');
  return covers(a, b) || covers(b, a);
}
