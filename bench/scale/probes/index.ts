import type { Endpoints, Scope, SystemKind } from '../world.ts';
import { LdapProbe } from './ldap.ts';
import { PostgresProbe } from './postgres.ts';
import { ScimProbe } from './scim.ts';
import type { SystemProbe } from './types.ts';

export { mismatches, matching, type SystemProbe } from './types.ts';
export { LdapProbe, PostgresProbe, ScimProbe };

export interface Probes {
  ldap: LdapProbe;
  postgres: PostgresProbe;
  scim: ScimProbe;
  all: Record<SystemKind, SystemProbe>;
  close(): Promise<void>;
}

export function openProbes(endpoints: Endpoints, scope: Scope): Probes {
  const ldap = new LdapProbe(endpoints.ldap, scope);
  const postgres = new PostgresProbe(endpoints.postgres, scope);
  const scim = new ScimProbe(endpoints.scim, scope);
  return { ldap, postgres, scim, all: { ldap, postgres, scim }, close: async () => void (await Promise.all([ldap.close(), postgres.close(), scim.close()])) };
}
