// A throwaway certificate authority and a server certificate for 127.0.0.1 / localhost, made with
// the machine's openssl for each test run: the servers serve TLS with it, and connectors trust it
// only when given its ca.crt, so a test can prove both verification and its refusal.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  dir: string;
  /** PEM of the CA: what a credentials Secret's ca.crt holds. */
  ca: string;
  certFile: string;
  keyFile: string;
  caFile: string;
  /** A second, unrelated CA: trusting it must not make the server's certificate valid. */
  otherCa: string;
  close(): void;
}

export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'rollcall-tls-'));
  chmodSync(dir, 0o755);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const newCa = (name: string) =>
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
  newCa('rollcall-test-ca');
  newCa('rollcall-other-ca');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'rollcall-test-ca.crt',
    '-CAkey',
    'rollcall-test-ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'server.ext',
    '-out',
    'server.crt',
  );
  return {
    dir,
    ca: readFileSync(join(dir, 'rollcall-test-ca.crt'), 'utf8'),
    caFile: join(dir, 'rollcall-test-ca.crt'),
    certFile: join(dir, 'server.crt'),
    keyFile: join(dir, 'server.key'),
    otherCa: readFileSync(join(dir, 'rollcall-other-ca.crt'), 'utf8'),
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}
