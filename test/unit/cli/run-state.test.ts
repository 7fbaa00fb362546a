// `rollcall run --manifests DIR --once`, run as a person would, several times with the files edited
// in between: each run continues from the state file the previous one left, so what changed while
// Rollcall was not running is acted on (a leaver, a lost system, a retention that ran out).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { describeDirectory } from '../../../src/connectors/sqlite/directory.ts';
import { rollcall } from '../../helpers/rollcall-cli.ts';

function capture() {
  const lines: string[] = [];
  const errors: string[] = [];
  return { out: { line: (t: string) => lines.push(t), error: (t: string) => errors.push(t) }, lines, errors };
}

describe('rollcall run --manifests keeps its state between runs', () => {
  let root = '';
  let manifests = '';
  const db = (system: string) => join(root, 'data', `${system}.db`);
  const account = (system: string, name: string) => describeDirectory(db(system)).find((row) => row.userName === name);

  /** Users by name → extra spec; bindings by role → the users they list. */
  function write(users: Record<string, string>, bindings: Record<string, string[]>): void {
    const documents = [
      `kind: ConnectedSystem
metadata: {name: directory, namespace: acme}
spec: {type: sqlite, sqlite: {path: ${JSON.stringify(db('directory'))}}, deprovision: {policy: disableThenDelete, retention: 2s}, deletionGuard: {maxCount: 10}}`,
      `kind: ConnectedSystem
metadata: {name: wiki, namespace: acme}
spec: {type: sqlite, sqlite: {path: ${JSON.stringify(db('wiki'))}}, deprovision: {policy: delete}, deletionGuard: {maxCount: 10}}`,
      `kind: AccessRole
metadata: {name: staff, namespace: acme}
spec: {grants: [{system: directory, entitlements: [all-staff]}]}`,
      `kind: AccessRole
metadata: {name: editor, namespace: acme}
spec: {grants: [{system: wiki, entitlements: [editors]}]}`,
      ...Object.entries(bindings).map(
        ([role, names]) => `kind: AccessBinding\nmetadata: {name: ${role}, namespace: acme}\nspec: {role: ${role}, users: [${names.join(', ')}]}`,
      ),
      ...Object.entries(users).map(([name, extra]) => `kind: User\nmetadata: {name: ${name}, namespace: acme}\nspec: {userName: ${name}${extra}}`),
    ];
    writeFileSync(join(manifests, 'all.yaml'), documents.map((d) => `apiVersion: rollcall.dev/v1alpha1\n${d}\n`).join('---\n'));
  }

  const stateFile = () => join(root, '.rollcall', 'company.state.json');
  const stateOf = (kind: string, name: string) =>
    readFileSync(stateFile(), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('{"object"'))
      .map((line) => JSON.parse(line.replace(/,$/, '')) as { object: { kind: string; metadata: { name: string }; status?: Record<string, unknown> } })
      .find((entry) => entry.object.kind === kind && entry.object.metadata.name === name)?.object;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'rollcall-run-state-'));
    manifests = join(root, 'company');
    mkdirSync(manifests);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('a leaver, a lost system and a retention, each while Rollcall was not running', { timeout: 60_000 }, async () => {
    write({ alice: '', bob: '', carol: '' }, { staff: ['alice', 'carol'], editor: ['alice', 'bob'] });
    // The first run uses the default state file, in .rollcall/ of the working directory.
    const first = await rollcall(['run', '--manifests', manifests, '--once'], root);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(existsSync(stateFile())).toBe(true);
    expect(first.stdout).toContain('state in .rollcall/company.state.json');
    expect(account('wiki', 'bob')?.state).toBe('present');
    expect(account('wiki', 'alice')?.state).toBe('present');
    expect(account('directory', 'carol')?.state).toBe('present');

    // While stopped: bob leaves the files, alice loses the wiki, carol is terminated.
    write({ alice: '', carol: ', state: terminated' }, { staff: ['alice', 'carol'] });
    const second = await rollcall(['run', '--manifests', manifests, '--once', '--state', join('.rollcall', 'company.state.json')], root);
    const disabledBy = performance.now();
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/bob\s+wiki/);
    expect(account('wiki', 'bob')).toBeUndefined(); // a leaver, deprovisioned by the wiki's policy: delete
    expect(account('wiki', 'alice')).toBeUndefined(); // lost the system
    expect(account('directory', 'alice')?.state).toBe('present');
    expect(account('directory', 'carol')?.state).toBe('disabled'); // disableThenDelete: disabled first
    expect(stateOf('ConnectedSystem', 'wiki')?.status?.orphaned ?? 0).toBe(0);
    expect(stateOf('User', 'bob')).toBeUndefined();
    expect(stateOf('User', 'carol')?.status).toMatchObject({
      deprovisionStartedAt: expect.any(String),
      accounts: [expect.objectContaining({ system: 'directory', state: 'disabled', disabledAt: expect.any(String) })],
    });

    // The retention (2s) runs out while Rollcall is not running; the next run deletes the account.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 2_100 - (performance.now() - disabledBy))));
    const third = await rollcall(['run', '--manifests', manifests, '--once', '--state', stateFile()], root);
    expect(third.stderr).toBe('');
    expect(third.code).toBe(0);
    expect(account('directory', 'carol')).toBeUndefined();
    expect(account('directory', 'alice')?.state).toBe('present');
  });

  it('a corrupt state file stops the run with an error naming it, and changes nothing', async () => {
    const corrupt = join(root, 'corrupt.state.json');
    writeFileSync(corrupt, '{"format": "rollcall.dev/state/v1", "objects": [');
    write({ zoe: '' }, { staff: ['zoe'] });
    const { out, errors } = capture();
    expect(await main(['run', '--manifests', manifests, '--once', '--state', corrupt], out)).toBe(1);
    expect(errors.join('\n')).toMatch(/rollcall run: the state file .*corrupt\.state\.json is not valid JSON/);
    expect(account('directory', 'zoe')).toBeUndefined();
    expect(readFileSync(corrupt, 'utf8')).toBe('{"format": "rollcall.dev/state/v1", "objects": [');
  });

  it('--state goes only with --manifests', async () => {
    const { out, errors } = capture();
    expect(await main(['run', '--state', 'x.json'], out)).toBe(1);
    expect(errors.join('\n')).toMatch(/--state FILE only goes with --manifests DIR/);
  });

  it('--leader-pod goes only with a cluster', async () => {
    const { out, errors } = capture();
    expect(await main(['run', '--manifests', manifests, '--once', '--leader-pod', 'rollcall-0'], out)).toBe(1);
    expect(errors.join('\n')).toMatch(/--leader-pod only goes with a cluster, not with --manifests DIR/);
  });
});
