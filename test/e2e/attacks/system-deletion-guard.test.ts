// Issue 17, hole 5: deleting a ConnectedSystem under deletionPolicy deprovision deprovisioned every
// account past the deletion guard and wrote no audit line (a third apply loop beside the User and
// orphan paths). On the real control plane and a real PostgreSQL 15, a team-a writer deletes its
// system holding 20 accounts with deletionGuard maxCount 1: at most one account loses access, the
// system shows DeletionGuardTripped naming the count and keeps its finalizer; once the count is
// approved (rollcall.dev/approve-deprovision) every account is disabled, one audit line per change
// in `rollcall run`'s output, and the object goes.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { rollcall as rollcallCli } from '../../helpers/rollcall-cli.ts';
import { adminQuery, startPostgres, type PostgresServer } from '../../servers/postgres.ts';
import { createNamespace, kubectl, kubectlOk } from '../kube.ts';
import { eventually, startRollcall, type RollcallRun } from '../rollcall-run.ts';
import { asTeamA as asTeamAIn, letTeamAWriteRollcall } from './team-a.ts';
import { accessBinding, accessRole, manifestsYaml, postgresSystem, user } from '../../helpers/manifests.ts';

const USERS = Array.from({ length: 20 }, (_, i) => `acct${String(i + 1).padStart(2, '0')}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('deleting a ConnectedSystem under deletionPolicy deprovision goes through the deletion guard and the audit trail', () => {
  let postgres: PostgresServer;
  let namespace: string;
  let rollcall: RollcallRun | undefined;
  /** kubectl as a team-a writer: every Rollcall kind in its namespace, nothing else. */
  const asTeamA = (args: string[], input?: string) => asTeamAIn(namespace, args, input);
  const system = () => JSON.parse(kubectlOk(['get', 'csys', 'db', '-n', namespace, '-o', 'json']));
  const exists = () => kubectl(['get', 'csys', 'db', '-n', namespace]).code === 0;

  const sql = (text: string) => adminQuery(postgres, text);
  /** The accounts that can still log in: not deprovisioned. */
  async function loginRoles(): Promise<string[]> {
    const { rows } = await sql(`SELECT rolname::text AS name FROM pg_roles WHERE rolcanlogin AND rolname LIKE 'acct%' ORDER BY 1`);
    return rows.map((row: { name: string }) => row.name);
  }
  /** The audit lines `rollcall run` printed for changes the deletion of db made. */
  function deletionAuditLines(): Array<{ userName: string; op: string; entitlement?: string; cause: { kind: string; name: string; reason?: string } }> {
    return rollcall!.logs
      .join('')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line))
      .filter((line) => line.audit === true && line.namespace === namespace && line.system === 'db' && line.cause?.kind === 'ConnectedSystem');
  }

  beforeAll(async () => {
    postgres = await startPostgres();
    await sql('CREATE ROLE analysts NOLOGIN');
    namespace = createNamespace('attack-sysdel');
    kubectlOk([
      'create',
      'secret',
      'generic',
      'db-credentials',
      '-n',
      namespace,
      `--from-literal=username=${postgres.adminUser}`,
      `--from-literal=password=${postgres.adminPassword}`,
    ]);
    kubectlOk(['label', 'secret', 'db-credentials', '-n', namespace, 'rollcall.dev/credentials=true']);
    kubectlOk(['annotate', 'secret', 'db-credentials', '-n', namespace, 'rollcall.dev/allow-insecure=true']);
    letTeamAWriteRollcall(namespace);
    const manifests = manifestsYaml([
      postgresSystem({ name: 'db', namespace }, postgres, { deletionPolicy: 'deprovision', deletionGuard: { maxCount: 1 }, resyncInterval: '1h' }),
      accessRole({ name: 'staff', namespace }, { db: ['analysts'] }),
      accessBinding({ name: 'staff', namespace }, { userSelector: { matchLabels: { staff: 'yes' } } }),
      ...USERS.map((name) => user({ name, namespace, labels: { staff: 'yes' } })),
    ]);
    const result = asTeamA(['apply', '-f', '-'], manifests);
    expect(result.code, result.stderr).toBe(0);
    // info: the audit lines are logged at info level.
    rollcall = startRollcall(namespace, ['--log-level', 'info']);
    await eventually(async () => expect(await loginRoles()).toEqual(USERS), rollcall, 120_000);
  }, 300_000);

  afterAll(async () => {
    await rollcall?.stop();
    await postgres?.close();
  });

  it('kubectl delete as team-a: held past maxCount 1, DeletionGuardTripped names the count, the finalizer stays', async () => {
    const deleted = asTeamA(['delete', 'csys', 'db', '--wait=false']);
    expect(deleted.code, deleted.stderr).toBe(0);
    const guard = await eventually(() => {
      const condition = (system().status?.conditions ?? []).find((c: { type: string }) => c.type === 'DeletionGuardTripped');
      expect(condition).toMatchObject({ status: 'True', reason: 'TooManyDeprovisions' });
      return condition as { message: string };
    }, rollcall);
    expect(guard.message).toContain('of 20 accounts, more than the deletion guard allows (1: maxCount 1)');
    expect(guard.message).toContain('rollcall.dev/approve-deprovision="20"');
    // Give it time to do damage: it must not.
    await sleep(5_000);
    expect(USERS.length - (await loginRoles()).length).toBeLessThanOrEqual(1);
    const held = system();
    expect(held.metadata.deletionTimestamp).toBeDefined();
    expect(held.metadata.finalizers).toContain('rollcall.dev/deprovision');
    expect((held.status.conditions as { type: string; status: string; reason: string }[]).find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'DeprovisionHeld',
    });
    // `rollcall plan` agrees: the deletion is the pass, every disable held, the same count to approve.
    const plan = await rollcallCli(['plan', '--kubeconfig', inject('kubeconfig'), '--namespace', namespace, '-o', 'json']);
    const db = (
      JSON.parse(plan.stdout).systems as {
        name: string;
        changes: { op: string; userName: string; held?: boolean }[];
        guard: { tripped: boolean; count: number };
      }[]
    ).find((s) => s.name === 'db');
    expect(db?.guard, plan.stderr).toMatchObject({ tripped: true, count: 20 });
    expect(
      db!.changes
        .filter((c) => c.op === 'disable' && c.held)
        .map((c) => c.userName)
        .sort(),
    ).toEqual(await loginRoles());
    expect(db!.changes.filter((c) => !c.held)).toEqual([]);
    // What went (at most one account) was logged like any other change.
    expect(new Set(deletionAuditLines().map((line) => line.userName)).size).toBe(USERS.length - (await loginRoles()).length);
  });

  it('approving the count shown deprovisions every account, one audit line per change, and the object goes', async () => {
    const approved = asTeamA(['annotate', 'csys', 'db', 'rollcall.dev/approve-deprovision=20']);
    expect(approved.code, approved.stderr).toBe(0);
    await eventually(() => expect(exists()).toBe(false), rollcall, 90_000);
    expect(await loginRoles()).toEqual([]);

    const lines = deletionAuditLines();
    // One line per change: never twice the same change, and every account's disable is there.
    const changes = lines.map((line) => `${line.userName} ${line.op}${line.entitlement ? ` ${line.entitlement}` : ''}`);
    expect(new Set(changes).size).toBe(changes.length);
    expect(
      lines
        .filter((line) => line.op === 'disable')
        .map((line) => line.userName)
        .sort(),
    ).toEqual(USERS);
    for (const line of lines)
      expect(line.cause).toEqual({ kind: 'ConnectedSystem', name: 'db', reason: 'the ConnectedSystem is being deleted; spec.deletionPolicy is deprovision' });
    // And every account counted by the Events on the ConnectedSystem (one Event per account, listing
    // its changes): ten of them each their own, the rest in one combined Event with its count
    // (aggregated as client-go does).
    await eventually(
      () => {
        const events = JSON.parse(
          kubectlOk(['get', 'events', '-n', namespace, '--field-selector', 'involvedObject.kind=ConnectedSystem,involvedObject.name=db', '-o', 'json']),
        ).items as { message: string; count?: number }[];
        const deletionEvents = events.filter((e) =>
          e.message.replace('(combined from similar events): ', '').startsWith('system deleted (deletionPolicy deprovision)'),
        );
        expect(deletionEvents.reduce((sum, e) => sum + (e.count ?? 1), 0)).toBe(new Set(lines.map((line) => line.userName)).size);
      },
      rollcall,
      30_000,
    );
  });
});
