// How far a kubernetes ConnectedSystem may bind: its own namespace, and beyond only as a cluster admin allows.
import { describe, expect, it } from 'vitest';
import {
  outOfReach,
  parseAllowances,
  parseBindableClusterRoles,
  parseEntitlement,
  parseOperatorRoles,
  reachOf,
} from '../../../src/connectors/kubernetes/index.ts';
import type { KubernetesReach } from '../../../src/connectors/types.ts';

const NONE: KubernetesReach = { cluster: false, namespaces: [] };
const refusal = (entitlement: string, reach = NONE) => outOfReach('team-a/cluster', 'team-a', reach, parseEntitlement(entitlement));

describe('outOfReach', () => {
  it('binds inside its own namespace, a ClusterRole there included', () => {
    expect(refusal('Role/deployer@team-a')).toBeUndefined();
    expect(refusal('ClusterRole/view@team-a')).toBeUndefined();
  });

  it('refuses a cluster-wide binding, naming the entitlement, the system, the namespaced alternative and the allowance', () => {
    const why = refusal('ClusterRole/view');
    expect(why).toContain('ClusterRole/view would bind cluster-wide (a ClusterRoleBinding)');
    expect(why).toContain('ConnectedSystem team-a/cluster may bind only inside namespace team-a');
    expect(why).toContain('ClusterRole/view@team-a');
    expect(why).toContain('--kubernetes-allow team-a=cluster');
  });

  it('refuses another namespace, naming it and the allowance that would permit it', () => {
    const why = refusal('Role/admin@kube-system');
    expect(why).toContain('Role/admin@kube-system would bind in namespace kube-system');
    expect(why).toContain('--kubernetes-allow team-a=namespaces:kube-system');
    expect(refusal('ClusterRole/view@team-b')).toContain('namespace team-b');
  });

  it('an allowance permits exactly what it names', () => {
    const reach = { cluster: true, namespaces: ['team-b'], bindableClusterRoles: ['view', 'edit'] };
    expect(refusal('ClusterRole/view', reach)).toBeUndefined();
    expect(refusal('ClusterRole/edit@team-b', reach)).toBeUndefined();
    expect(refusal('ClusterRole/edit@team-c', reach)).toContain('team-c');
    expect(refusal('ClusterRole/view', { cluster: false, namespaces: ['*'] })).toContain('cluster-wide');
    expect(refusal('Role/x@anything', { cluster: false, namespaces: ['*'] })).toBeUndefined();
  });
});

describe('parseAllowances', () => {
  it('adds up repeated flags per namespace; other namespaces get nothing', () => {
    const allowances = parseAllowances(['platform=cluster', 'platform=namespaces:web,db', 'platform=namespaces:db', 'ops=namespaces:*']);
    expect(reachOf(allowances, 'platform')).toEqual({ cluster: true, namespaces: ['web', 'db'] });
    expect(reachOf(allowances, 'ops')).toEqual({ cluster: false, namespaces: ['*'] });
    expect(reachOf(allowances, 'team-a')).toEqual({ cluster: false, namespaces: [] });
    expect(reachOf(undefined, 'team-a')).toEqual({ cluster: false, namespaces: [] });
  });

  it.each([
    ['platform', 'no "="'],
    ['Platform=cluster', 'is not a namespace name'],
    ['platform=everything', 'unknown grant "everything"'],
    ['platform=namespaces:', '"" is not a namespace name'],
    ['platform=namespaces:web,Bad_Name', '"Bad_Name" is not a namespace name'],
  ])('refuses %s: %s', (value, why) => {
    expect(() => parseAllowances([value])).toThrow(why);
    expect(() => parseAllowances([value])).toThrow('accepted forms are NAMESPACE=cluster');
  });
});

describe('which roles may be bound at all', () => {
  const OPERATOR = {
    cluster: true,
    namespaces: ['*'],
    bindableClusterRoles: ['view', 'rollcall'],
    operatorRoles: ['ClusterRole/rollcall', 'Role/rollcall-leader-election@rollcall-system'],
  };

  it('binds a ClusterRole only when listed by name: view by default, edit not', () => {
    expect(refusal('ClusterRole/view@team-a')).toBeUndefined();
    const edit = refusal('ClusterRole/edit@team-a');
    expect(edit).toContain('ClusterRole/edit@team-a binds ClusterRole edit, which is not among the ClusterRoles a cluster admin allowed binding (view)');
    expect(edit).toContain('--kubernetes-bindable-cluster-roles');
    expect(refusal('ClusterRole/admin@team-a')).toContain('not among');
    expect(refusal('ClusterRole/cluster-admin', { cluster: true, namespaces: [] })).toContain('not among'); // reach does not make a role bindable
    expect(refusal('ClusterRole/edit@team-a', { cluster: false, namespaces: [], bindableClusterRoles: ['edit'] })).toBeUndefined();
    expect(refusal('ClusterRole/view@team-a', { cluster: false, namespaces: [], bindableClusterRoles: [] })).toContain('(none)');
  });

  it("never binds the operator's own roles, whatever the list says, wherever they would be bound", () => {
    for (const entitlement of [
      'ClusterRole/rollcall@team-a',
      'ClusterRole/rollcall',
      'ClusterRole/rollcall@rollcall-system',
      'Role/rollcall-leader-election@rollcall-system',
    ]) {
      expect(refusal(entitlement, OPERATOR)).toContain("the operator's own role");
    }
    expect(refusal('ClusterRole/view@team-a', OPERATOR)).toBeUndefined();
    expect(refusal('Role/rollcall-leader-election@team-a', OPERATOR)).toBeUndefined(); // a namespace's own Role of that name
    expect(refusal('ClusterRole/Rollcall@team-a', OPERATOR)).toContain('not among'); // names are exact in RBAC: another role, not listed
  });

  it('a namespace Role stays bindable without any list', () => {
    expect(refusal('Role/deployer@team-a', { cluster: false, namespaces: [], bindableClusterRoles: [] })).toBeUndefined();
  });

  it('parses the flags, refusing what is not a role', () => {
    expect(parseBindableClusterRoles(undefined)).toEqual(['view']);
    expect(parseBindableClusterRoles(['view,edit', 'edit'])).toEqual(['view', 'edit']);
    expect(parseBindableClusterRoles([''])).toEqual([]); // the chart's empty list: none
    expect(() => parseBindableClusterRoles(['view,a/b'])).toThrow('--kubernetes-bindable-cluster-roles: "a/b" is not a ClusterRole name');
    expect(parseOperatorRoles(['ClusterRole/rollcall,Role/rollcall-leader-election@ops'])).toEqual([
      'ClusterRole/rollcall',
      'Role/rollcall-leader-election@ops',
    ]);
    expect(() => parseOperatorRoles(['rollcall'])).toThrow('--kubernetes-operator-roles');
    expect(() => parseOperatorRoles(['ClusterRole/rollcall@ops'])).toThrow('without @NAMESPACE');
  });
});
