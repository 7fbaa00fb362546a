// A bad manifest costs only its own object in `rollcall run --manifests DIR`, as in a cluster
// (embedded sqlite system: the point is the directory, not a server). With --once, 40 good Users
// converge beside a file holding an invalid one, which is named by file, document and line, and
// the run exits 1. Watching: after a file with an invalid User is added, a User set to terminated
// is still cut off and a new User is still created; a User whose manifest turns invalid, and the
// Users of a file that is no longer YAML at all, keep their previous versions (not deprovisioned).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeDirectory } from '../../src/connectors/sqlite/directory.ts';
import { ROLLCALL, rollcall, type RollcallOutcome } from '../helpers/rollcall-cli.ts';

const TEAM_A = Array.from({ length: 20 }, (_, i) => `good${String(i).padStart(2, '0')}`);
const TEAM_B = Array.from({ length: 20 }, (_, i) => `good${String(i + 20).padStart(2, '0')}`);

const user = (name: string, spec = '') =>
  `apiVersion: rollcall.dev/v1alpha1\nkind: User\nmetadata: {name: ${name}, namespace: acme}\nspec:\n  userName: ${name}\n  givenName: ${name}\n  familyName: Test\n${spec}`;
const users = (names: string[], specs: Record<string, string> = {}) => names.map((n) => user(n, specs[n])).join('---\n');

async function eventually(check: () => void, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      return check();
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await sleep(200);
    }
  }
}

describe('a bad manifest costs only its own object', () => {
  let root = '';
  let dir = '';
  let db = '';
  let once: RollcallOutcome;
  let watcher: ChildProcess | undefined;
  let output = '';
  const accounts = () => new Map(describeDirectory(db).map((a) => [a.userName, a.state]));

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rollcall-bad-manifest-'));
    dir = join(root, 'manifests');
    db = join(root, 'directory.db');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'system.yaml'),
      `apiVersion: rollcall.dev/v1alpha1
kind: ConnectedSystem
metadata: {name: directory, namespace: acme}
spec: {type: sqlite, sqlite: {path: ${JSON.stringify(db)}}, deprovision: {policy: disable}, deletionGuard: {maxCount: 100}}
---
apiVersion: rollcall.dev/v1alpha1
kind: AccessRole
metadata: {name: staff, namespace: acme}
spec: {grants: [{system: directory, entitlements: [all-staff]}]}
---
apiVersion: rollcall.dev/v1alpha1
kind: AccessBinding
metadata: {name: everyone, namespace: acme}
spec: {role: staff, userSelector: {}}
`,
    );
    writeFileSync(join(dir, 'team-a.yaml'), users(TEAM_A));
    writeFileSync(join(dir, 'team-b.yaml'), users(TEAM_B));
    // Document 2 of this file is invalid; document 1 beside it is fine.
    writeFileSync(join(dir, 'new-hires.yaml'), `${user('fine')}---\n${user('broken', '  state: retired\n')}`);
    once = await rollcall(['run', '--manifests', dir, '--once'], root);
  }, 120_000);

  afterAll(async () => {
    if (watcher && watcher.exitCode === null) {
      const exited = new Promise((resolve) => watcher!.once('exit', resolve));
      watcher.kill('SIGTERM');
      await exited;
    }
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('--once: the 40 bystanders and the valid document beside the bad one converge', () => {
    const now = accounts();
    for (const name of [...TEAM_A, ...TEAM_B, 'fine']) expect(now.get(name), name).toBe('present');
    expect(now.has('broken')).toBe(false);
  });

  it('--once: the bad one is named by file, document and line, and the run exits 1', () => {
    expect(once.code, once.stdout + once.stderr).toBe(1);
    expect(once.stdout).toMatch(
      /1 invalid manifest\(s\), not applied:\n\s+\S*new-hires\.yaml: User "broken" \(document 2, line 16\): spec\.state: must be one of active, suspended, terminated/,
    );
    // And a log line says the same.
    expect(once.stdout + once.stderr).toMatch(/"msg":"invalid manifest, not applied: \S*new-hires\.yaml: User \\"broken\\" \(document 2, line 16\)/);
  });

  it('watching: beside a bad file, a leaver is cut off, a joiner is created, and invalid objects keep their previous versions', async () => {
    watcher = spawn(process.execPath, [ROLLCALL, 'run', '--manifests', dir], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    watcher.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    watcher.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await eventually(() => expect(output).toContain('Watching'));

    writeFileSync(join(dir, 'zz-typo.yaml'), user('typo', '  state: gone\n'));
    await eventually(() => expect(output).toMatch(/invalid manifest, not applied: \S*zz-typo\.yaml: User \\"typo\\" \(document 1, line 8\): spec\.state/));

    // good05 leaves; good10's manifest turns invalid; team-b.yaml is no longer YAML; a joiner arrives.
    writeFileSync(join(dir, 'team-a.yaml'), users(TEAM_A, { good05: '  state: terminated\n', good10: '  email: not-an-address\n' }));
    writeFileSync(join(dir, 'team-b.yaml'), '{{{ this is not YAML\n');
    writeFileSync(join(dir, 'joiners.yaml'), user('newbie'));

    await eventually(() => {
      const now = accounts();
      expect(now.get('good05')).toBe('disabled');
      expect(now.get('newbie')).toBe('present');
    });
    await eventually(() => {
      expect(output).toContain('User acme/good10 keeps its previous version');
      expect(output).toContain('User acme/good20 keeps its previous version');
    });
    // Settle, then: nobody was deprovisioned for a typo or an unreadable file.
    await sleep(2_000);
    const now = accounts();
    for (const name of [...TEAM_A.filter((n) => n !== 'good05'), ...TEAM_B, 'fine']) expect(now.get(name), name).toBe('present');
    expect(now.has('typo')).toBe(false);
  }, 120_000);
});
