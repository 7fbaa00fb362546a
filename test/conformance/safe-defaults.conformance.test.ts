// Safe defaults against the real servers: slapd, PostgreSQL and the SCIM server serve TLS with a
// throwaway CA (test/servers/tls.ts). A connector verifies the certificate by default (trusting
// ca.crt from the credentials Secret, never an unrelated CA), refuses a plaintext transport without
// spec.insecure before sending anything, and works over plaintext once spec.insecure allows it.
// Then PostgreSQL's built-in refusals (predefined and elevated roles) through the controllers, and
// a leaver's objects reassigned rather than dropped by default.
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, connectedSystemSpec, type ConnectedSystemSpec } from '../../src/api/index.ts';
import { connectorFactory } from '../../src/connectors/registry.ts';
import type { Connector } from '../../src/connectors/types.ts';
import { Connections } from '../../src/connections/connections.ts';
import { Manager } from '../../src/controllers/manager.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import { startPostgres, type PostgresServer } from '../servers/postgres.ts';
import { start as startScim, type ScimServer } from '../servers/scim.ts';
import { start as startSlapd, type SlapdServer } from '../servers/slapd.ts';
import { makeCertificates, type TestCertificates } from '../servers/tls.ts';
import type { ManifestDirectory } from '../../src/manifests/directory.ts';
import { accessBinding, accessRole, connectedSystem, credentialsSecret, user, writeManifests, type Manifest } from '../helpers/manifests.ts';
import { storeFromManifests } from '../helpers/store-from-manifests.ts';

const logger = pino({ level: 'silent' });
const signal = () => AbortSignal.timeout(20_000);

async function connect(spec: unknown, credentials: Record<string, string>, system = 'acme/tls'): Promise<Connector> {
  const parsed: ConnectedSystemSpec = connectedSystemSpec.parse({ allowPrivateNetwork: true, ...(spec as object) }); // the servers listen on loopback
  const create = await connectorFactory(parsed.type);
  return create({ system, namespace: 'acme', spec: parsed, credentials, logger, timeoutMs: 5_000 });
}

/** Connects and checks; the error when either fails. */
async function checkFails(spec: unknown, credentials: Record<string, string>): Promise<Error | undefined> {
  let connector: Connector | undefined;
  try {
    connector = await connect(spec, credentials);
    await connector.check(signal());
    return undefined;
  } catch (error) {
    return error as Error;
  } finally {
    await connector?.close();
  }
}

const UNTRUSTED = /self.signed|unable to (get|verify)|certificate/i;

let certs: TestCertificates;
beforeAll(() => {
  certs = makeCertificates();
});
afterAll(() => certs?.close());

describe('ldap: TLS verified by default, plaintext only with spec.insecure', () => {
  let server: SlapdServer;
  const ldap = (url: string, extra: Record<string, unknown> = {}) => ({ url, peopleDN: server.peopleDN, groupsDN: server.groupsDN, ...extra });
  const bind = () => ({ bindDN: server.adminDN, password: server.adminPassword });

  beforeAll(async () => {
    server = await startSlapd(certs);
  }, 60_000);
  afterAll(async () => server?.close());

  it("binds over ldaps:// and over StartTLS when ca.crt is the server's CA", async () => {
    expect(await checkFails({ type: 'ldap', ldap: ldap(server.ldapsUrl!) }, { ...bind(), 'ca.crt': certs.ca })).toBeUndefined();
    expect(await checkFails({ type: 'ldap', ldap: ldap(server.url, { startTLS: true }) }, { ...bind(), 'ca.crt': certs.ca })).toBeUndefined();
  });

  it('refuses a certificate no trusted CA signed', async () => {
    expect((await checkFails({ type: 'ldap', ldap: ldap(server.ldapsUrl!) }, bind()))?.message).toMatch(UNTRUSTED);
    expect((await checkFails({ type: 'ldap', ldap: ldap(server.ldapsUrl!) }, { ...bind(), 'ca.crt': certs.otherCa }))?.message).toMatch(UNTRUSTED);
  });

  it('takes only ca.crt from spec.ldap.caSecretRef: its other keys never join the credentials', async () => {
    // The CA Secret needs no opt-in label, so nothing but the CA may come from it: here its
    // password would override the credentials Secret's, and the bind would fail.
    const store = new MemoryStore(
      [
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'bind', namespace: 'acme', labels: { 'rollcall.dev/credentials': 'true' } },
          data: bind(),
        } as never,
        { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'ca', namespace: 'acme' }, data: { 'ca.crt': certs.ca, password: 'not-the-password' } } as never,
        {
          apiVersion: 'rollcall.dev/v1alpha1',
          kind: 'ConnectedSystem',
          metadata: { name: 'corp-ldap', namespace: 'acme' },
          spec: {
            type: 'ldap',
            allowPrivateNetwork: true,
            ldap: ldap(server.ldapsUrl!, { caSecretRef: { name: 'ca' } }),
            credentialsSecretRef: { name: 'bind' },
          },
        },
      ],
      { logger },
    );
    const connections = new Connections({ store, logger });
    try {
      const system = store.get('ConnectedSystem', { namespace: 'acme', name: 'corp-ldap' })!;
      await expect(connections.use(system, (connector) => connector.check(signal()))).resolves.toBeUndefined();
    } finally {
      await connections.closeAll();
    }
  });

  it('refuses plain ldap:// without spec.insecure, naming the field, and binds with it', async () => {
    const refused = await checkFails({ type: 'ldap', ldap: ldap(server.url) }, bind());
    expect(refused).toBeInstanceOf(PermanentError);
    expect(refused?.message).toBe(
      'ConnectedSystem acme/tls: spec.ldap.url is ldap:// without startTLS, which sends credentials in clear; use TLS or set spec.insecure: true',
    );
    expect(await checkFails({ type: 'ldap', insecure: true, ldap: ldap(server.url) }, bind())).toBeUndefined();
  });
});

describe('postgres: verify-full by default, require verifies too, disable only with spec.insecure', () => {
  let server: PostgresServer;
  const postgres = (extra: Record<string, unknown> = {}) => ({ type: 'postgres', postgres: { host: server.host, port: server.port, ...extra } });
  const login = () => ({ username: server.adminUser, password: server.adminPassword });

  beforeAll(async () => {
    server = await startPostgres(certs);
  }, 120_000);
  afterAll(async () => server?.close(), 60_000);

  it("connects over TLS by default when ca.crt is the server's CA", async () => {
    expect(connectedSystemSpec.parse(postgres()).postgres?.ssl).toBe('verify-full');
    const connector = await connect(postgres(), { ...login(), 'ca.crt': certs.ca });
    try {
      await connector.check(signal());
      // The session really is encrypted: the server says so for its own backend.
      const admin = new pg.Client({ host: server.host, port: server.port, user: server.adminUser, password: server.adminPassword, database: 'postgres' });
      await admin.connect();
      const { rows } = await admin.query(
        "SELECT count(*)::int AS n FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'rollcall' AND s.ssl",
      );
      await admin.end();
      expect(rows[0].n).toBeGreaterThan(0);
    } finally {
      await connector.close();
    }
  });

  it('refuses an untrusted certificate with verify-full and with require alike', async () => {
    expect((await checkFails(postgres(), login()))?.message).toMatch(UNTRUSTED);
    expect((await checkFails(postgres({ ssl: 'require' }), login()))?.message).toMatch(UNTRUSTED);
    expect((await checkFails(postgres({ ssl: 'require' }), { ...login(), 'ca.crt': certs.otherCa }))?.message).toMatch(UNTRUSTED);
  });

  it('refuses ssl: disable without spec.insecure before connecting, and connects with it', async () => {
    const refused = await checkFails(postgres({ ssl: 'disable' }), login());
    expect(refused).toBeInstanceOf(PermanentError);
    expect(refused?.message).toBe(
      'ConnectedSystem acme/tls: spec.postgres.ssl is disable, which sends credentials in clear; use TLS or set spec.insecure: true',
    );
    expect(await checkFails({ ...postgres({ ssl: 'disable' }), insecure: true }, login())).toBeUndefined();
  });
});

describe("postgres: predefined and elevated roles are never granted; leavers' objects are reassigned", () => {
  let server: PostgresServer;
  let admin: pg.Client;
  let dir: string;
  let store: MemoryStore;
  let directory: ManifestDirectory;
  let manager: Manager;
  const memberships = async (role: string) =>
    (
      await admin.query<{ name: string }>(
        'SELECT pg_get_userbyid(m.roleid)::text AS name FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = $1 ORDER BY 1',
        [role],
      )
    ).rows
      .map((r) => r.name)
      .filter((name) => !name.startsWith('rollcall'));
  // TLS verified by default: connectedSystem, not postgresSystem (whose defaults are for plaintext test servers).
  const manifests = (resyncInterval: string): Manifest[] => [
    credentialsSecret('db-credentials', { username: server.adminUser, password: server.adminPassword, 'ca.crt': certs.ca }, { allowInsecure: false }),
    connectedSystem('analytics', {
      type: 'postgres',
      allowPrivateNetwork: true,
      postgres: { host: server.host, port: server.port },
      credentialsSecretRef: { name: 'db-credentials' },
      resyncInterval,
    }),
    accessRole('analyst', { analytics: ['analysts', 'pg_execute_server_program', 'creators', 'via_creators'] }),
    accessBinding('analyst', { users: ['alice'] }),
    user('alice'),
  ];

  beforeAll(async () => {
    server = await startPostgres(certs);
    admin = new pg.Client({ host: server.host, port: server.port, user: server.adminUser, password: server.adminPassword, database: 'postgres' });
    await admin.connect();
    await admin.query(
      'CREATE ROLE analysts NOLOGIN; CREATE ROLE creators NOLOGIN CREATEROLE; CREATE ROLE via_creators NOLOGIN; GRANT creators TO via_creators',
    );
    dir = mkdtempSync(join(tmpdir(), 'rollcall-pg-refusals-'));
    writeManifests(dir, 'all.yaml', manifests('5m'));
    ({ store, directory } = storeFromManifests(dir, { logger }));
    manager = new Manager({ store, logger });
    await manager.start();
    await manager.idle();
  }, 120_000);
  afterAll(async () => {
    await manager?.stop();
    await admin?.end();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('grants the group role and refuses pg_execute_server_program and CREATEROLE roles, directly or through membership, saying why', async () => {
    expect(await memberships('alice')).toEqual(['analysts']);
    const alice = store.get('User', { namespace: 'acme', name: 'alice' });
    const refused = alice?.status?.conditions?.find((c) => c.type === 'Refused');
    expect(refused).toMatchObject({ status: 'True', reason: 'EntitlementRefused' });
    expect(refused?.message).toContain(
      'analytics: refused pg_execute_server_program (AccessRole analyst, AccessBinding analyst): "pg_execute_server_program" is a PostgreSQL predefined role (pg_*), never granted by Rollcall',
    );
    expect(refused?.message).toContain(
      'analytics: refused creators (AccessRole analyst, AccessBinding analyst): role "creators" has CREATEROLE: never granted by Rollcall',
    );
    expect(refused?.message).toContain(
      'analytics: refused via_creators (AccessRole analyst, AccessBinding analyst): role "via_creators" is a member of "creators", which has CREATEROLE: never granted by Rollcall',
    );
    expect(alice?.status?.accounts?.find((a) => a.system === 'analytics')).toMatchObject({ state: 'present', entitlements: ['analysts'] });
  });

  it('revokes an elevated membership someone granted by hand', async () => {
    await admin.query('GRANT creators TO alice');
    writeManifests(dir, 'all.yaml', manifests('6m')); // a spec change: the system is listed again
    directory.reload();
    await manager.idle();
    expect(await memberships('alice')).toEqual(['analysts']);
  });

  it('refuses the grant in the connector too, whatever called it', async () => {
    // As the system that manages alice: any other system's connector refuses her as another's account first.
    const connector = await connect(
      { type: 'postgres', postgres: { host: server.host, port: server.port } },
      { username: server.adminUser, password: server.adminPassword, 'ca.crt': certs.ca },
      'acme/analytics',
    );
    try {
      for (const entitlement of ['pg_execute_server_program', 'creators']) {
        const error = await connector.apply({ op: 'grant', userName: 'alice', entitlement }, signal()).then(
          () => undefined,
          (e: unknown) => e as Error,
        );
        expect(error).toBeInstanceOf(PermanentError);
        expect(error?.message).toMatch(/predefined role|has CREATEROLE/);
      }
      expect(await memberships('alice')).toEqual(['analysts']);
    } finally {
      await connector.close();
    }
  });

  it("reassigns a deleted leaver's objects to the connecting role by default instead of dropping them", async () => {
    const connector = await connect(
      { type: 'postgres', postgres: { host: server.host, port: server.port } },
      { username: server.adminUser, password: server.adminPassword, 'ca.crt': certs.ca },
    );
    try {
      await connector.apply(
        { op: 'create', account: { system: 'analytics', userName: 'leaver', state: 'present', attributes: {}, entitlements: [] } },
        signal(),
      );
      await admin.query('GRANT CREATE ON SCHEMA public TO leaver; SET ROLE leaver; CREATE TABLE leaver_notes (line text); RESET ROLE');
      await connector.apply({ op: 'delete', userName: 'leaver' }, signal());
      const { rows } = await admin.query<{ owner: string }>("SELECT tableowner::text AS owner FROM pg_tables WHERE tablename = 'leaver_notes'");
      expect(rows).toEqual([{ owner: server.adminUser }]);
      expect((await admin.query("SELECT 1 FROM pg_roles WHERE rolname = 'leaver'")).rowCount).toBe(0);
    } finally {
      await connector.close();
    }
  });
});

describe('scim: https verified by default, http:// only with spec.insecure', () => {
  let server: ScimServer;
  let front: Server;
  let httpsBase: string;

  beforeAll(async () => {
    server = await startScim();
    // TLS in front of the real SCIM server: every request and answer passes through unchanged.
    const back = new URL(server.baseUrl);
    front = createHttpsServer({ cert: readFileSync(certs.certFile), key: readFileSync(certs.keyFile) }, (req, res) => {
      const upstream = httpRequest({ host: back.hostname, port: back.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    front.listen(0, '127.0.0.1');
    await once(front, 'listening');
    const address = front.address() as { port: number };
    httpsBase = `https://127.0.0.1:${address.port}${back.pathname}`;
  }, 120_000);
  afterAll(async () => {
    front?.close();
    await server?.close();
  }, 60_000);

  it('talks https with ca.crt from the credentials Secret, and refuses an untrusted certificate', async () => {
    expect(await checkFails({ type: 'scim', scim: { baseUrl: httpsBase } }, { token: server.token, 'ca.crt': certs.ca })).toBeUndefined();
    expect((await checkFails({ type: 'scim', scim: { baseUrl: httpsBase } }, { token: server.token }))?.message).toMatch(/SELF_SIGNED|UNABLE_TO|certificate/i);
    expect((await checkFails({ type: 'scim', scim: { baseUrl: httpsBase } }, { token: server.token, 'ca.crt': certs.otherCa }))?.message).toMatch(
      /SELF_SIGNED|UNABLE_TO|certificate/i,
    );
  });

  it('refuses http:// without spec.insecure, and talks it with', async () => {
    const refused = await checkFails({ type: 'scim', scim: { baseUrl: server.baseUrl } }, { token: server.token });
    expect(refused).toBeInstanceOf(PermanentError);
    expect(refused?.message).toBe(
      'ConnectedSystem acme/tls: spec.scim.baseUrl is http://, which sends credentials in clear; use TLS or set spec.insecure: true',
    );
    expect(await checkFails({ type: 'scim', insecure: true, scim: { baseUrl: server.baseUrl } }, { token: server.token })).toBeUndefined();
  });

  it('refuses a baseUrl with user:password@ without repeating it', async () => {
    const withUserinfo = httpsBase.replace('https://', 'https://admin:hunter2@');
    const refused = await checkFails({ type: 'scim', scim: { baseUrl: withUserinfo } }, { token: server.token, 'ca.crt': certs.ca });
    expect(refused?.message).toBe('ConnectedSystem acme/tls: spec.scim.baseUrl must not contain user:password@; put credentials in the credentials Secret');
    expect(refused?.message).not.toContain('hunter2');
  });
});
