// What tells, in one small query, that roles, memberships or comments may have changed since the
// last time: each catalog's row count and newest row version (xmin: every insert and update writes
// a row with a new one; a delete lowers the count). pg_authid is readable by superusers only, so the
// roles' part is a digest of pg_roles' columns the connector reads (name, LOGIN, VALID UNTIL).
// Cost on the server: one pass over the roles, no lock, no write.
import type { Sql } from './session.ts';

const TOKEN = `
SELECT (SELECT count(*) || ':' || coalesce(max(xmin::text::bigint), 0) FROM pg_auth_members)
    || '/' || (SELECT count(*) || ':' || coalesce(max(xmin::text::bigint), 0) FROM pg_shdescription)
    || '/' || (SELECT md5(coalesce(string_agg(oid::text || ' ' || rolname || ' ' || rolcanlogin::text || ' ' || coalesce(rolvaliduntil::text, ''), ',' ORDER BY oid), '')) FROM pg_roles)
  AS token`;

export async function catalogChangeToken(sql: Sql): Promise<string> {
  const { rows } = await sql.query<{ token: string }>(TOKEN);
  return rows[0]?.token ?? '';
}
