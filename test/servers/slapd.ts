// A real OpenLDAP slapd for tests: a temp dir, 127.0.0.1 on a free port, mdb with memberof,
// refint and ppolicy (a default policy with pwdLockout, so pwdAccountLockedTime blocks binds).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'ldapts';
import { EMPTY_GROUP_PLACEHOLDER } from '../../src/connectors/ldap/index.ts';
import { freePort, stopProcess, type ServerControl } from './test-server.ts';

export { freePort };

export const SUFFIX = 'dc=example,dc=org';
export const PEOPLE_DN = `ou=people,${SUFFIX}`;
export const GROUPS_DN = `ou=groups,${SUFFIX}`;
const SLAPD = '/usr/sbin/slapd';

export interface SlapdServer extends ServerControl {
  url: string;
  /** ldaps:// on a second port, when started with TLS (StartTLS then works on url too). */
  ldapsUrl?: string;
  adminDN: string;
  adminPassword: string;
  suffix: string;
  peopleDN: string;
  groupsDN: string;
}

export function installSlapd(): void {
  if (existsSync(SLAPD) && existsSync('/usr/sbin/slapadd') && existsSync('/usr/bin/ldapwhoami')) return;
  execFileSync('bash', [join(import.meta.dirname, '../../scripts/install/slapd.sh')], { stdio: 'inherit' });
}

function config(dir: string, adminPassword: string, tls?: SlapdTls, globalLines = ''): string {
  const tlsLines = tls ? `TLSCACertificateFile ${tls.caFile}\nTLSCertificateFile ${tls.certFile}\nTLSCertificateKeyFile ${tls.keyFile}\n` : '';
  return `${tlsLines}${globalLines}include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
moduleload refint
moduleload ppolicy
moduleload syncprov
pidfile ${dir}/slapd.pid
argsfile ${dir}/slapd.args
database mdb
maxsize 268435456
suffix "${SUFFIX}"
rootdn "cn=admin,${SUFFIX}"
rootpw ${adminPassword}
directory ${dir}/data
index objectClass eq
index uid,cn,mail eq,sub
index member,memberOf,memberUid,businessCategory eq
dbnosync
access to attrs=userPassword by self write by anonymous auth by * none
access to * by users read by * none
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE
overlay refint
refint_attributes member
refint_nothing "cn=admin,${SUFFIX}"
overlay ppolicy
ppolicy_default "cn=default,ou=policies,${SUFFIX}"
# As a directory that replicates: the suffix's contextCSN moves with every write (Rollcall's change token).
overlay syncprov
`;
}

const BASE_LDIF = `dn: ${SUFFIX}
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ${PEOPLE_DN}
objectClass: organizationalUnit
ou: people

dn: ${GROUPS_DN}
objectClass: organizationalUnit
ou: groups

dn: ou=policies,${SUFFIX}
objectClass: organizationalUnit
ou: policies

dn: cn=default,ou=policies,${SUFFIX}
objectClass: device
objectClass: pwdPolicy
cn: default
pwdAttribute: userPassword
pwdLockout: TRUE
pwdMaxFailure: 0

dn: cn=engineering,${GROUPS_DN}
objectClass: groupOfNames
cn: engineering
member: ${EMPTY_GROUP_PLACEHOLDER}

dn: cn=vpn-users,${GROUPS_DN}
objectClass: groupOfNames
cn: vpn-users
member: ${EMPTY_GROUP_PLACEHOLDER}
`;

/** slapd ended before it answered: its stderr says why (a port taken, a bad certificate). */
class SlapdExited extends Error {}

async function waitReady(url: string, adminDN: string, adminPassword: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new SlapdExited(`slapd exited with code ${child.exitCode}: ${stderr().trim() || '(nothing on stderr)'}`);
    const client = new Client({ url, connectTimeout: 500, timeout: 1000 });
    try {
      await client.bind(adminDN, adminPassword);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error('slapd did not become ready within 20 s', { cause: error });
      await new Promise((r) => setTimeout(r, 20));
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }
}

/** Files of a certificate (test/servers/tls.ts) for slapd to serve ldaps:// and StartTLS with. */
export interface SlapdTls {
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** `globalLines`: slapd.conf directives of the global section, e.g. a `sockbuf_max_incoming_auth` limit. */
export async function start(tls?: SlapdTls, globalLines?: string): Promise<SlapdServer> {
  installSlapd();
  const dir = await mkdtemp(join(tmpdir(), 'rollcall-slapd-'));
  const adminPassword = `admin-${crypto.randomUUID()}`;
  const adminDN = `cn=admin,${SUFFIX}`;
  await mkdir(join(dir, 'data'));
  await writeFile(join(dir, 'slapd.conf'), config(dir, adminPassword, tls, globalLines), { mode: 0o600 });
  await writeFile(join(dir, 'base.ldif'), BASE_LDIF);
  execFileSync('/usr/sbin/slapadd', ['-q', '-f', join(dir, 'slapd.conf'), '-l', join(dir, 'base.ldif')], { stdio: 'pipe' });
  let url = '';
  let ldapsUrl: string | undefined;
  const pickPorts = async () => {
    const port = await freePort();
    url = `ldap://127.0.0.1:${port}`;
    let other = port;
    while (tls && other === port) other = await freePort();
    ldapsUrl = tls ? `ldaps://127.0.0.1:${other}` : undefined;
  };
  let child: ChildProcess | undefined;

  const launch = async () => {
    const proc = spawn(SLAPD, ['-d', '0', '-h', ldapsUrl ? `${url}/ ${ldapsUrl}/` : `${url}/`, '-f', join(dir, 'slapd.conf')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    proc.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child = proc;
    await waitReady(url, adminDN, adminPassword, proc, () => stderr);
  };
  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGCONT');
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  // A port another process took between freePort() and slapd's bind ends slapd at once (seen once
  // in CI, with several servers starting side by side): pick the ports again, at most twice.
  for (let attempt = 1; ; attempt++) {
    await pickPorts();
    try {
      await launch();
      break;
    } catch (error) {
      if (!(error instanceof SlapdExited) || attempt === 3) throw error;
    }
  }
  return {
    url,
    ...(ldapsUrl ? { ldapsUrl } : {}),
    adminDN,
    adminPassword,
    suffix: SUFFIX,
    peopleDN: PEOPLE_DN,
    groupsDN: GROUPS_DN,
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    freeze: () => stopProcess(child?.pid),
    thaw: () => void child?.kill('SIGCONT'),
    close: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
