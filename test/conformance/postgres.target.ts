// The conformance target for PostgreSQL: a real server, probed out of band as its superuser.
import type { Logger } from 'pino';
import pg from 'pg';
import { connectedSystemSpec } from '../../src/api/index.ts';
import { scramVerifier } from '../../src/connectors/postgres/scram.ts';
import { connectorFactory } from '../../src/connectors/registry.ts';
import type { Connector } from '../../src/connectors/types.ts';
import { startPostgres, type PostgresServer, adminQuery } from '../servers/postgres.ts';
import { serverControls, type ConformanceTarget } from './harness.ts';

export const GROUP_ROLES = ['analysts', 'engineering'] as const;

export interface PostgresTarget extends ConformanceTarget {
  server: PostgresServer;
  /** Runs one statement as the superuser. */
  admin(text: string, values?: unknown[]): Promise<pg.QueryResult>;
  /** A connector with spec.postgres overrides (onDelete, managedRole, ...). */
  connectWith(postgres: Record<string, unknown>, logger: Logger): Promise<Connector>;
}

export async function startPostgresTarget(): Promise<PostgresTarget> {
  const server = await startPostgres();
  const userPasswords = new Map<string, string>();
  const foreignFingerprints = new Map<string, string | undefined>();
  // Probes connect per call: a stopped and restarted server must not leave them a dead connection.
  const admin = (text: string, values?: unknown[]) => adminQuery(server, text, values);
  for (const group of GROUP_ROLES) await admin(`CREATE ROLE ${pg.escapeIdentifier(group)} NOLOGIN`);

  const connectWith = async (postgres: Record<string, unknown>, logger: Logger, credentials?: Record<string, string>, timeoutMs?: number) => {
    const spec = connectedSystemSpec.parse({
      type: 'postgres',
      // Plaintext to the local test server; TLS is proven in safe-defaults.conformance.test.ts.
      insecure: true,
      allowPrivateNetwork: true,
      postgres: { host: server.host, port: server.port, ssl: 'disable', ...postgres },
      credentialsSecretRef: { name: 'postgres-admin' },
    });
    const factory = await connectorFactory('postgres');
    return factory({
      system: 'conformance/postgres',
      namespace: 'conformance',
      spec,
      credentials: credentials ?? { username: server.adminUser, password: server.adminPassword },
      logger,
      timeoutMs,
    });
  };

  // xmin of the role's row and of each of its memberships, plus its comment: any write shows.
  const fingerprint = async (userName: string) => {
    const { rows } = await admin(
      `SELECT a.xmin::text || '|' ||
              coalesce((SELECT string_agg(m.roleid::text || ':' || m.xmin::text, ',' ORDER BY m.roleid) FROM pg_auth_members m WHERE m.member = a.oid), '') || '|' ||
              coalesce(shobj_description(a.oid, 'pg_authid'), '<none>') AS fingerprint
         FROM pg_authid a WHERE a.rolname = $1`,
      [userName],
    );
    return rows[0]?.fingerprint as string | undefined;
  };

  return {
    server,
    admin,
    connectWith: (postgres, logger) => connectWith(postgres, logger),
    connect: ({ logger, credentials, timeoutMs }) => connectWith({}, logger, credentials, timeoutMs),
    entitlements: GROUP_ROLES,
    // Quoted identifiers keep their case; PostgreSQL cuts every name to 63 bytes.
    spellings: {
      createEntitlement: async (name) => void (await admin(`CREATE ROLE ${pg.escapeIdentifier(name)} NOLOGIN`)),
      held: 'auditors',
      alike: [],
      ambiguous: [`${'r'.repeat(63)}1`, `${'r'.repeat(63)}2`],
      distinct: ['Reporting', 'reporting'],
    },
    attribute: 'displayName',
    async canLogin(userName) {
      const { rows } = await admin('SELECT 1 FROM pg_roles WHERE rolname = $1', [userName]);
      if (rows.length === 0) return false;
      // Rollcall sets no passwords; give the role one out of band so the server can be asked.
      const password = userPasswords.get(userName) ?? `pw-${crypto.randomUUID()}`;
      userPasswords.set(userName, password);
      await admin(`ALTER ROLE ${pg.escapeIdentifier(userName)} PASSWORD ${pg.escapeLiteral(scramVerifier(password))}`);
      const client = new pg.Client({ host: server.host, port: server.port, user: userName, password, database: 'postgres' });
      try {
        await client.connect();
        await client.end();
        return true;
      } catch (error) {
        if (['28000', '28P01'].includes((error as { code?: string }).code ?? '')) return false;
        throw error;
      }
    },
    sessions: {
      setPassword: async (userName, password) =>
        void (await admin(`ALTER ROLE ${pg.escapeIdentifier(userName)} PASSWORD ${pg.escapeLiteral(scramVerifier(password))}`)),
      // A connection as the user: alive while it still answers a query.
      open: async (userName, password) => {
        const client = new pg.Client({ host: server.host, port: server.port, user: userName, password, database: 'postgres' });
        client.on('error', () => undefined); // a terminated backend is reported here too; alive() says it
        await client.connect();
        return {
          alive: () =>
            client.query('SELECT 1').then(
              () => true,
              () => false,
            ),
          close: () => client.end().catch(() => undefined),
        };
      },
    },
    fingerprint,
    async createForeignAccount(userName) {
      await admin(`CREATE ROLE ${pg.escapeIdentifier(userName)} LOGIN`);
      foreignFingerprints.set(userName, await fingerprint(userName));
    },
    async foreignAccountIntact(userName) {
      const { rows } = await admin('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [userName]);
      return rows[0]?.rolcanlogin === true && (await fingerprint(userName)) === foreignFingerprints.get(userName);
    },
    badCredentials: { username: server.adminUser, password: 'wrong-password-7f3a9c' },
    get secrets() {
      return [server.adminPassword, 'wrong-password-7f3a9c', ...userPasswords.values()];
    },
    ...serverControls(server),
  };
}
