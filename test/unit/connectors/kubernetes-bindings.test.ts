// The pure half of the kubernetes connector: entitlement strings, binding names and labels, and
// how a binding found on the server reads back.
import { describe, expect, it } from 'vitest';
import { PermanentError } from '../../../src/api/index.ts';
import { desiredBinding, readBinding, sameContent, type Scope } from '../../../src/connectors/kubernetes/bindings.ts';
import { parseEntitlement } from '../../../src/connectors/kubernetes/entitlement.ts';
import { bindingName, systemLabelValue } from '../../../src/connectors/kubernetes/names.ts';

const scope: Scope = { system: 'team-a/cluster', systemLabel: 'team-a.cluster', subjectName: 'userName' };
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

describe('parseEntitlement', () => {
  it.each([
    ['ClusterRole/view', { roleKind: 'ClusterRole', roleName: 'view', namespace: undefined }],
    ['ClusterRole/edit@payments', { roleKind: 'ClusterRole', roleName: 'edit', namespace: 'payments' }],
    ['Role/deployer@payments', { roleKind: 'Role', roleName: 'deployer', namespace: 'payments' }],
    ['ClusterRole/system:aggregate-to-view', { roleKind: 'ClusterRole', roleName: 'system:aggregate-to-view', namespace: undefined }],
  ])('%s', (entitlement, want) => {
    expect(parseEntitlement(entitlement)).toEqual({ entitlement, ...want });
  });

  it.each(['view', 'Role/deployer', 'ClusterRole/', 'ClusterRole/view@', 'ClusterRole/view@Pay_ments', 'Group/x', 'ClusterRole/a/b', 'ClusterRole/x@a@b'])(
    'refuses %j, naming it and the accepted forms',
    (entitlement) => {
      const refuse = () => parseEntitlement(entitlement);
      expect(refuse).toThrow(PermanentError);
      expect(refuse).toThrow(JSON.stringify(entitlement));
      expect(refuse).toThrow('ClusterRole/NAME, ClusterRole/NAME@NAMESPACE or Role/NAME@NAMESPACE');
    },
  );
});

describe('names', () => {
  it('are DNS-safe, deterministic and distinct for names that read alike', () => {
    const names = ['alice', 'Alice', '../alice', 'Zoë 日本語', '*', 'x'.repeat(5000)].map((user) => bindingName(scope.system, user, 'ClusterRole/view'));
    for (const name of names) {
      expect(name).toMatch(DNS_SUBDOMAIN);
      expect(name.length).toBeLessThanOrEqual(63);
    }
    expect(new Set(names).size).toBe(names.length);
    expect(bindingName(scope.system, 'alice', 'ClusterRole/view')).toBe(names[0]);
    expect(bindingName('team-b/cluster', 'alice', 'ClusterRole/view')).not.toBe(names[0]);
  });

  it('keeps the system label a valid label value of at most 63 characters', () => {
    expect(systemLabelValue('default', 'cluster-rbac')).toBe('default.cluster-rbac');
    const long = systemLabelValue('n'.repeat(63), 's'.repeat(253));
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(LABEL_VALUE);
    expect(systemLabelValue('n'.repeat(63), 's'.repeat(252))).not.toBe(long);
  });
});

describe('bindings', () => {
  const target = parseEntitlement('ClusterRole/edit@payments');
  const want = desiredBinding(scope, 'alice', 'alice', target);

  it('binds one User subject to the role, in the entitlement namespace', () => {
    expect(want.kind).toBe('RoleBinding');
    expect(want.metadata?.namespace).toBe('payments');
    expect(want.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' });
    expect(want.subjects).toEqual([{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice' }]);
    expect(desiredBinding(scope, 'alice', 'alice', parseEntitlement('ClusterRole/view')).kind).toBe('ClusterRoleBinding');
  });

  it('reads back the userName and entitlement, and notices an edited subject list', () => {
    const read = readBinding(scope, { ...want, metadata: { ...want.metadata, resourceVersion: '7' } });
    expect(read).toMatchObject({ userName: 'alice', entitlement: 'ClusterRole/edit@payments', subjectName: 'alice', resourceVersion: '7', intact: true });
    const widened = { ...want, subjects: [...want.subjects!, { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'mallory' }] };
    expect(sameContent(widened, want)).toBe(false);
    expect(readBinding(scope, widened)?.intact).toBe(false);
    expect(readBinding(scope, { ...want, metadata: { ...want.metadata, annotations: {} } })).toBeUndefined();
  });

  it('keeps the e-mail subject while mapping back to the userName', () => {
    const byEmail = { ...scope, subjectName: 'email' as const };
    const read = readBinding(byEmail, desiredBinding(byEmail, 'alice', 'alice@example.org', target));
    expect(read).toMatchObject({ userName: 'alice', subjectName: 'alice@example.org', intact: true });
  });
});
