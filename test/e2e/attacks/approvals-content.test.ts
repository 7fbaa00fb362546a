// Issue 17, hole 7: an approval covered names, not content. Against the real API server, with
// Rollcall provisioning a real (sqlite) system: bob approves a binding with kubectl rollcall approve,
// then a tenant writer changes what it means (adds an entitlement to the role, drops its
// maxDuration, labels a new User into the selector, deletes and recreates the approved User with
// another userName). Each change voids the approval (PendingApproval=True, ApprovalVoided, an
// ApprovalVoided Event naming the change) and the access it granted is revoked. An approver the API
// server authenticates as carol@example.org is refused on a binding for User carol.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { accessBindingResource, type AccessBinding } from '../../../src/api/index.ts';
import { describeDirectory } from '../../../src/connectors/sqlite/directory.ts';
import { Manager } from '../../../src/controllers/manager.ts';
import { KubeStore, loadKubeConfig } from '../../../src/store/kube-store.ts';
import { capturedLogger } from '../../helpers/captured-logger.ts';
import { createNamespace, eventsOn, kubectl, kubectlOk } from '../kube.ts';
import { eventually as eventuallyWithin } from '../../helpers/eventually.ts';

const PLUGIN = join(import.meta.dirname, '..', '..', '..', 'bin', 'kubectl-rollcall');
const WRITERS = 'rollcall-e2e';

/** Approvals pass through the approver's plugin, the binding controller and the directory: up to 90 s under load. */
const eventually = (check: () => void) => eventuallyWithin(check, { timeoutMs: 90_000 });

describe('an approval pins the content it saw', () => {
  let namespace: string;
  let dir: string;
  let manager: Manager;
  const db = () => join(dir, 'analytics.db');
  /** A tenant writer (may write the Rollcall kinds of the namespace). */
  const writer = (user: string, args: string[], input?: string) => kubectl(['--as', user, '--as-group', WRITERS, '-n', namespace, ...args], input);
  const plugin = (args: string[]) => {
    const result = spawnSync(process.execPath, [PLUGIN, ...args, '-n', namespace], {
      encoding: 'utf8',
      env: { ...process.env, KUBECONFIG: inject('kubeconfig') },
    });
    return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  };
  const binding = (name: string): AccessBinding => accessBindingResource.parse(JSON.parse(kubectlOk(['get', 'abind', name, '-n', namespace, '-o', 'json'])));
  const pendingApproval = (name: string) => binding(name).status?.conditions?.find((c) => c.type === 'PendingApproval');
  const voidedEvents = (name: string) => eventsOn(namespace, name, 'ApprovalVoided').map((e) => e.message);
  const uid = (user: string) => kubectlOk(['get', 'user.rollcall.dev', user, '-n', namespace, '-o', 'jsonpath={.metadata.uid}']);
  const holding = (entitlement: string) =>
    describeDirectory(db())
      .filter((row) => row.state === 'present' && row.groups.includes(entitlement))
      .map((row) => row.userName)
      .sort();
  const requestAndApprove = async (name: string, spec: Record<string, unknown>, entitlement: string, holders: string[]) => {
    const created = writer(
      'alice',
      ['create', '-f', '-'],
      JSON.stringify({ apiVersion: 'rollcall.dev/v1alpha1', kind: 'AccessBinding', metadata: { name }, spec: { ...spec, requestedBy: 'alice' } }),
    );
    expect(created.stderr).toBe('');
    const approved = plugin(['approve', name, '--as', 'bob']);
    expect(approved.stderr).toBe('');
    expect(approved.stdout).toMatch(/content approved \(sha256:[0-9a-f]{64}\): role /);
    await eventually(() =>
      expect(binding(name).status?.approval).toMatchObject({ state: 'Granted', approvedBy: 'bob', digest: binding(name).spec.approval?.digest }),
    );
    await eventually(() => expect(holding(entitlement)).toEqual(holders));
  };
  const expectVoided = async (name: string, change: RegExp) => {
    await eventually(() => expect(pendingApproval(name)).toMatchObject({ status: 'True', reason: 'ApprovalVoided', message: expect.stringMatching(change) }));
    expect(binding(name).status?.approval?.state).toBe('Voided');
    await eventually(() => expect(voidedEvents(name).some((message) => change.test(message))).toBe(true));
  };

  beforeAll(async () => {
    namespace = createNamespace('approvals-content');
    dir = mkdtempSync(join(tmpdir(), 'rollcall-e2e-approvals-content-'));
    const role = (name: string, entitlement: string) =>
      `apiVersion: rollcall.dev/v1alpha1\nkind: AccessRole\nmetadata: {name: ${name}}\nspec: {requiresApproval: true, maxDuration: 30d, grants: [{system: analytics, entitlements: [${entitlement}]}]}\n---\n`;
    const user = (name: string, extra = '') =>
      `apiVersion: rollcall.dev/v1alpha1\nkind: User\nmetadata: {name: ${name}${extra}}\nspec: {userName: ${name}}\n---\n`;
    kubectlOk(
      ['apply', '-n', namespace, '-f', '-'],
      `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: tenant-writer}
rules: [{apiGroups: [rollcall.dev], resources: [accessbindings, accessroles, users], verbs: [get, list, watch, create, update, patch, delete]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: tenant-writers}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: tenant-writer}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: ${WRITERS}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: approvers}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: rollcall-approver}
subjects:
  - {apiGroup: rbac.authorization.k8s.io, kind: User, name: bob}
  - {apiGroup: rbac.authorization.k8s.io, kind: User, name: carol@example.org}
  - {apiGroup: rbac.authorization.k8s.io, kind: User, name: Alice@Example.org}
  - {apiGroup: rbac.authorization.k8s.io, kind: User, name: cj@corp.example}
---
apiVersion: rollcall.dev/v1alpha1
kind: ConnectedSystem
metadata: {name: analytics}
spec: {type: sqlite, sqlite: {path: ${JSON.stringify(db())}}, resyncInterval: 2s}
---
apiVersion: rollcall.dev/v1alpha1
kind: AccessRole
metadata: {name: staff}
spec: {grants: [{system: analytics, entitlements: [staff]}]}
---
apiVersion: rollcall.dev/v1alpha1
kind: AccessBinding
metadata: {name: staff}
spec: {role: staff, users: [u-gain, u-dur, u-sel, u-sel2, u-re]}
---
${role('r-gain', 'gain_read')}${role('r-dur', 'dur_read')}${role('r-sel', 'sel_read')}${role('r-re', 're_read')}${role('r-carol', 'carol_read')}${user('u-gain')}${user('u-dur')}${user('u-sel', ', labels: {squad: s}')}${user('u-sel2')}${user('u-re')}apiVersion: rollcall.dev/v1alpha1
kind: User
metadata: {name: carol}
spec: {userName: carol, email: carol@example.org}
---
apiVersion: rollcall.dev/v1alpha1
kind: User
metadata: {name: c-jones}
spec: {userName: cjones, email: cj@example.org}
`,
    );
    const { logger } = capturedLogger();
    const store = new KubeStore({ kubeconfig: loadKubeConfig(inject('kubeconfig')), namespace, logger });
    manager = new Manager({ store, logger, timeoutMs: 2_000 });
    await manager.start();
    await eventually(() => expect(holding('staff')).toEqual(['u-dur', 'u-gain', 'u-re', 'u-sel', 'u-sel2']));
  }, 180_000);

  afterAll(async () => {
    await manager?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('adding an entitlement to the approved role voids the approval and revokes what it granted', async () => {
    await requestAndApprove('b-gain', { role: 'r-gain', users: ['u-gain'] }, 'gain_read', ['u-gain']);
    const patched = writer('mallory', [
      'patch',
      'accessrole',
      'r-gain',
      '--type',
      'merge',
      '-p',
      '{"spec":{"grants":[{"system":"analytics","entitlements":["gain_read","gain_write"]}]}}',
    ]);
    expect(patched.stderr).toBe('');
    await expectVoided('b-gain', new RegExp(`^AccessRole ${namespace}/r-gain gained entitlement analytics:gain_write since bob approved$`));
    await eventually(() => expect(holding('gain_read')).toEqual([]));
    expect(holding('gain_write')).toEqual([]);
    expect(holding('staff')).toContain('u-gain');
  });

  it('dropping maxDuration from the approved role voids the approval and revokes what it granted', async () => {
    await requestAndApprove('b-dur', { role: 'r-dur', users: ['u-dur'] }, 'dur_read', ['u-dur']);
    expect(writer('mallory', ['patch', 'accessrole', 'r-dur', '--type', 'json', '-p', '[{"op":"remove","path":"/spec/maxDuration"}]']).stderr).toBe('');
    await expectVoided('b-dur', new RegExp(`^AccessRole ${namespace}/r-dur dropped maxDuration 30d since bob approved$`));
    await eventually(() => expect(holding('dur_read')).toEqual([]));
  });

  it('labelling a new User into the approved selector voids the approval for everyone it selects', async () => {
    await requestAndApprove('b-sel', { role: 'r-sel', userSelector: { matchLabels: { squad: 's' } } }, 'sel_read', ['u-sel']);
    expect(writer('mallory', ['label', 'user.rollcall.dev', 'u-sel2', 'squad=s']).stderr).toBe('');
    await expectVoided('b-sel', new RegExp(`^User u-sel2 \\(uid ${uid('u-sel2')}, userName u-sel2\\) newly selected since bob approved$`));
    await eventually(() => expect(holding('sel_read')).toEqual([]));
  });

  it('deleting the approved User and creating it again with another userName voids the approval', async () => {
    await requestAndApprove('b-re', { role: 'r-re', users: ['u-re'] }, 're_read', ['u-re']);
    const before = uid('u-re');
    expect(writer('mallory', ['delete', 'user.rollcall.dev', 'u-re', '--wait=false']).stderr).toBe('');
    // Rollcall deprovisions the leaver's account, then lets the User go.
    await eventually(() => expect(kubectl(['get', 'user.rollcall.dev', 'u-re', '-n', namespace, '-o', 'jsonpath={.status}']).stdout).toBe(''));
    const recreated = writer(
      'mallory',
      ['create', '-f', '-'],
      JSON.stringify({ apiVersion: 'rollcall.dev/v1alpha1', kind: 'User', metadata: { name: 'u-re' }, spec: { userName: 'mallory' } }),
    );
    expect(recreated.stderr).toBe('');
    const after = uid('u-re');
    await expectVoided(
      'b-re',
      new RegExp(
        `^User u-re was recreated \\(uid changed from ${before} to ${after}\\); User u-re's userName changed from u-re to mallory since bob approved$`,
      ),
    );
    // mallory gets what the ordinary binding gives her, never what bob approved for u-re.
    await eventually(() => expect(describeDirectory(db()).find((row) => row.userName === 'mallory')).toMatchObject({ state: 'present', groups: ['staff'] }));
    expect(holding('re_read')).toEqual([]);
  });

  it('the API server refuses an approver who is a subject or the requester under another name', () => {
    expect(
      writer(
        'alice',
        ['create', '-f', '-'],
        JSON.stringify({
          apiVersion: 'rollcall.dev/v1alpha1',
          kind: 'AccessBinding',
          metadata: { name: 'b-carol' },
          spec: { role: 'r-carol', users: ['carol', 'c-jones'], requestedBy: 'alice' },
        }),
      ).stderr,
    ).toBe('');
    const cases: Array<[string, RegExp]> = [
      ['carol@example.org', /a subject of the binding cannot approve their own access: carol@example\.org is /],
      [
        'cj@corp.example',
        /a subject of the binding cannot approve their own access: cj@corp\.example is User c-jones \(userName cjones, e-mail cj@example\.org\), named in spec\.users/,
      ],
      ['Alice@Example.org', /the requester cannot approve their own binding: Alice@Example\.org and spec\.requestedBy alice are the same person/],
    ];
    for (const [approver, message] of cases) {
      const refused = plugin(['approve', 'b-carol', '--as', approver]);
      expect(refused.code, approver).not.toBe(0);
      expect(refused.stderr, approver).toMatch(message);
    }
    // Written by hand, without the plugin: the same refusal.
    const patch = {
      spec: { approval: { approvedBy: 'carol@example.org', scope: { role: 'r-carol', users: ['carol', 'c-jones'] }, digest: `sha256:${'0'.repeat(64)}` } },
    };
    const byHand = kubectl(['--as', 'carol@example.org', '-n', namespace, 'patch', 'abind', 'b-carol', '--type', 'merge', '-p', JSON.stringify(patch)]);
    expect(byHand.code).not.toBe(0);
    expect(byHand.stderr).toMatch(/a subject of the binding cannot approve their own access/);
    expect(binding('b-carol').spec.approval).toBeUndefined();
    expect(holding('carol_read')).toEqual([]);
  });

  it('an approval without the digest of its content is refused by the API server', () => {
    const patch = { spec: { approval: { approvedBy: 'bob', scope: { role: 'r-carol', users: ['carol', 'c-jones'] } } } };
    const refused = kubectl(['--as', 'bob', '-n', namespace, 'patch', 'abind', 'b-carol', '--type', 'merge', '-p', JSON.stringify(patch)]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/spec\.approval\.digest is required/);
  });
});
