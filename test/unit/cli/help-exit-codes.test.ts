// Asking for help succeeds; a missing or unknown command fails with the usage on stderr. Both
// binaries run as a person (or a script checking $?) runs them.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '..', '..', '..', 'bin');
const run = (bin: string, args: string[]) => {
  const result = spawnSync(process.execPath, [join(BIN, bin), ...args], { encoding: 'utf8', env: { ...process.env, KUBECONFIG: '/nonexistent' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};

describe('help and usage exit codes', { timeout: 30_000 }, () => {
  it.each([['--help'], ['-h'], ['status', '--help']])('kubectl-rollcall %s prints the usage on stdout and exits 0', (...args) => {
    const result = run('kubectl-rollcall', args);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Usage: kubectl rollcall <command>');
  });

  it("kubectl-rollcall plan --help shows rollcall plan's options, exit 0", () => {
    const result = run('kubectl-rollcall', ['plan', '--help']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Usage: rollcall plan');
  });

  it.each([[[]], [['frobnicate']]])('kubectl-rollcall %j: usage on stderr, non-zero', (args) => {
    const result = run('kubectl-rollcall', args);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('Usage: kubectl rollcall <command>');
  });

  it.each([['--help'], ['-h'], ['help'], ['run', '--help'], ['plan', '--help'], ['audit', '-h'], ['version', '--help']])(
    'rollcall %s exits 0 with the usage on stdout',
    (...args) => {
      const result = run('rollcall.js', args);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/Usage: rollcall/);
    },
  );

  it.each([[[]], [['frobnicate']]])('rollcall %j: usage on stderr, exit 1', (args) => {
    const result = run('rollcall.js', args);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('Usage: rollcall <command>');
  });
});
