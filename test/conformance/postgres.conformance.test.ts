// The shared conformance suite against a real PostgreSQL 15, then what only PostgreSQL has:
// sessions ended on disable, foreign and superuser roles left alone, group roles never created,
// objects dropped or reassigned on delete.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, type DesiredAccount } from '../../src/api/index.ts';
import { scramVerifier } from '../../src/connectors/postgres/scram.ts';
import type { Connector } from '../../src/connectors/types.ts';
import { capturingLogger, describeConformance } from './suite.ts';
import { startPostgresTarget, type PostgresTarget } from './postgres.target.ts';

describeConformance('postgres', startPostgresTarget);

const signal = () => AbortSignal.timeout(30_000);
const account = (userName: string, displayName?: string): DesiredAccount => ({
  system: 'pg',
  userName,
  state: 'present',
  attributes: displayName === undefined ? {} : { displayName },
  entitlements: [],
});

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

describe('postgres connector specifics', () => {
  let target: PostgresTarget;
  let connector: Connector;
  const { logger } = capturingLogger();

  beforeAll(async () => {
    target = await startPostgresTarget();
    connector = await target.connect({ logger });
  }, 120_000);

  afterAll(async () => {
    await connector?.close();
    await target?.close();
  }, 60_000);

  const role = async (name: string) => (await target.admin('SELECT rolcanlogin, rolsuper FROM pg_roles WHERE rolname = $1', [name])).rows[0];

  const MARKER = 'rollcall:conformance/postgres';
  const tag = async (name: string) =>
    (await target.admin("SELECT shobj_description(oid, 'pg_authid') AS tag FROM pg_roles WHERE rolname = $1", [name])).rows[0]?.tag;

  it('creates the marker role NOLOGIN, tagged with its ConnectedSystem, on first use and keeps its membership out of the entitlements', async () => {
    expect(await role(MARKER)).toBeUndefined();
    await connector.apply({ op: 'create', account: account('dora') }, signal());
    expect(await role(MARKER)).toEqual({ rolcanlogin: false, rolsuper: false });
    expect(await tag(MARKER)).toBe('rollcall.dev/marker-of=conformance/postgres');
    expect((await connector.getAccount('dora', signal()))?.entitlements).toEqual([]);
  });

  it('refuses an existing role it did not create for this system as managedRole, and manages none of its members', async () => {
    await target.admin('CREATE ROLE app_users NOLOGIN; CREATE ROLE app_owner LOGIN IN ROLE app_users');
    const untagged = await target.connectWith({ managedRole: 'app_users' }, logger);
    try {
      const error = await failure(untagged.check(signal()));
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toMatch(/exists but Rollcall did not create it for this ConnectedSystem/);
      const names: string[] = [];
      for await (const a of untagged.listAccounts(signal())) names.push(a.userName);
      expect(names).toEqual([]);
      await untagged.apply({ op: 'delete', userName: 'app_owner' }, signal()).catch(() => undefined);
      expect(await role('app_owner')).toEqual({ rolcanlogin: true, rolsuper: false });
    } finally {
      await untagged.close();
    }
  });

  it('ends the open sessions of a disabled user', async () => {
    // Keep a session of dora's open while disabling her.
    const password = `pw-${crypto.randomUUID()}`;
    await target.admin(`ALTER ROLE dora PASSWORD ${pg.escapeLiteral(scramVerifier(password))}`);
    const session = new pg.Client({ host: target.server.host, port: target.server.port, user: 'dora', password, database: 'postgres' });
    session.on('error', () => undefined);
    await session.connect();
    await connector.apply({ op: 'disable', userName: 'dora' }, signal());
    expect(await failure(session.query('SELECT 1'))).toBeInstanceOf(Error);
    await session.end().catch(() => undefined);
    // pg_terminate_backend signals; the backend leaves pg_stat_activity a moment later.
    const sessions = async () => (await target.admin("SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = 'dora'")).rows[0].n;
    await expect.poll(sessions, { timeout: 5000 }).toBe(0);
  });

  it('sets a first password that logs in, as a SCRAM verifier, and sets it again when a retried create finds the role', async () => {
    const password = 'First-Pass-2-only-once';
    await connector.apply({ op: 'create', account: account('flo'), initialPassword: password }, signal());
    const loginWith = async (secret: string) => {
      const session = new pg.Client({ host: target.server.host, port: target.server.port, user: 'flo', password: secret, database: 'postgres' });
      try {
        await session.connect();
        return (await session.query('SELECT current_user AS who')).rows[0].who as string;
      } catch (error) {
        return (error as { code?: string }).code;
      } finally {
        await session.end().catch(() => undefined);
      }
    };
    expect(await loginWith(password)).toBe('flo');
    expect(await loginWith(`${password}x`)).toBe('28P01');
    // The server holds a verifier, never the clear text (PostgreSQL has no "must change": see the docs).
    const stored = (await target.admin('SELECT rolpassword FROM pg_authid WHERE rolname = $1', ['flo'])).rows[0].rolpassword as string;
    expect(stored).toMatch(/^SCRAM-SHA-256\$4096:/);
    expect(stored).not.toContain(password);
    // A retry of the create after its answer was lost: the role is there, the delivered password is (re)set.
    await target.admin(`ALTER ROLE flo PASSWORD ${pg.escapeLiteral(scramVerifier('Something-Else-3'))}`);
    await connector.apply({ op: 'create', account: account('flo'), initialPassword: password }, signal());
    expect(await loginWith(password)).toBe('flo');
    await connector.apply({ op: 'delete', userName: 'flo' }, signal());
  });

  it('refuses to create over a role it does not manage, and never alters it', async () => {
    await target.createForeignAccount('erin');
    const before = await target.fingerprint('erin');
    const error = await failure(connector.apply({ op: 'create', account: account('erin', 'Erin') }, signal()));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(/taken by a role Rollcall does not manage/);
    for (const op of ['disable', 'enable', 'delete'] as const) {
      await connector.apply({ op, userName: 'erin' }, signal()).catch(() => undefined);
    }
    await connector.apply({ op: 'grant', userName: 'erin', entitlement: 'analysts' }, signal()).catch(() => undefined);
    expect(await target.fingerprint('erin')).toBe(before);
    expect(await connector.getAccount('erin', signal())).toMatchObject({ owner: 'unmanaged' });
  });

  it('never lists, alters or drops a superuser, even one inside the marker role', async () => {
    await target.admin(`CREATE ROLE root_in_marker SUPERUSER LOGIN IN ROLE ${pg.escapeIdentifier(MARKER)}`);
    const before = await target.fingerprint('root_in_marker');
    const names: string[] = [];
    for await (const a of connector.listAccounts(signal())) names.push(a.userName);
    expect(names).not.toContain('root_in_marker');
    expect(await connector.getAccount('root_in_marker', signal())).toMatchObject({ owner: 'foreign' });
    await expect(connector.apply({ op: 'adopt', userName: 'root_in_marker' }, signal())).rejects.toBeInstanceOf(PermanentError);
    await expect(connector.apply({ op: 'disable', userName: 'root_in_marker' }, signal())).rejects.toBeInstanceOf(PermanentError);
    await expect(connector.apply({ op: 'delete', userName: 'root_in_marker' }, signal())).rejects.toBeInstanceOf(PermanentError);
    expect(await target.fingerprint('root_in_marker')).toBe(before);
  });

  it('names a missing group role and never creates it; refuses login roles and the marker as entitlements', async () => {
    const missing = await failure(connector.apply({ op: 'grant', userName: 'dora', entitlement: 'no_such_group' }, signal()));
    expect(missing).toBeInstanceOf(PermanentError);
    expect(missing.message).toContain('no_such_group');
    expect(await role('no_such_group')).toBeUndefined();
    await expect(connector.apply({ op: 'grant', userName: 'dora', entitlement: 'postgres' }, signal())).rejects.toBeInstanceOf(PermanentError);
    await expect(connector.apply({ op: 'grant', userName: 'dora', entitlement: 'rollcall_managed' }, signal())).rejects.toBeInstanceOf(PermanentError);
    await expect(connector.apply({ op: 'revoke', userName: 'dora', entitlement: 'rollcall_managed' }, signal())).rejects.toBeInstanceOf(PermanentError);
    await expect(connector.apply({ op: 'grant', userName: 'dora', entitlement: MARKER }, signal())).rejects.toBeInstanceOf(PermanentError);
    expect((await connector.getAccount('dora', signal()))?.state).toBe('disabled');
  });

  it('refuses user names longer than 63 bytes instead of truncating them', async () => {
    const long = 'é'.repeat(32); // 64 bytes
    const error = await failure(connector.apply({ op: 'create', account: account(long) }, signal()));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(/63/);
    expect(await connector.getAccount(long, signal())).toBeUndefined();
    const fits = 'é'.repeat(31) + 'x'; // 63 bytes
    await connector.apply({ op: 'create', account: account(fits) }, signal());
    expect((await connector.getAccount(fits, signal()))?.userName).toBe(fits);
  });

  it('drops what the role owns on delete when onDelete is drop', async () => {
    const dropping = await target.connectWith({ onDelete: 'drop' }, logger);
    try {
      await dropping.apply({ op: 'create', account: account('frank') }, signal());
      await target.admin('CREATE TABLE frank_notes (id int)');
      await target.admin('ALTER TABLE frank_notes OWNER TO frank');
      await dropping.apply({ op: 'delete', userName: 'frank' }, signal());
      expect(await role('frank')).toBeUndefined();
      expect((await target.admin("SELECT to_regclass('frank_notes') AS t")).rows[0].t).toBeNull();
    } finally {
      await dropping.close();
    }
  });

  it('reassigns what the role owns on delete when onDelete is reassign', async () => {
    await target.admin('CREATE ROLE archive NOLOGIN');
    const reassigning = await target.connectWith({ onDelete: 'reassign', reassignTo: 'archive' }, logger);
    try {
      await reassigning.apply({ op: 'create', account: account('gina') }, signal());
      await target.admin('CREATE TABLE gina_notes (id int)');
      await target.admin('ALTER TABLE gina_notes OWNER TO gina');
      await reassigning.apply({ op: 'delete', userName: 'gina' }, signal());
      expect(await role('gina')).toBeUndefined();
      const owner = await target.admin("SELECT tableowner FROM pg_tables WHERE tablename = 'gina_notes'");
      expect(owner.rows[0].tableowner).toBe('archive');
    } finally {
      await reassigning.close();
    }
  });

  it('removes the comment when displayName becomes null or empty', async () => {
    await connector.apply({ op: 'update', userName: 'dora', attributes: { displayName: "Dora 'the' Explorer" } }, signal());
    expect((await connector.getAccount('dora', signal()))?.attributes).toEqual({ displayName: "Dora 'the' Explorer" });
    await connector.apply({ op: 'update', userName: 'dora', attributes: { displayName: null } }, signal());
    expect((await connector.getAccount('dora', signal()))?.attributes).toEqual({});
  });

  it('notices roles dropped out of band right after it created or checked them', async () => {
    await connector.apply({ op: 'create', account: account('ivy') }, signal());
    await connector.apply({ op: 'grant', userName: 'ivy', entitlement: 'analysts' }, signal());
    await target.admin('CREATE ROLE short_lived NOLOGIN');
    await connector.apply({ op: 'grant', userName: 'ivy', entitlement: 'short_lived' }, signal());
    await target.admin('DROP ROLE short_lived');
    await connector.apply({ op: 'revoke', userName: 'ivy', entitlement: 'short_lived' }, signal());
    const group = await failure(connector.apply({ op: 'grant', userName: 'ivy', entitlement: 'short_lived' }, signal()));
    expect(group).toBeInstanceOf(PermanentError);
    expect(group.message).toMatch(/group role "short_lived" does not exist/);
    await target.admin('DROP ROLE ivy');
    const user = await failure(connector.apply({ op: 'grant', userName: 'ivy', entitlement: 'engineering' }, signal()));
    expect(user).toBeInstanceOf(PermanentError);
    expect(user.message).toMatch(/no role "ivy"; create the account first/);
    expect(await role('ivy')).toBeUndefined();
  });

  it('creates its marker role again when it was dropped after the first create, whatever its name', async () => {
    // A name that needs quoting everywhere: capitals, a space and a double quote.
    const marker = 'Short "Marker"';
    const marked = await target.connectWith({ managedRole: marker }, logger);
    try {
      await marked.apply({ op: 'create', account: account('jo') }, signal());
      await marked.apply({ op: 'delete', userName: 'jo' }, signal());
      await target.admin(`DROP ROLE ${pg.escapeIdentifier(marker)}`);
      await marked.apply({ op: 'create', account: account('jo', 'Jo') }, signal());
      await marked.apply({ op: 'grant', userName: 'jo', entitlement: 'analysts' }, signal());
      expect(await role(marker)).toEqual({ rolcanlogin: false, rolsuper: false });
      expect(await marked.getAccount('jo', signal())).toMatchObject({
        userName: 'jo',
        state: 'present',
        attributes: { displayName: 'Jo' },
        entitlements: ['analysts'],
      });
      await marked.apply({ op: 'delete', userName: 'jo' }, signal());
    } finally {
      await marked.close();
    }
  });

  it('recovers on the same connector after the server restarts', async () => {
    await target.server.stop();
    await target.server.restart();
    // The pooled connection died with the server: at most this one call may fail, retryably.
    await connector.getAccount('dora', signal()).catch(() => undefined);
    expect((await connector.getAccount('dora', signal()))?.userName).toBe('dora');
  });
});
