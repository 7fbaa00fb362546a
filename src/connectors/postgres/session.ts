// The connection side of the connector: a small pg.Pool, every call bounded in time, and any
// connection that failed below the SQL level thrown away, so the next call connects afresh
// (a restarted or frozen server never leaves a dead socket behind for later calls).
import type { Logger } from 'pino';
import pg from 'pg';
import { errorMessage } from '../../api/index.ts';
import { withTimeout } from '../timeout.ts';
import { SYSTEM_CONCURRENCY } from '../types.ts';
import { isStatementError, toConnectorError } from './errors.ts';
import type { PostgresSettings } from './settings.ts';

export type Sql = pg.PoolClient;

export interface Session {
  /** Runs `work` on one connection within the timeout; errors come out as RetryableError or PermanentError. */
  run<T>(what: string, signal: AbortSignal, work: (sql: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export function openSession(settings: PostgresSettings, logger: Logger): Session {
  const pool = new pg.Pool({
    host: settings.host,
    port: settings.port,
    database: settings.database,
    user: settings.username,
    password: settings.password,
    ssl: settings.ssl,
    application_name: 'rollcall',
    // pg connects this socket itself and keeps host for TLS verification; the guard resolves and checks the address.
    stream: () => settings.egress.socket(),
    max: SYSTEM_CONCURRENCY,
    idleTimeoutMillis: 30_000,
    allowExitOnIdle: true,
    connectionTimeoutMillis: settings.timeoutMs,
    // The server gives up on a statement first (and says so); the client bounds a silent server.
    statement_timeout: settings.timeoutMs,
    query_timeout: settings.timeoutMs,
  });
  // An idle connection that the server closes (restart, admin kill) must not crash the process.
  pool.on('error', (error) => logger.warn({ system: settings.system, reason: errorMessage(error) }, 'postgres: idle connection lost'));

  async function run<T>(what: string, signal: AbortSignal, work: (sql: Sql) => Promise<T>): Promise<T> {
    let client: pg.PoolClient | undefined;
    let finished = false;
    let reusable = true;
    try {
      return await withTimeout(`${settings.system}: ${what}`, settings.timeoutMs, signal, async () => {
        const connected = await pool.connect();
        if (finished) {
          // The deadline passed while connecting: nobody will use this connection.
          connected.release(true);
          throw new Error('connected too late');
        }
        client = connected;
        return await work(connected);
      });
    } catch (error) {
      reusable = isStatementError(error);
      throw toConnectorError(error, { system: settings.system, username: settings.username, what });
    } finally {
      finished = true;
      if (client && !reusable) discard(client);
      else client?.release();
    }
  }

  return {
    run,
    async close() {
      await pool.end();
    },
  };
}

/** Drops a connection without waiting for a server that may never answer a polite goodbye. */
function discard(client: pg.PoolClient): void {
  // A checked-out client has no 'error' listener; an unexpected close would otherwise crash the process.
  client.on('error', () => undefined);
  client.release(true);
  client.connection.stream.destroy();
}
