import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A CA made for a test, and a serving certificate for 127.0.0.1 that it signed. */
export interface TestPki {
  /** The CA certificate (PEM): what a backend's CA bundle ConfigMap holds. */
  readonly caCert: string;
  /** The server's key and certificate (PEM), for `https.createServer`. */
  readonly server: { readonly key: string; readonly cert: string };
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * Makes a fresh CA and a server certificate for `IP:127.0.0.1` signed by it, with `openssl`
 * (as the fake API server makes its own), in a temporary directory removed afterwards.
 */
export function makeTestPki(name: string): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'vmcp-gateway-pki-'));
  const path = (file: string): string => join(dir, file);
  const openssl = (args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore' });
  };
  try {
    openssl([
      'req',
      '-x509',
      ...EC,
      '-keyout',
      path('ca.key'),
      '-out',
      path('ca.crt'),
      '-days',
      '2',
      '-subj',
      `/CN=${name} test CA`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    openssl([
      'req',
      ...EC,
      '-keyout',
      path('server.key'),
      '-out',
      path('server.csr'),
      '-subj',
      '/CN=127.0.0.1',
    ]);
    writeFileSync(
      path('server.ext'),
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n',
    );
    openssl([
      'x509',
      '-req',
      '-in',
      path('server.csr'),
      '-CA',
      path('ca.crt'),
      '-CAkey',
      path('ca.key'),
      '-CAcreateserial',
      '-out',
      path('server.crt'),
      '-days',
      '2',
      '-extfile',
      path('server.ext'),
    ]);
    return {
      caCert: readFileSync(path('ca.crt'), 'utf8'),
      server: {
        key: readFileSync(path('server.key'), 'utf8'),
        cert: readFileSync(path('server.crt'), 'utf8'),
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
