// The test servers (test/servers/) as ConnectedSystems in a manifest, each with the credentials
// Secret it names (NAME-credentials): what a suite running `rollcall run --manifests DIR` against slapd,
// PostgreSQL or scim2-server declares. `spec` adds the suite's policy (deprovision, orphans, insecure...).
import type { PostgresServer } from '../servers/postgres.ts';
import type { ScimServer } from '../servers/scim.ts';
import type { SlapdServer } from '../servers/slapd.ts';
import { credentialsSecretYaml, resourceYaml } from './manifest-yaml.ts';

/** The Secret, then the ConnectedSystem: `connection` (type and its block), the reference to the Secret, then `spec`, which may override either. */
function systemYaml(name: string, credentials: Record<string, string>, connection: Record<string, unknown>, spec: Record<string, unknown>): string[] {
  const secret = `${name}-credentials`;
  return [
    credentialsSecretYaml(secret, credentials),
    resourceYaml('ConnectedSystem', name, { ...connection, credentialsSecretRef: { name: secret }, ...spec }),
  ];
}

/** slapd as an openldap system; `ldap` adds to spec.ldap (an attributeMap, another url). */
export function slapdSystemYaml(name: string, slapd: SlapdServer, spec: Record<string, unknown>, ldap: Record<string, unknown> = {}): string[] {
  return systemYaml(
    name,
    { bindDN: slapd.adminDN, password: slapd.adminPassword },
    { type: 'ldap', ldap: { url: slapd.url, flavour: 'openldap', peopleDN: slapd.peopleDN, groupsDN: slapd.groupsDN, ...ldap } },
    spec,
  );
}

/** PostgreSQL as a system on its `postgres` database, without TLS; `port` for a proxy in between. */
export function postgresSystemYaml(name: string, postgres: PostgresServer, spec: Record<string, unknown>, port = postgres.port): string[] {
  return systemYaml(
    name,
    { username: postgres.adminUser, password: postgres.adminPassword },
    { type: 'postgres', postgres: { host: postgres.host, port, database: 'postgres', ssl: 'disable' } },
    spec,
  );
}

/** scim2-server as a system with its bearer token; `baseUrl` for a proxy in between. */
export function scimSystemYaml(name: string, scim: ScimServer, spec: Record<string, unknown>, baseUrl = scim.baseUrl): string[] {
  return systemYaml(name, { token: scim.token }, { type: 'scim', scim: { baseUrl, auth: 'bearer' } }, spec);
}
