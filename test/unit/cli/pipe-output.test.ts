// `rollcall run --once` as a parent process sees it through a pipe (CI, scripts, `| tee`): a pipe
// takes the output asynchronously, so a process that exits while its writes are still queued loses
// the end of the summary and still reports success. A few thousand Users make that output far
// larger than the pipe's buffer.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const USERS = 3000;

function manifests(dir: string): string[] {
  const names = Array.from({ length: USERS }, (_, i) => `user-${String(i).padStart(4, '0')}`);
  writeFileSync(
    join(dir, 'system.yaml'),
    `apiVersion: rollcall.dev/v1alpha1
kind: ConnectedSystem
metadata: {name: directory, namespace: acme}
spec: {type: sqlite, sqlite: {path: ${JSON.stringify(join(dir, 'directory.db'))}}, deprovision: {policy: disable}}
---
apiVersion: rollcall.dev/v1alpha1
kind: AccessRole
metadata: {name: employee, namespace: acme}
spec: {grants: [{system: directory, entitlements: [all-staff, vpn-users]}]}
---
apiVersion: rollcall.dev/v1alpha1
kind: AccessBinding
metadata: {name: everyone, namespace: acme}
spec: {role: employee, userSelector: {matchLabels: {staff: 'yes'}}}
`,
  );
  const users = names.map(
    (name) => `apiVersion: rollcall.dev/v1alpha1
kind: User
metadata: {name: ${name}, namespace: acme, labels: {staff: 'yes'}}
spec: {userName: ${name}, givenName: ${name}, familyName: Test}
`,
  );
  writeFileSync(join(dir, 'users.yaml'), users.join('---\n'));
  return names;
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'rollcall.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', reject);
    // 'close', not 'exit': only then has everything the child wrote been read from the pipes.
    child.once('close', (code) => resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') }));
  });
}

describe('rollcall run --once through a pipe', () => {
  // On a RAM disk when there is one: node:sqlite syncs every transaction, and that is not what is tested.
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'rollcall-pipe-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('delivers the whole summary before it exits', async () => {
    const names = manifests(dir);
    const { code, stdout, stderr } = await run(['run', '--manifests', dir, '--once']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    // What was done, one line per account…
    const applied = new Set(lines.filter((line) => line.includes(' directory ')).map((line) => line.trim().split(/\s+/)[0]));
    expect(names.filter((name) => !applied.has(name))).toEqual([]);
    // …then the summary table, one line per User, the last User's line last.
    const header = lines.findIndex((line) => line.startsWith('USER '));
    expect(header).toBeGreaterThan(0);
    const summary = lines.slice(header + 1).filter((line) => line !== '');
    expect(summary.map((line) => line.split(/\s+/)[0])).toEqual(names);
    expect(summary.at(-1)).toMatch(new RegExp(`^${names.at(-1)} +active +True +1/1 +directory: present \\[all-staff, vpn-users\\]$`));
    expect(stdout.endsWith(`${summary.at(-1)}\n`)).toBe(true);
  }, 120_000);
});
