// `rollcall run --manifests DIR --once` says, in its own output, what a person likely did not mean
// (an empty selector, a role of another namespace, plaintext allowed) and which Secret is missing or
// refused; a missing Secret fails the run, names the Secret and is a Warning Event of its own.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeDirectory } from '../../../src/connectors/sqlite/directory.ts';
import { rollcall } from '../../helpers/rollcall-cli.ts';

describe('rollcall run --once warns', { timeout: 30_000 }, () => {
  let root = '';
  let manifests = '';
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'rollcall-warnings-'));
    manifests = join(root, 'company');
    mkdirSync(manifests);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const write = (documents: string[]) =>
    writeFileSync(
      join(manifests, 'company.yaml'),
      documents.map((d) => `apiVersion: ${d.startsWith('kind: Secret') ? 'v1' : 'rollcall.dev/v1alpha1'}\n${d}\n`).join('---\n'),
    );
  const directory = (name: string, secret?: string) => `kind: ConnectedSystem
metadata: {name: ${name}, namespace: acme}
spec: {type: sqlite, sqlite: {path: ${JSON.stringify(join(root, `${name}.db`))}}${secret ? `, credentialsSecretRef: {name: ${secret}}` : ''}}`;
  const base = [
    directory('directory'),
    'kind: AccessRole\nmetadata: {name: staff, namespace: acme}\nspec: {grants: [{system: directory, entitlements: [all-staff]}]}',
    'kind: AccessRole\nmetadata: {name: auditor, namespace: platform}\nspec: {grants: []}',
    'kind: User\nmetadata: {name: ann, namespace: acme}\nspec: {userName: ann}',
    'kind: User\nmetadata: {name: ben, namespace: acme}\nspec: {userName: ben}',
  ];

  it('an empty selector and a role of another namespace: a warning line each, the grant still made, exit 0', async () => {
    write([
      ...base,
      'kind: AccessBinding\nmetadata: {name: everyone, namespace: acme}\nspec: {role: staff, userSelector: {}}',
      'kind: AccessBinding\nmetadata: {name: audit, namespace: acme}\nspec: {role: auditor, users: [ann]}',
    ]);
    const run = await rollcall(['run', '--manifests', manifests, '--once', '--state', join(root, 'one.state.json')], root);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('2 warning(s):');
    expect(run.stdout).toContain('AccessBinding acme/everyone: spec.userSelector is empty: it selects every User in namespace acme (2 now');
    expect(run.stdout).toContain(
      'AccessBinding acme/audit: AccessRole auditor does not exist in this namespace; an AccessRole of that name exists in namespace platform',
    );
    // A warning, not a failure: the grant the selector makes is made.
    expect(describeDirectory(join(root, 'directory.db')).map((a) => [a.userName, a.groups])).toEqual([
      ['ann', ['all-staff']],
      ['ben', ['all-staff']],
    ]);
  });

  it('an entitlement the system refuses: a warning line naming the User, the declarations and why, the reason on its summary line, exit 1', async () => {
    write([
      ...base
        .map((d) => d.replace('entitlements: [all-staff]', 'entitlements: [all-staff, admins]'))
        .map((d) => (d.startsWith('kind: ConnectedSystem') ? d.replace(/}}$/, '}, allowedEntitlements: [all-*]}') : d)),
      'kind: AccessBinding\nmetadata: {name: staff-ann, namespace: acme}\nspec: {role: staff, users: [ann]}',
    ]);
    const run = await rollcall(['run', '--manifests', manifests, '--once', '--state', join(root, 'refused.state.json')], root);
    // Not Ready: the User is not what its roles declare, so the run does not end in success.
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^ann\s+active\s+False\s+.* -- Refused: directory: refused admins/m);
    expect(run.stdout).toContain(
      'User acme/ann: directory: refused admins (AccessRole staff, AccessBinding staff-ann): not matched by spec.allowedEntitlements (all-*)',
    );
    expect(describeDirectory(join(root, 'directory.db')).find((a) => a.userName === 'ann')?.groups).toEqual(['all-staff']);
  });

  it('a missing Secret and one that did not opt in: each named, with its reason in the conditions and an Event, exit 1', async () => {
    write([
      ...base,
      directory('wiki', 'wiki-credentials'),
      directory('crm', 'crm-credentials'),
      'kind: Secret\nmetadata: {name: crm-credentials, namespace: acme}\nstringData: {password: x}',
      'kind: AccessBinding\nmetadata: {name: staff, namespace: acme}\nspec: {role: staff, users: [ann]}',
    ]);
    const state = join(root, 'two.state.json');
    const run = await rollcall(['run', '--manifests', manifests, '--once', '--state', state], root);
    expect(run.code).toBe(1);
    expect(run.stdout, run.stderr).toContain('Rollcall: converging');
    expect(run.stdout).toContain('ConnectedSystem acme/wiki: Secret acme/wiki-credentials named by ConnectedSystem wiki does not exist yet');
    expect(run.stdout).toContain(
      'ConnectedSystem acme/crm: ConnectedSystem crm: Secret crm-credentials (spec.credentialsSecretRef) is not labelled rollcall.dev/credentials: "true"',
    );
    // In standalone mode Events go to the log (JSON lines): one Warning of its own reason per Secret, not one per retry.
    const events = (run.stdout + run.stderr)
      .split('\n')
      .filter((line) => line.includes('"event"'))
      .map((line) => JSON.parse(line) as { event: { name: string; reason: string; type: string } });
    expect(events.filter((e) => e.event.reason === 'CredentialsMissing').map((e) => [e.event.name, e.event.type])).toEqual([['wiki', 'Warning']]);
    expect(events.filter((e) => e.event.reason === 'CredentialsRefused').map((e) => [e.event.name, e.event.type])).toEqual([['crm', 'Warning']]);
    const saved = readFileSync(state, 'utf8');
    expect(saved).toMatch(/"name":"wiki".*"type":"Ready","status":"False"[^}]*"reason":"CredentialsMissing"/);
    // The system that could be reached is not held up by the others.
    expect(describeDirectory(join(root, 'directory.db')).find((a) => a.userName === 'ann')?.groups).toEqual(['all-staff']);
  });
});
