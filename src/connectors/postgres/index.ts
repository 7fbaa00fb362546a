// The postgres connector: see connector.ts for what it manages and how.
import type { ConnectorFactory } from '../types.ts';
import { PostgresConnector } from './connector.ts';
import { openSession } from './session.ts';
import { postgresSettings } from './settings.ts';

/** Connects lazily: a server that is down fails the first call with a RetryableError, not the factory. */
export const createPostgresConnector: ConnectorFactory = async (context) => {
  const settings = postgresSettings(context);
  return new PostgresConnector(settings, openSession(settings, context.logger), context.logger);
};
