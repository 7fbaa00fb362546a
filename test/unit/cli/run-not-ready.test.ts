// `rollcall run --manifests DIR --once` never ends in success while a User is not Ready: a User
// refused because an older User holds its userName shows the reason on its own summary line, is
// listed among the failures, and the run exits 1 (before, it printed `mallory active False 0/0 -`
// and exited 0, the Conflict only in the state file). Its bystander converges.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeDirectory } from '../../../src/connectors/sqlite/directory.ts';
import { rollcall, type RollcallOutcome } from '../../helpers/rollcall-cli.ts';

describe('rollcall run --once with a User that is not Ready', { timeout: 60_000 }, () => {
  let root = '';
  let run: RollcallOutcome;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rollcall-not-ready-'));
    const manifests = join(root, 'company');
    mkdirSync(manifests);
    const doc = (kind: string, name: string, spec: string, creation = '') =>
      `apiVersion: rollcall.dev/v1alpha1\nkind: ${kind}\nmetadata: {name: ${name}, namespace: acme${creation}}\nspec: ${spec}\n`;
    writeFileSync(
      join(manifests, 'company.yaml'),
      [
        doc('ConnectedSystem', 'directory', `{type: sqlite, sqlite: {path: ${JSON.stringify(join(root, 'directory.db'))}}}`),
        doc('AccessRole', 'staff', '{grants: [{system: directory, entitlements: [all-staff]}]}'),
        doc('AccessBinding', 'everyone', '{role: staff, users: [alice, mallory]}'),
        doc('User', 'alice', '{userName: alice}'),
        // The same userName: alice keeps it, mallory is refused (Conflict).
        doc('User', 'mallory', '{userName: alice}'),
      ].join('---\n'),
    );
    run = await rollcall(['run', '--manifests', manifests, '--once', '--state', join(root, 'state.json')], root);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('exits 1 and lists the User among the failures', () => {
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toMatch(/failure\(s\)[^\n]*\n(\s+.*\n)*\s+User acme\/mallory: Conflict: userName alice is already used by User alice/);
  });

  it("shows the reason on the User's summary line, shortened", () => {
    const line = run.stdout.split('\n').find((l) => l.startsWith('mallory '));
    expect(line).toMatch(/^mallory\s+active\s+False\s+0\/0\s+- -- Conflict: userName alice is already used by User alice/);
    expect(line!.length).toBeLessThan(260);
    // A Ready User's line carries no reason.
    expect(run.stdout.split('\n').find((l) => l.startsWith('alice '))).not.toContain(' -- ');
  });

  it('the bystander converges', () => {
    expect(describeDirectory(join(root, 'directory.db')).map((a) => [a.userName, a.groups])).toEqual([['alice', ['all-staff']]]);
  });
});
