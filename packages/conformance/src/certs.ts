/**
 * The TLS material the upstream suite generates at start-up (it is not in the YAML): Secrets and
 * ConfigMaps with the same names, namespaces and SANs (conformance.md §2). Made with the `openssl`
 * binary in a temp dir, once per run.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INFRA_NS } from './cases.js';

export const WEB_NS = 'gateway-conformance-web-backend';
export const APP_NS = 'gateway-conformance-app-backend';

export interface KeyPair {
  cert: string;
  key: string;
}

/** Names the echo backends look certificates up by (`ns/secret-name`). */
export interface GeneratedTls {
  /** Every generated object (Secret/ConfigMap), ready to be written as YAML documents. */
  objects: Record<string, unknown>[];
  /** `ns/name` of each Secret → its key pair (used by the TLS echo backends). */
  secrets: Map<string, KeyPair>;
  /** `ns/name` of each CA ConfigMap → its PEM. */
  cas: Map<string, string>;
}

interface CertSpec {
  namespace: string;
  name: string;
  /** `DNS:x` / `URI:x` entries; a bare name means DNS. */
  sans: string[];
  /** Which CA signs it (key into the CA table); null = self-signed. */
  ca: string | null;
  client?: boolean;
}

interface CaSpec {
  id: string;
  /** ConfigMaps (ns/name) that publish this CA as `ca.crt`. */
  configMaps: string[];
}

const CAS: CaSpec[] = [
  { id: 'web', configMaps: [`${WEB_NS}/web-backend-cm`] },
  { id: 'validity', configMaps: [`${INFRA_NS}/tls-validity-checks-ca-certificate`] },
  { id: 'validity-per-port', configMaps: [`${INFRA_NS}/tls-validity-checks-per-port-ca-certificate`] },
  { id: 'checks', configMaps: [`${INFRA_NS}/tls-checks-ca-certificate`] },
  { id: 'mismatch', configMaps: [`${INFRA_NS}/mismatch-ca-certificate`] },
];

const CERTS: CertSpec[] = [
  { namespace: WEB_NS, name: 'certificate', sans: ['*'], ca: 'web' },
  { namespace: INFRA_NS, name: 'tls-validity-checks-certificate', sans: ['*', '*.org', '*.wildcard.org'], ca: null },
  { namespace: INFRA_NS, name: 'tls-validity-checks-client-certificate', sans: ['client.example.org'], ca: 'validity', client: true },
  {
    namespace: INFRA_NS,
    name: 'tls-validity-checks-per-port-client-certificate',
    sans: ['client.example.org'],
    ca: 'validity-per-port',
    client: true,
  },
  {
    namespace: INFRA_NS,
    name: 'tls-checks-certificate',
    sans: ['abc.example.com', 'URI:spiffe://abc.example.com/test-identity', 'other.example.com'],
    ca: 'checks',
  },
  { namespace: INFRA_NS, name: 'tls-checks-client-certificate', sans: ['client.example.com'], ca: 'checks', client: true },
  { namespace: INFRA_NS, name: 'tls-passthrough-checks-certificate', sans: ['abc.example.com'], ca: 'checks' },
  { namespace: APP_NS, name: 'tls-passthrough-checks-certificate', sans: ['abc.example.com'], ca: 'checks' },
  { namespace: INFRA_NS, name: 'tls-terminate-checks-certificate', sans: ['tls.example.com'], ca: 'checks' },
];

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
}

function newKeyArgs(keyFile: string): string[] {
  return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile];
}

function sanLine(sans: string[]): string {
  return sans.map((s) => (s.includes(':') && !s.startsWith('*') ? s : `DNS:${s}`)).join(',');
}

/** A self-signed CA. */
function makeCa(dir: string, id: string): KeyPair {
  const key = `${id}-ca.key`, crt = `${id}-ca.crt`;
  openssl(
    ['req', '-x509', ...newKeyArgs(key), '-out', crt, '-days', '3', '-subj', `/O=gatehouse-conformance/CN=${id}-ca`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  return { cert: readFileSync(join(dir, crt), 'utf8'), key: readFileSync(join(dir, key), 'utf8') };
}

function makeLeaf(dir: string, spec: CertSpec, cas: Map<string, { files: [string, string] }>): KeyPair {
  const base = `${spec.namespace}--${spec.name}`;
  const key = `${base}.key`, crt = `${base}.crt`, csr = `${base}.csr`, ext = `${base}.ext`;
  const cn = spec.sans[0]!.replace(/^URI:/, '').slice(0, 60);
  const usage = spec.client ? 'clientAuth' : 'serverAuth';
  writeFileSync(
    join(dir, ext),
    `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=${usage}\nsubjectAltName=${sanLine(spec.sans)}\n`,
  );
  if (spec.ca === null) {
    openssl(['req', '-x509', ...newKeyArgs(key), '-out', crt, '-days', '3', '-subj', `/CN=${cn}`, '-extensions', 'v3', '-config', writeReqConfig(dir, base, spec)], dir);
  } else {
    const ca = cas.get(spec.ca)!;
    openssl(['req', '-new', ...newKeyArgs(key), '-out', csr, '-subj', `/CN=${cn}`], dir);
    openssl(['x509', '-req', '-in', csr, '-CA', ca.files[0], '-CAkey', ca.files[1], '-CAcreateserial', '-out', crt, '-days', '3', '-extfile', ext], dir);
  }
  return { cert: readFileSync(join(dir, crt), 'utf8'), key: readFileSync(join(dir, key), 'utf8') };
}

/** `req -x509` takes its extensions from a config section. */
function writeReqConfig(dir: string, base: string, spec: CertSpec): string {
  const file = `${base}.cnf`;
  writeFileSync(
    join(dir, file),
    `[req]\ndistinguished_name=dn\n[dn]\n[v3]\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${sanLine(spec.sans)}\n`,
  );
  return file;
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

export function tlsSecret(namespace: string, name: string, kp: KeyPair): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': b64(kp.cert), 'tls.key': b64(kp.key) },
  };
}

/** Generate every Secret/ConfigMap of the table. Takes about a second (openssl, EC keys). */
export function generateTls(): GeneratedTls {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-conformance-certs-'));
  try {
    const objects: Record<string, unknown>[] = [];
    const secrets = new Map<string, KeyPair>();
    const casOut = new Map<string, string>();
    const caFiles = new Map<string, { files: [string, string] }>();
    for (const ca of CAS) {
      const kp = makeCa(dir, ca.id);
      caFiles.set(ca.id, { files: [`${ca.id}-ca.crt`, `${ca.id}-ca.key`] });
      for (const cm of ca.configMaps) {
        const [namespace, name] = cm.split('/') as [string, string];
        casOut.set(cm, kp.cert);
        objects.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { 'ca.crt': kp.cert } });
      }
    }
    for (const spec of CERTS) {
      const kp = makeLeaf(dir, spec, caFiles);
      secrets.set(`${spec.namespace}/${spec.name}`, kp);
      objects.push(tlsSecret(spec.namespace, spec.name, kp));
    }
    return { objects, secrets, cas: casOut };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
