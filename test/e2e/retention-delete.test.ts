// `kubectl delete user` under disableThenDelete does not wait for the retention (30 days in the quick
// start): the accounts are disabled at once, the User goes, and each ConnectedSystem's status keeps
// the account as retained until a date (RETAINED in kubectl get -o wide) and deletes it then.
// On the real control plane, with `rollcall run` and two real embedded sqlite directories.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeDirectory } from '../../src/connectors/sqlite/directory.ts';
import { createNamespace, kubectl, kubectlOk } from './kube.ts';
import { eventually, startRollcall, type RollcallRun } from './rollcall-run.ts';

const DAY = 24 * 3_600_000;

describe('kubectl delete user under disableThenDelete', () => {
  let namespace: string;
  let dir: string;
  let rollcall: RollcallRun | undefined;
  const archive = () => join(dir, 'archive.db');
  const short = () => join(dir, 'short.db');
  const system = (name: string) =>
    JSON.parse(kubectlOk(['get', 'connectedsystem', name, '-n', namespace, '-o', 'json'])) as {
      status?: { retained?: number; retainedAccounts?: Array<{ userName: string; user: string; deleteAfter: string }> };
    };

  beforeAll(() => {
    namespace = createNamespace('retention');
    dir = mkdtempSync(join(tmpdir(), 'rollcall-retention-'));
    kubectlOk(
      ['apply', '-f', '-'],
      [
        `apiVersion: rollcall.dev/v1alpha1\nkind: ConnectedSystem\nmetadata: {name: archive, namespace: ${namespace}}\nspec: {type: sqlite, sqlite: {path: ${JSON.stringify(archive())}}, deprovision: {policy: disableThenDelete, retention: 30d}}\n`,
        `apiVersion: rollcall.dev/v1alpha1\nkind: ConnectedSystem\nmetadata: {name: short, namespace: ${namespace}}\nspec: {type: sqlite, sqlite: {path: ${JSON.stringify(short())}}, deprovision: {policy: disableThenDelete, retention: 15s}, orphans: delete}\n`,
        `apiVersion: rollcall.dev/v1alpha1\nkind: AccessRole\nmetadata: {name: staff, namespace: ${namespace}}\nspec: {grants: [{system: archive, entitlements: [staff]}, {system: short, entitlements: [staff]}]}\n`,
        `apiVersion: rollcall.dev/v1alpha1\nkind: AccessBinding\nmetadata: {name: staff, namespace: ${namespace}}\nspec: {role: staff, users: [alice]}\n`,
        `apiVersion: rollcall.dev/v1alpha1\nkind: User\nmetadata: {name: alice, namespace: ${namespace}}\nspec: {userName: alice}\n`,
      ].join('---\n'),
    );
    rollcall = startRollcall(namespace);
  });

  afterAll(async () => {
    await rollcall?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('returns at once with the accounts disabled; each system keeps the account as retained until a date, and deletes it then', async () => {
    await eventually(() => {
      expect(describeDirectory(archive())).toEqual([expect.objectContaining({ userName: 'alice', state: 'present' })]);
      expect(describeDirectory(short())).toEqual([expect.objectContaining({ userName: 'alice', state: 'present' })]);
    }, rollcall);

    const started = performance.now();
    // kubectl waits for the object to be gone: it used to wait for the whole 30 days.
    const deleted = kubectl(['delete', 'user', 'alice', '-n', namespace, '--timeout=60s']);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(performance.now() - started).toBeLessThan(60_000);
    expect(kubectl(['get', 'user', 'alice', '-n', namespace]).code).not.toBe(0);
    const deletedAt = Date.now();

    // Disabled, not deleted, in both; the 15-second one may already be past its retention.
    expect(describeDirectory(archive())).toEqual([expect.objectContaining({ userName: 'alice', state: 'disabled', groups: [] })]);
    const kept = system('archive').status;
    expect(kept?.retained).toBe(1);
    expect(kept?.retainedAccounts).toEqual([{ userName: 'alice', user: 'alice', deleteAfter: expect.any(String) }]);
    const until = Date.parse(kept!.retainedAccounts![0]!.deleteAfter);
    expect(until).toBeGreaterThan(deletedAt + 30 * DAY - 120_000);
    expect(until).toBeLessThan(deletedAt + 30 * DAY + 1_000);
    expect(kubectlOk(['get', 'connectedsystem', 'archive', '-n', namespace, '-o', 'wide'])).toMatch(/RETAINED[\s\S]*\barchive\b.*\s1\s/);

    // The short retention ends: that system deletes the account and forgets it. Its orphan policy
    // (delete) never touched it before: a retained account is not an orphan.
    await eventually(() => expect(describeDirectory(short())).toEqual([]), rollcall);
    expect(Date.now() - deletedAt).toBeGreaterThanOrEqual(14_000);
    await eventually(() => expect(system('short').status?.retainedAccounts).toBeUndefined(), rollcall);
    expect(describeDirectory(archive())).toEqual([expect.objectContaining({ userName: 'alice', state: 'disabled' })]);
    expect(system('archive').status?.retainedAccounts).toHaveLength(1);
  });
});
