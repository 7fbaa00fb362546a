// Connector factories by ConnectedSystem type. Each is imported only when a system of its type
// exists, so running with sqlite alone never loads an LDAP or PostgreSQL client.
import type { SystemType } from '../api/index.ts';
import type { ConnectorFactory } from './types.ts';

// A Record, not a Partial one: a new SystemType does not compile until it has its loader here.
const loaders: Readonly<Record<SystemType, () => Promise<ConnectorFactory>>> = {
  sqlite: async () => (await import('./sqlite/index.ts')).createSqliteConnector,
  postgres: async () => (await import('./postgres/index.ts')).createPostgresConnector,
  scim: async () => (await import('./scim/index.ts')).createScimConnector,
  ldap: async () => (await import('./ldap/index.ts')).createLdapConnector,
  kubernetes: async () => (await import('./kubernetes/index.ts')).createKubernetesConnector,
  keycloak: async () => (await import('./keycloak/index.ts')).createKeycloakConnector,
};

export async function connectorFactory(type: SystemType): Promise<ConnectorFactory> {
  const load = loaders[type];
  if (!load) throw new Error(`no connector for ConnectedSystem type "${type}"`);
  return load();
}
