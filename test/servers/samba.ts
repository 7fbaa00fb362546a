// A real Active Directory for tests: Samba's AD DC on 127.0.0.1. Provisioning takes ~20 s, so it
// is done once per machine into a cache directory and reused; each start() empties Rollcall's
// test OU instead. Samba needs root and its fixed ports (389, 636, 88), so one runs at a time.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Client, NoSuchObjectError } from 'ldapts';
import type { ServerControl } from './test-server.ts';

export const REALM = 'EXAMPLE.TEST';
export const BASE_DN = 'DC=example,DC=test';
/** Everything the tests create lives under this OU, removed and recreated by every start(). */
export const TEST_OU = `OU=rollcall-test,${BASE_DN}`;
export const PEOPLE_DN = `OU=people,${TEST_OU}`;
export const GROUPS_DN = `OU=groups,${TEST_OU}`;
export const URL = 'ldaps://127.0.0.1:636';
const ADMIN_DN = `CN=Administrator,CN=Users,${BASE_DN}`;

export interface SambaServer extends ServerControl {
  url: string;
  adminDN: string;
  adminPassword: string;
  /** PEM of the CA that signed the server certificate (which names 127.0.0.1). */
  caCert: string;
  peopleDN: string;
  groupsDN: string;
}

export function cacheDir(): string {
  return join(process.env['ROLLCALL_CACHE'] ?? join(homedir(), '.cache', 'rollcall'), 'samba-ad');
}

export function installSamba(): void {
  if (existsSync('/usr/sbin/samba') && existsSync('/usr/share/samba/setup/ad-schema') && existsSync('/usr/bin/openssl')) return;
  execFileSync('bash', [join(import.meta.dirname, '../../scripts/install/samba.sh')], { stdio: 'inherit' });
}

/** Our own CA and a server certificate for 127.0.0.1: Samba's self-signed one names only its host name. */
function makeCertificates(tls: string): void {
  const run = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe', cwd: tls });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-subj', '/CN=Rollcall test CA', '-keyout', 'ca.key', '-out', 'ca.pem');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=dc1.example.test', '-keyout', 'key.pem', '-out', 'server.csr');
  execFileSync('bash', ['-c', 'printf "subjectAltName=IP:127.0.0.1,DNS:dc1.example.test,DNS:localhost\\nextendedKeyUsage=serverAuth\\n" > ext.cnf'], {
    cwd: tls,
  });
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '3650', '-extfile', 'ext.cnf', '-out', 'cert.pem');
  execFileSync('chmod', ['600', 'key.pem', 'ca.key'], { cwd: tls });
}

/** Provisions the domain once; a directory without the `provisioned` mark is half-made and redone. */
async function provision(dir: string): Promise<void> {
  if (existsSync(join(dir, 'provisioned'))) return;
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'tls'), { recursive: true });
  const adminPassword = `Rc1!${randomBytes(18).toString('base64url')}`;
  execFileSync(
    'samba-tool',
    [
      'domain',
      'provision',
      `--realm=${REALM}`,
      '--domain=EXAMPLE',
      '--server-role=dc',
      '--dns-backend=NONE',
      `--adminpass=${adminPassword}`,
      '--use-rfc2307',
      `--targetdir=${dir}`,
      '--host-name=dc1',
      '--host-ip=127.0.0.1',
      '--option=interfaces = lo',
      '--option=bind interfaces only = yes',
    ],
    { stdio: 'pipe' },
  );
  makeCertificates(join(dir, 'tls'));
  await writeFile(join(dir, 'admin-password'), adminPassword, { mode: 0o600 });
  await writeFile(join(dir, 'provisioned'), new Date().toISOString());
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

async function adminClient(adminPassword: string, caCert: string): Promise<Client> {
  const client = new Client({ url: URL, timeout: 10_000, connectTimeout: 5000, tlsOptions: { ca: [caCert] } });
  await client.bind(ADMIN_DN, adminPassword);
  return client;
}

async function waitReady(adminPassword: string, caCert: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`samba exited with code ${child.exitCode}`);
    try {
      await (await adminClient(adminPassword, caCert)).unbind();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error('samba did not answer on ldaps://127.0.0.1:636 within 90 s', { cause: error });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function deleteSubtree(client: Client, dn: string): Promise<void> {
  try {
    const { searchEntries } = await client.search(dn, { scope: 'one', attributes: ['1.1'] });
    for (const entry of searchEntries) await deleteSubtree(client, entry.dn);
    await client.del(dn);
  } catch (error) {
    if (!(error instanceof NoSuchObjectError)) throw error;
  }
}

/** Empties the test OU and lays it out again: people, groups, and the groups engineering and vpn-users. */
async function resetTestEntries(adminPassword: string, caCert: string): Promise<void> {
  const client = await adminClient(adminPassword, caCert);
  try {
    await deleteSubtree(client, TEST_OU);
    await client.add(TEST_OU, { objectClass: ['top', 'organizationalUnit'], ou: 'rollcall-test' });
    await client.add(PEOPLE_DN, { objectClass: ['top', 'organizationalUnit'], ou: 'people' });
    await client.add(GROUPS_DN, { objectClass: ['top', 'organizationalUnit'], ou: 'groups' });
    for (const name of ['engineering', 'vpn-users']) {
      await client.add(`CN=${name},${GROUPS_DN}`, { objectClass: ['top', 'group'], cn: name, sAMAccountName: `rc-${name}` });
    }
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

export async function start(): Promise<SambaServer> {
  installSamba();
  const dir = cacheDir();
  await provision(dir);
  if (await portOpen(636)) throw new Error('port 636 on 127.0.0.1 is taken: another samba (or LDAP server) is running; stop it first');
  const adminPassword = (await readFile(join(dir, 'admin-password'), 'utf8')).trim();
  const caCert = await readFile(join(dir, 'tls', 'ca.pem'), 'utf8');
  await mkdir(join(dir, 'run'), { recursive: true });
  await mkdir(join(dir, 'log'), { recursive: true });
  let child: ChildProcess | undefined;

  const launch = async () => {
    const options = [
      `pid directory=${dir}/run`,
      `ncalrpc dir=${dir}/run/ncalrpc`,
      `log file=${dir}/log/log.%m`,
      `winbindd socket directory=${dir}/run/winbindd`,
      'server services=ldap,kdc,rpc,cldap,nbt',
      'tls enabled=yes',
      `tls keyfile=${dir}/tls/key.pem`,
      `tls certfile=${dir}/tls/cert.pem`,
      `tls cafile=${dir}/tls/ca.pem`,
    ];
    // A process group of its own, so freeze/stop reach every worker process, not just the master.
    const proc = spawn('samba', ['-i', '-M', 'single', '-s', join(dir, 'etc', 'smb.conf'), ...options.map((o) => `--option=${o}`)], {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    proc.stderr?.resume();
    child = proc;
    await waitReady(adminPassword, caCert, proc);
  };
  const signalGroup = (signal: NodeJS.Signals) => {
    if (child?.pid !== undefined && child.exitCode === null) process.kill(-child.pid, signal);
  };
  const stop = async () => {
    const proc = child;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    signalGroup('SIGCONT');
    signalGroup('SIGTERM');
    const timer = setTimeout(() => signalGroup('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    child = undefined;
    while (await portOpen(636)) await new Promise((r) => setTimeout(r, 100));
  };

  await launch();
  try {
    await resetTestEntries(adminPassword, caCert);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: URL,
    adminDN: ADMIN_DN,
    adminPassword,
    caCert,
    peopleDN: PEOPLE_DN,
    groupsDN: GROUPS_DN,
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    freeze: () => signalGroup('SIGSTOP'),
    thaw: () => signalGroup('SIGCONT'),
    close: stop,
  };
}
