// The sqlite connector against a real directory file, through the shared conformance suite.
// Probes read the file with their own connection (or the directory.ts helpers), never through the connector.
import { DatabaseSync } from 'node:sqlite';
import { pino } from 'pino';
import { connectedSystemSpec } from '../../src/api/index.ts';
import { connectorFactory } from '../../src/connectors/registry.ts';
import { authenticate, createForeignAccount, describeDirectory, setPassword } from '../../src/connectors/sqlite/directory.ts';
import { startSqliteServer } from '../servers/sqlite.ts';
import type { ConformanceTarget } from './harness.ts';
import { describeConformance } from './suite.ts';

const PASSPHRASE = 'correct-horse';
const LOGIN_PASSWORD = 'conformance-login';

async function start(): Promise<ConformanceTarget> {
  const server = await startSqliteServer();
  const factory = await connectorFactory('sqlite');
  const spec = connectedSystemSpec.parse({ type: 'sqlite', sqlite: { path: server.path } });

  const connect: ConformanceTarget['connect'] = ({ logger, credentials = { passphrase: PASSPHRASE }, timeoutMs }) =>
    factory({ system: 'conformance/directory', namespace: 'conformance', spec, credentials, logger, timeoutMs });

  /** Reads the file directly, read-only, as a person with the sqlite3 shell would. */
  const probe = <T>(query: (db: DatabaseSync) => T): T => {
    const db = new DatabaseSync(server.path, { readOnly: true });
    try {
      return query(db);
    } finally {
      db.close();
    }
  };

  // The connector creates the file, and with it the passphrase every later connection must give.
  const creator = await connect({ logger: pino({ level: 'silent' }) });
  await creator.check(AbortSignal.timeout(10_000));
  await creator.close();

  return {
    connect,
    entitlements: ['engineering', 'vpn-users'],
    attribute: 'displayName',
    async canLogin(userName) {
      if (!describeDirectory(server.path).some((row) => row.userName === userName)) return false;
      await setPassword(server.path, userName, LOGIN_PASSWORD);
      return authenticate(server.path, userName, LOGIN_PASSWORD);
    },
    async fingerprint(userName) {
      return probe((db) => {
        const row = db.prepare('SELECT version FROM accounts WHERE user_name = ?').get(userName);
        if (row === undefined) return undefined;
        const groups = db.prepare('SELECT group_name FROM memberships WHERE user_name = ? ORDER BY group_name').all(userName);
        return `${row.version} ${groups.map((group) => group.group_name).join(',')}`;
      });
    },
    async createForeignAccount(userName) {
      createForeignAccount(server.path, userName);
    },
    async foreignAccountIntact(userName) {
      return probe((db) => {
        const row = db.prepare('SELECT managed, disabled, attributes, version FROM accounts WHERE user_name = ?').get(userName);
        const memberships = db.prepare('SELECT count(*) AS n FROM memberships WHERE user_name = ?').get(userName);
        return row !== undefined && row.managed === 0 && row.disabled === 0 && row.attributes === '{}' && row.version === 1 && memberships?.n === 0;
      });
    },
    readsNeverWait: true,
    badCredentials: { passphrase: 'wrong' },
    secrets: [PASSPHRASE],
    stopServer: () => server.stop(),
    startServer: () => server.restart(),
    async freezeServer() {
      server.freeze();
    },
    async thawServer() {
      server.thaw();
    },
    close: () => server.close(),
  };
}

describeConformance('sqlite', start);
