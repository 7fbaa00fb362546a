// Rollcall's embedded directory: accounts and groups in one SQLite file, no server to run.
// The reference connector: read this folder first to see what the Connector contract asks.
import { resolve } from 'node:path';
import { PermanentError } from '../../api/index.ts';
import { DEFAULT_TIMEOUT_MS } from '../timeout.ts';
import type { ConnectorFactory } from '../types.ts';
import { SqliteConnector } from './connector.ts';

export const createSqliteConnector: ConnectorFactory = async (context) => {
  const settings = context.spec.sqlite;
  if (settings === undefined) throw new PermanentError(`ConnectedSystem ${context.system}: spec.sqlite.path is required for type sqlite`);
  return new SqliteConnector({
    system: context.system,
    path: resolve(settings.path), // relative to the working directory
    passphrase: context.credentials.passphrase,
    timeoutMs: context.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    logger: context.logger,
    observeOnly: context.observeOnly ?? false,
  });
};
