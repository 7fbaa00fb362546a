// How far a kubernetes ConnectedSystem may bind: its own namespace, and beyond only as a cluster admin allows.
import { describe, expect, it } from 'vitest';
import { outOfReach, parseAllowances, parseEntitlement, reachOf } from '../../../src/connectors/kubernetes/index.ts';
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
    expect(refusal('ClusterRole/edit@team-b')).toContain('namespace team-b');
  });

  it('an allowance permits exactly what it names', () => {
    const reach = { cluster: true, namespaces: ['team-b'] };
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
