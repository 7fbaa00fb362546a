// PostgreSQL read and written as its superuser: login roles in the scope's marker role, and their
// memberships in the scope's group roles.
import pg from 'pg';
import { allGroups, pgMarker, pgMarkerTag, type AccountView, type Endpoints, type Scope } from '../world.ts';
import type { SystemProbe } from './types.ts';

export class PostgresProbe implements SystemProbe {
  readonly kind = 'postgres';
  readonly #pool: pg.Pool;
  readonly #marker: string;
  readonly #tag: string;
  readonly #groups: string[];

  constructor(endpoint: Endpoints['postgres'], scope: Scope) {
    this.#pool = new pg.Pool({
      host: endpoint.host,
      port: endpoint.port,
      user: endpoint.adminUser,
      password: endpoint.adminPassword,
      database: 'postgres',
      max: 2,
    });
    this.#pool.on('error', () => undefined);
    this.#marker = pgMarker(scope);
    this.#tag = pgMarkerTag(scope);
    this.#groups = allGroups(scope);
  }

  async prepare(groups: string[]): Promise<void> {
    for (const role of [this.#marker, ...groups]) await this.#pool.query(`CREATE ROLE ${pg.escapeIdentifier(role)} NOLOGIN`);
    // Rollcall manages the members of a managedRole only once it carries this system's tag.
    await this.#pool.query(`COMMENT ON ROLE ${pg.escapeIdentifier(this.#marker)} IS ${pg.escapeLiteral(this.#tag)}`);
  }

  async accounts(): Promise<Map<string, AccountView>> {
    const { rows } = await this.#pool.query<{ name: string; login: boolean; roles: string[] }>(
      `SELECT r.rolname::text AS name, r.rolcanlogin AS login,
              coalesce(array_agg(g.rolname::text) FILTER (WHERE g.rolname IS NOT NULL AND g.rolname <> $1), '{}') AS roles
         FROM pg_roles r
         JOIN pg_auth_members marker ON marker.member = r.oid AND marker.roleid = (SELECT oid FROM pg_roles WHERE rolname = $1)
         LEFT JOIN pg_auth_members m ON m.member = r.oid
         LEFT JOIN pg_roles g ON g.oid = m.roleid
        GROUP BY r.rolname, r.rolcanlogin`,
      [this.#marker],
    );
    return new Map(rows.map((row) => [row.name, { enabled: row.login, groups: [...row.roles].sort() }]));
  }

  async disabled(userNames: string[]): Promise<Set<string>> {
    const { rows } = await this.#pool.query<{ name: string }>(
      'SELECT n AS name FROM unnest($1::text[]) n WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = n AND rolcanlogin)',
      [userNames],
    );
    return new Set(rows.map((r) => r.name));
  }

  async members(group: string): Promise<Set<string>> {
    const { rows } = await this.#pool.query<{ name: string }>(
      'SELECT r.rolname::text AS name FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = $1)',
      [group],
    );
    return new Set(rows.map((r) => r.name));
  }

  /** xmin changes with every write to a row: the role, each of its memberships, its comment. */
  async versions(): Promise<Map<string, string>> {
    const { rows } = await this.#pool.query<{ name: string; version: string }>(
      `SELECT a.rolname::text AS name,
              a.xmin::text || '|' || coalesce((SELECT string_agg(m.roleid::text || ':' || m.xmin::text, ',' ORDER BY m.roleid) FROM pg_auth_members m WHERE m.member = a.oid), '')
                || '|' || coalesce((SELECT d.xmin::text FROM pg_shdescription d WHERE d.objoid = a.oid), '') AS version
         FROM pg_authid a
        WHERE a.rolname = ANY($2) OR a.rolname = $1
           OR a.oid IN (SELECT member FROM pg_auth_members WHERE roleid = (SELECT oid FROM pg_roles WHERE rolname = $1))`,
      [this.#marker, this.#groups],
    );
    return new Map(rows.map((r) => [r.name, r.version]));
  }

  async grantByHand(userName: string, group: string): Promise<void> {
    await this.#pool.query(`GRANT ${pg.escapeIdentifier(group)} TO ${pg.escapeIdentifier(userName)}`);
  }

  async close(): Promise<void> {
    await this.#pool.end().catch(() => undefined);
  }
}
