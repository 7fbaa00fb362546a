// Roles that reach past the databases Rollcall grants access to: the predefined roles (pg_*, e.g.
// pg_execute_server_program runs programs as the server's OS user) and roles with SUPERUSER,
// CREATEROLE, CREATEDB, BYPASSRLS or REPLICATION. Attributes are not inherited, but a member may SET
// ROLE to the role that has them, so a member of such a role (at any depth) counts as one too. They
// are never entitlements (grantable.ts) and never adopted (adoptable.ts).

export const ELEVATED_ATTRIBUTES = ['SUPERUSER', 'CREATEROLE', 'CREATEDB', 'BYPASSRLS', 'REPLICATION'] as const;

/** The pg_roles column of each. */
export const ELEVATED_COLUMNS: Record<(typeof ELEVATED_ATTRIBUTES)[number], string> = {
  SUPERUSER: 'rolsuper',
  CREATEROLE: 'rolcreaterole',
  CREATEDB: 'rolcreatedb',
  BYPASSRLS: 'rolbypassrls',
  REPLICATION: 'rolreplication',
};

/** Reserved by PostgreSQL for its predefined roles: nobody can create a role with this prefix. */
export const isPredefinedName = (name: string) => name.startsWith('pg_');

export const predefinedReason = (name: string) => `${JSON.stringify(name)} is a PostgreSQL predefined role (pg_*), never granted by Rollcall`;
