// `rollcall plan --kubeconfig` against the real API server, for reviewing a GitOps change: what the
// cluster holds (status included) with a directory laid over it, planned against the embedded
// sqlite system. It must change nothing, neither in the cluster nor in the system.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { PlanDocument } from '../../src/cli/plan-document.ts';
import { describeDirectory } from '../../src/connectors/sqlite/directory.ts';
import { createNamespace, kubectl, kubectlOk } from './kube.ts';
import { accessBinding, accessRole, credentialsSecret, manifestsYaml, sqliteSystem, user, type SpecOf } from '../helpers/manifests.ts';
import { rollcall } from '../helpers/rollcall-cli.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const ROLLCALL = join(ROOT, 'bin', 'rollcall.js');

const person = (namespace: string, name: string, labels: Record<string, string> = { department: 'engineering' }, spec: Partial<SpecOf<'User'>> = {}) =>
  user({ name, namespace, labels }, { givenName: name, familyName: 'Test', ...spec });

/** The system's passphrase is only in a cluster Secret. */
const directorySystem = (namespace: string, dbPath: string) =>
  sqliteSystem({ name: 'directory', namespace }, dbPath, {
    credentialsSecretRef: { name: 'directory-credentials' },
    deprovision: { policy: 'disable' },
    deletionGuard: { maxCount: 5 },
  });

/** What the cluster holds: alice and bob, engineers. */
function clusterManifests(namespace: string, dbPath: string): string {
  return manifestsYaml([
    directorySystem(namespace, dbPath),
    accessRole({ name: 'engineer', namespace }, { directory: ['engineering', 'vpn-users'] }),
    accessBinding({ name: 'engineering', namespace }, { role: 'engineer', userSelector: { matchLabels: { department: 'engineering' } } }),
    person(namespace, 'alice'),
    person(namespace, 'bob'),
  ]);
}

/** The pull request under review: the binding now names alice and carol (a new User), so bob loses access. */
function changedManifests(namespace: string): string {
  return manifestsYaml([accessBinding({ name: 'engineering', namespace }, { role: 'engineer', users: ['alice', 'carol'] }), person(namespace, 'carol', {})]);
}

/** Every object in the namespace by kind, name and resourceVersion: equal means nothing was written. */
function clusterVersions(namespace: string): string {
  const kinds =
    'users.rollcall.dev,accessroles.rollcall.dev,accessbindings.rollcall.dev,connectedsystems.rollcall.dev,identitysources.rollcall.dev,secrets,events';
  return kubectlOk(['get', kinds, '-n', namespace, '-o', 'jsonpath={range .items[*]}{.kind}/{.metadata.name}@{.metadata.resourceVersion}{"\\n"}{end}']);
}

describe('rollcall plan against the real API server', () => {
  let namespace: string;
  let work: string;
  let dbPath: string;
  const kubeconfig = () => inject('kubeconfig');

  /** A directory of manifests under the test's work folder. */
  function directory(name: string, files: Record<string, string>): string {
    const dir = join(work, name);
    mkdirSync(dir);
    for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
    return dir;
  }

  beforeAll(async () => {
    namespace = createNamespace('plan');
    work = mkdtempSync(join(tmpdir(), 'rollcall-plan-'));
    dbPath = join(work, 'directory.db');
    kubectlOk(['create', 'secret', 'generic', 'directory-credentials', '-n', namespace, '--from-literal=passphrase=correct-horse']);
    kubectlOk(['label', 'secret', 'directory-credentials', '-n', namespace, 'rollcall.dev/credentials=true']);
    kubectlOk(['apply', '-f', '-'], clusterManifests(namespace, dbPath));
    // Converge first: rollcall run against the cluster until both Users are Ready, then stop it.
    const logs: string[] = [];
    const run = spawn(process.execPath, [ROLLCALL, 'run', '--kubeconfig', kubeconfig(), '--namespace', namespace, '--no-leader-elect', '--log-level', 'warn'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    run.stdout.on('data', (c: Buffer) => logs.push(c.toString()));
    run.stderr.on('data', (c: Buffer) => logs.push(c.toString()));
    try {
      const ready = kubectl(['wait', '--for=condition=Ready', 'user/alice', 'user/bob', '-n', namespace, '--timeout=90s']);
      expect(ready.code, ready.stderr + logs.join('')).toBe(0);
    } finally {
      const exited = new Promise((resolve) => run.once('exit', resolve));
      run.kill('SIGTERM');
      await exited;
    }
    expect(describeDirectory(dbPath).map((row) => `${row.userName} ${row.state} ${row.groups.join(',')}`)).toEqual([
      'alice present engineering,vpn-users',
      'bob present engineering,vpn-users',
    ]);
  });

  it('exit 0 when the cluster and the system already match, with the Secret read from the cluster', async () => {
    const plan = await rollcall(['plan', '--kubeconfig', kubeconfig(), '--namespace', namespace]);
    expect(plan.stderr).toBe('');
    expect(plan.stdout).toContain(`ConnectedSystem ${namespace}/directory (sqlite)`);
    expect(plan.stdout).toContain('No changes.');
    expect(plan.code).toBe(0);
    const json = await rollcall(['plan', '--kubeconfig', kubeconfig(), '--namespace', namespace, '-o', 'json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ exitCode: 0, systems: [{ name: 'directory', status: 'planned', changes: [], orphans: [] }] });
    expect(json.code).toBe(0);
  });

  it('exit 2 for a directory laid over the cluster: the changes named, the cluster and the system untouched', async () => {
    const dir = directory('pull-request', { 'engineering.yaml': changedManifests(namespace) });
    const before = { cluster: clusterVersions(namespace), system: describeDirectory(dbPath) };

    const text = await rollcall(['plan', '-f', dir, '--kubeconfig', kubeconfig(), '--namespace', namespace]);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(2);
    expect(text.stdout).toMatch(/\+ carol\s+create account/);
    expect(text.stdout).toMatch(/\+ carol\s+grant engineering/);
    expect(text.stdout).toMatch(/- bob\s+revoke vpn-users/);
    expect(text.stdout).toMatch(/- bob\s+disable account/);
    expect(text.stdout).not.toMatch(/alice/);

    const json = await rollcall(['plan', '-f', dir, '--kubeconfig', kubeconfig(), '--namespace', namespace, '-o', 'json']);
    expect(json.code).toBe(2);
    const document = JSON.parse(json.stdout) as PlanDocument;
    expect(document.exitCode).toBe(2);
    expect(document.systems).toHaveLength(1);
    expect(document.systems[0]).toMatchObject({
      namespace,
      name: 'directory',
      type: 'sqlite',
      status: 'planned',
      orphans: [],
      guard: { tripped: false, count: 1, limit: 5 },
    });
    expect(document.systems[0]!.changes).toEqual([
      { op: 'disable', userName: 'bob' },
      { op: 'revoke', userName: 'bob', entitlement: 'engineering' },
      { op: 'revoke', userName: 'bob', entitlement: 'vpn-users' },
      { op: 'create', userName: 'carol', attributes: expect.objectContaining({ givenName: 'carol', familyName: 'Test' }) },
      { op: 'grant', userName: 'carol', entitlement: 'engineering' },
      { op: 'grant', userName: 'carol', entitlement: 'vpn-users' },
    ]);
    expect(document.totals).toMatchObject({ systems: 1, planned: 1, changes: 6, held: 0, errors: 0 });

    expect(clusterVersions(namespace)).toBe(before.cluster);
    expect(describeDirectory(dbPath)).toEqual(before.system);
  });

  it('exit 1 naming the system: an unreachable one, a missing Secret, a Secret in the directory that wins over the cluster', async () => {
    const aFile = join(work, 'not-a-directory');
    writeFileSync(aFile, 'a regular file\n');
    const system = (name: string, path: string, secret: string) =>
      manifestsYaml([sqliteSystem({ name, namespace }, path, { credentialsSecretRef: { name: secret } })]);
    const dir = directory('broken', {
      'unreachable.yaml': system('unreachable', join(aFile, 'sub', 'x.db'), 'directory-credentials'),
      'locked.yaml': system('locked', join(work, 'locked.db'), 'nowhere'),
    });
    const plan = await rollcall(['plan', '-f', dir, '--kubeconfig', kubeconfig(), '--namespace', namespace]);
    expect(plan.code).toBe(1);
    expect(plan.stdout).toMatch(new RegExp(`ConnectedSystem ${namespace}/unreachable \\(sqlite\\)\\n  error: .*not-a-directory`));
    expect(plan.stdout).toMatch(
      new RegExp(`ConnectedSystem ${namespace}/locked \\(sqlite\\)\\n  error: Secret ${namespace}/nowhere named by ConnectedSystem locked does not exist`),
    );
    // The system that works is still planned, and shows it matches.
    expect(plan.stdout).toMatch(new RegExp(`ConnectedSystem ${namespace}/directory \\(sqlite\\)\\n  Plan: 0 to create`));

    const json = await rollcall(['plan', '-f', dir, '--kubeconfig', kubeconfig(), '--namespace', namespace, '-o', 'json']);
    expect(json.code).toBe(1);
    const document = JSON.parse(json.stdout) as PlanDocument;
    expect(document.systems.map((s) => `${s.name} ${s.status}`)).toEqual(['directory planned', 'locked error', 'unreachable error']);
    expect(document.totals).toMatchObject({ errors: 2, planned: 1 });

    // The directory's Secret replaces the cluster's: a wrong passphrase is refused by the file.
    const wrong = directory('wrong-secret', {
      'secret.yaml': manifestsYaml([credentialsSecret({ name: 'directory-credentials', namespace }, { passphrase: 'wrong' }, { allowInsecure: false })]),
    });
    const refused = await rollcall(['plan', '-f', wrong, '--kubeconfig', kubeconfig(), '--namespace', namespace]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/error: .*wrong passphrase/);
  });

  it('exit 1 naming file and field for an invalid manifest, an immutable field changed, or an object outside --namespace', async () => {
    const invalid = directory('invalid', {
      'carol.yaml': `apiVersion: rollcall.dev/v1alpha1\nkind: User\nmetadata: {name: carol, namespace: ${namespace}}\nspec: {userName: carol, state: retired}\n`,
    });
    const bad = await rollcall(['plan', '-f', invalid, '--kubeconfig', kubeconfig(), '--namespace', namespace]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(join('invalid', 'carol.yaml'));
    expect(bad.stderr).toMatch(/User "carol".*spec\.state/);

    const renamed = directory('renamed', { 'alice.yaml': manifestsYaml([person(namespace, 'alice', undefined, { userName: 'alicia' })]) });
    const immutable = await rollcall(['plan', '-f', renamed, '--kubeconfig', kubeconfig(), '--namespace', namespace]);
    expect(immutable.code).toBe(1);
    expect(immutable.stderr).toMatch(/User "alice": spec\.userName: userName is immutable/);

    const elsewhere = directory('elsewhere', { 'dave.yaml': manifestsYaml([person('other', 'dave')]) });
    const outside = await rollcall(['plan', '-f', elsewhere, '--kubeconfig', kubeconfig(), '--namespace', namespace]);
    expect(outside.code).toBe(1);
    expect(outside.stderr).toMatch(/declares objects outside --namespace .*User other\/dave/);
  });

  it("plans with the cluster's status: a tripped deletion guard holds bob's deprovision until approved", async () => {
    const condition = {
      type: 'DeletionGuardTripped',
      status: 'True',
      reason: 'TooManyDeprovisions',
      message: 'tripped earlier',
      lastTransitionTime: '2026-01-01T00:00:00Z',
    };
    kubectlOk([
      'patch',
      'csys',
      'directory',
      '-n',
      namespace,
      '--subresource=status',
      '--type=json',
      '-p',
      JSON.stringify([{ op: 'add', path: '/status/conditions/-', value: condition }]),
    ]);
    const dir = join(work, 'pull-request');
    const plan = await rollcall(['plan', '-f', dir, '--kubeconfig', kubeconfig(), '--namespace', namespace, '-o', 'json']);
    expect(plan.code).toBe(2);
    const system = (JSON.parse(plan.stdout) as PlanDocument).systems[0]!;
    expect(system.guard).toMatchObject({ tripped: true, count: 1, limit: 5, message: expect.stringContaining('approve-deprovision="1"') });
    expect(system.changes.filter((c) => c.userName === 'bob')).toEqual([
      { op: 'disable', userName: 'bob', held: true },
      { op: 'revoke', userName: 'bob', entitlement: 'engineering', held: true },
      { op: 'revoke', userName: 'bob', entitlement: 'vpn-users', held: true },
    ]);
    expect(system.changes.filter((c) => c.userName === 'carol').every((c) => c.held === undefined)).toBe(true);

    // An approval given with kubectl annotate is not in the files: laid over them (the system's
    // manifest included, as kubectl applied it), it still counts, as it would after kubectl apply.
    kubectlOk(['annotate', 'csys', 'directory', '-n', namespace, 'rollcall.dev/approve-deprovision=1']);
    const withSystem = directory('pull-request-with-system', {
      'engineering.yaml': changedManifests(namespace),
      'system.yaml': manifestsYaml([directorySystem(namespace, dbPath)]),
    });
    const approved = await rollcall(['plan', '-f', withSystem, '--kubeconfig', kubeconfig(), '--namespace', namespace, '-o', 'json']);
    expect((JSON.parse(approved.stdout) as PlanDocument).systems[0]).toMatchObject({
      guard: { tripped: false },
      changes: expect.not.arrayContaining([expect.objectContaining({ held: true })]),
    });
  });
});
