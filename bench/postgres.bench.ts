// The PostgreSQL connector against a real server (test/servers/postgres.ts): create a LOGIN role
// and grant it a group role, for 200 users. One change after another, and 4 at a time (the
// Manager's default per-system concurrency).
import pg from 'pg';
import { connectedSystemSpec, type AccountChange } from '../src/api/index.ts';
import { connectorFactory } from '../src/connectors/registry.ts';
import { startPostgres } from '../test/servers/postgres.ts';
import { logger } from './embedded.ts';
import { formatMs, measure, type Row } from './measure.ts';

const GROUP = 'engineering';

async function inBatches(items: string[], concurrency: number, work: (item: string) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

export async function postgresBenchmark(roles: number, iterations: number): Promise<Row[]> {
  const server = await startPostgres();
  const admin = new pg.Client({ host: server.host, port: server.port, user: server.adminUser, password: server.adminPassword, database: 'postgres' });
  const signal = new AbortController().signal;
  try {
    await admin.connect();
    await admin.query(`CREATE ROLE ${pg.escapeIdentifier(GROUP)} NOLOGIN`);
    const spec = connectedSystemSpec.parse({
      type: 'postgres',
      insecure: true,
      allowPrivateNetwork: true,
      postgres: { host: server.host, port: server.port, ssl: 'disable' },
      credentialsSecretRef: { name: 'pg' },
    });
    const connector = await (
      await connectorFactory('postgres')
    )({
      system: 'bench/analytics-db',
      namespace: 'bench',
      spec,
      credentials: { username: server.adminUser, password: server.adminPassword },
      logger,
    });
    const rows: Row[] = [];
    let round = 0;
    try {
      await connector.check(signal);
      for (const concurrency of [1, 4]) {
        const samples = await measure(iterations, 1, async () => {
          const prefix = `bench${round++}_`;
          const names = Array.from({ length: roles }, (_, i) => `${prefix}${i}`);
          const changes = (userName: string): AccountChange[] => [
            {
              op: 'create',
              account: { system: 'analytics-db', userName, state: 'present', attributes: { displayName: `User ${userName}` }, entitlements: [] },
            },
            { op: 'grant', userName, entitlement: GROUP },
          ];
          const start = performance.now();
          await inBatches(names, concurrency, async (name) => {
            for (const change of changes(name)) await connector.apply(change, signal);
          });
          const elapsed = performance.now() - start;
          const { rows: granted } = await admin.query(
            `SELECT count(*)::int AS n FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member JOIN pg_roles g ON g.oid = m.roleid
              WHERE g.rolname = $1 AND r.rolname LIKE $2 AND r.rolcanlogin`,
            [GROUP, `${prefix}%`],
          );
          if (granted[0].n !== roles) throw new Error(`postgres: ${granted[0].n} of ${roles} roles were created and granted`);
          return elapsed;
        });
        const ops = (roles * 2) / (samples.median / 1000);
        rows.push({
          benchmark: 'postgres',
          case: `create + grant, ${roles} roles, ${concurrency === 1 ? 'one at a time' : `${concurrency} at a time`}`,
          median: formatMs(samples.median),
          detail: `${Math.round(ops).toLocaleString('en')} ops/s (${roles * 2} changes); n=${iterations}`,
        });
      }
    } finally {
      await connector.close();
    }
    return rows;
  } finally {
    await admin.end().catch(() => undefined);
    await server.close();
  }
}
