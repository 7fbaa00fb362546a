// Logs never mix into what a command prints: `rollcall run --once` keeps stdout for its table and
// writes every log record to stderr, in JSON or, with --log-format text, one short line each. The
// first record says the version and the effective configuration. Bad --log-level/--log-format values
// are refused with the flag named.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollcall } from '../../helpers/rollcall-cli.ts';

describe('rollcall run logs', { timeout: 30_000 }, () => {
  let root = '';
  let manifests = '';
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'rollcall-logs-'));
    manifests = join(root, 'company');
    mkdirSync(manifests);
    writeFileSync(
      join(manifests, 'company.yaml'),
      [
        `kind: ConnectedSystem\nmetadata: {name: directory, namespace: acme}\nspec: {type: sqlite, sqlite: {path: ${JSON.stringify(join(root, 'directory.db'))}}}`,
        'kind: AccessRole\nmetadata: {name: staff, namespace: acme}\nspec: {grants: [{system: directory, entitlements: [all-staff]}]}',
        'kind: User\nmetadata: {name: ann, namespace: acme}\nspec: {userName: ann}',
        'kind: AccessBinding\nmetadata: {name: staff, namespace: acme}\nspec: {role: staff, users: [ann]}',
      ]
        .map((d) => `apiVersion: rollcall.dev/v1alpha1\n${d}\n`)
        .join('---\n'),
    );
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('--once at debug: stdout holds the table and no log line; stderr holds JSON records, the start-up one first', async () => {
    const run = await rollcall(['run', '--manifests', manifests, '--once', '--state', join(root, 'json.state.json'), '--log-level', 'debug'], root);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('USER         STATE');
    expect(run.stdout.split('\n').filter((line) => line.startsWith('{'))).toEqual([]);
    const records = run.stderr
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.length).toBeGreaterThan(1);
    expect(records[0]).toMatchObject({
      msg: expect.stringMatching(/^rollcall \d+\.\d+\.\d+.* starting$/),
      version: expect.any(String),
      config: { mode: 'manifests', manifests, once: true, namespaces: 'all', leaderElect: false, logFormat: 'json' },
    });
  });

  it('--log-format text: one short line a record on stderr, no JSON', async () => {
    const run = await rollcall(
      ['run', '--manifests', manifests, '--once', '--state', join(root, 'text.state.json'), '--log-level', 'info', '--log-format', 'text'],
      root,
    );
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stderr.split('\n').filter(Boolean);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO {2}rollcall \S+ starting version=\S+ config=\{"mode":"manifests"/);
    expect(lines.filter((line) => line.startsWith('{'))).toEqual([]);
    expect(run.stdout.split('\n').filter((line) => /^\{|INFO|DEBUG/.test(line))).toEqual([]);
  });

  it.each([
    [['--log-level', 'verbose'], '--log-level must be one of trace, debug, info, warn, error, fatal, silent, not "verbose"'],
    [['--log-format', 'pretty'], '--log-format must be json or text, not "pretty"'],
    [['--health-port', 'http'], '--health-port must be a port number (0 to 65535), not "http"'],
  ])('%j is refused, naming the flag, exit 1', async (flags, message) => {
    const run = await rollcall(['run', '--manifests', manifests, '--once', ...flags], root);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`rollcall run: ${message}`);
    expect(run.stdout).toBe('');
  });
});
