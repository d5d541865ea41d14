import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** A self-signed certificate for 127.0.0.1/localhost; `cert` is its own CA (trust it as such). */
export interface SelfSignedCert {
  key: string;
  cert: string;
  /** The certificate written to disk, e.g. for NODE_EXTRA_CA_CERTS. */
  certPath: string;
}

// node:crypto cannot issue X.509 certificates, so the openssl CLI makes one per fake, at test time.
export function createSelfSignedCert(dir: string): SelfSignedCert {
  const keyPath = path.join(dir, 'tunnel-key.pem');
  const certPath = path.join(dir, 'tunnel-cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-keyout',
      keyPath,
      '-out',
      certPath,
    ],
    { stdio: 'pipe' },
  );
  return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8'), certPath };
}
