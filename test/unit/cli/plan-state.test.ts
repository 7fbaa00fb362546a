// `rollcall plan -f DIR` in standalone mode reads the state file `rollcall run --manifests DIR` keeps
// (by default .rollcall/<name of DIR>.state.json), so it plans what the next run will do: a User
// removed from the files is a leaver to deprovision, not an orphan. It never writes the file.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanDocument } from '../../../src/cli/plan-document.ts';
import { describeDirectory } from '../../../src/connectors/sqlite/directory.ts';
import { rollcall } from '../../helpers/rollcall-cli.ts';

describe('rollcall plan -f DIR reads the state rollcall run --manifests DIR keeps', { timeout: 30_000 }, () => {
  let root = '';
  let manifests = '';
  const db = () => join(root, 'data', 'directory.db');
  const stateFile = () => join(root, '.rollcall', 'company.state.json');

  function write(users: string[]): void {
    const documents = [
      `kind: ConnectedSystem\nmetadata: {name: directory, namespace: acme}\nspec: {type: sqlite, sqlite: {path: ${JSON.stringify(db())}}, deprovision: {policy: delete}}`,
      'kind: AccessRole\nmetadata: {name: staff, namespace: acme}\nspec: {grants: [{system: directory, entitlements: [all-staff]}]}',
      `kind: AccessBinding\nmetadata: {name: staff, namespace: acme}\nspec: {role: staff, users: [${users.join(', ')}]}`,
      ...users.map((name) => `kind: User\nmetadata: {name: ${name}, namespace: acme}\nspec: {userName: ${name}}`),
    ];
    writeFileSync(join(manifests, 'all.yaml'), documents.map((d) => `apiVersion: rollcall.dev/v1alpha1\n${d}\n`).join('---\n'));
  }

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rollcall-plan-state-'));
    manifests = join(root, 'company');
    mkdirSync(manifests);
    write(['alice', 'bob']);
    const run = await rollcall(['run', '--manifests', manifests, '--once'], root);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  }, 60_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('plans over the default state file: nothing to change right after a run', async () => {
    const plan = await rollcall(['plan', '-f', manifests], root);
    expect(plan.stderr).toBe('');
    expect(plan.stdout).toContain('over the state in .rollcall/company.state.json');
    expect(plan.stdout).toContain('No changes.');
    expect(plan.code).toBe(0);
  });

  it('a User removed from the files is a leaver to deprovision, as the next run would; the state file and the system stay as they were', async () => {
    write(['alice']);
    const before = { text: readFileSync(stateFile(), 'utf8'), mtime: statSync(stateFile()).mtimeMs };
    const text = await rollcall(['plan', '-f', manifests], root);
    expect(text.stdout).toMatch(/- bob\s+delete account/);
    expect(text.code).toBe(2);
    const json = await rollcall(['plan', '-f', manifests, '-o', 'json'], root);
    expect(json.code).toBe(2);
    const document = JSON.parse(json.stdout) as PlanDocument;
    expect(document.systems[0]!.changes).toContainEqual({ op: 'delete', userName: 'bob' });
    expect(document.systems[0]!.orphans).toEqual([]);
    expect(document.exitCode).toBe(2);
    expect(readFileSync(stateFile(), 'utf8')).toBe(before.text);
    expect(statSync(stateFile()).mtimeMs).toBe(before.mtime);
    expect(describeDirectory(db()).find((row) => row.userName === 'bob')?.state).toBe('present');
  });

  it('--state names another file; without one, bob is only an orphan (what a run without its state would think)', async () => {
    const missing = join(root, 'elsewhere.state.json');
    const plan = await rollcall(['plan', '-f', manifests, '--state', missing, '-o', 'json'], root);
    const document = JSON.parse(plan.stdout) as PlanDocument;
    expect(document.systems[0]).toMatchObject({ changes: [], orphans: ['bob'] });
    expect(plan.code).toBe(0);
    const text = await rollcall(['plan', '-f', manifests, '--state', stateFile()], root);
    expect(text.stdout).toContain(`over the state in ${stateFile()}`);
    expect(text.code).toBe(2);
  });
});
