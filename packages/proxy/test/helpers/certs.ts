import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CertificateIR } from '@gatehouse/core';

/** A self-signed certificate for `names` (first = CN), generated with the openssl CLI. */
export function selfSigned(secret: string, names: string[]): CertificateIR {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-cert-'));
  const key = path.join(dir, 'key.pem');
  const crt = path.join(dir, 'crt.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${names[0]}`,
      '-addext', `subjectAltName=${names.map((n) => 'DNS:' + n).join(',')}`, '-keyout', key, '-out', crt],
    { stdio: 'ignore' },
  );
  const out = { secret, cert: fs.readFileSync(crt, 'utf8'), key: fs.readFileSync(key, 'utf8'), hostnames: names };
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}
