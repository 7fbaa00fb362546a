// The manifests laid over what a cluster holds, as `kubectl diff` would show a `kubectl apply` of them.
import { describe, expect, it } from 'vitest';
import type { User } from '../../../src/api/index.ts';
import { parseManifests, type LoadedObject } from '../../../src/manifests/load.ts';
import { LAST_APPLIED_ANNOTATION, overlayManifests } from '../../../src/manifests/overlay.ts';
import type { AnyResource } from '../../../src/store/store.ts';

function declared(text: string): LoadedObject[] {
  const { objects, errors } = parseManifests(text, 'dir/users.yaml');
  expect(errors).toEqual([]);
  return objects;
}

/** alice as the cluster holds her: applied once with kubectl (team=a), annotated by hand since, reconciled. */
const clusterAlice = {
  apiVersion: 'rollcall.dev/v1alpha1',
  kind: 'User',
  metadata: {
    name: 'alice',
    namespace: 'acme',
    uid: 'c0ffee00-0000-4000-8000-000000000001',
    creationTimestamp: '2026-11-01T09:00:00Z',
    generation: 3,
    finalizers: ['rollcall.dev/deprovision'],
    labels: { department: 'engineering', 'added-by-hand': 'yes' },
    annotations: {
      [LAST_APPLIED_ANNOTATION]: JSON.stringify({ metadata: { labels: { department: 'engineering' }, annotations: { team: 'a' } } }),
      team: 'a',
      'rollcall.dev/approve-deprovision': '3',
    },
  },
  spec: { userName: 'alice', state: 'active', employeeType: 'employee', department: 'engineering' },
  status: { observedGeneration: 3, accounts: [{ system: 'directory', state: 'present', entitlements: ['vpn'] }] },
} as unknown as User;

const clusterBob = {
  ...clusterAlice,
  metadata: { name: 'bob', namespace: 'acme', generation: 1 },
  spec: { ...clusterAlice.spec, userName: 'bob' },
} as unknown as User;

const byName = (objects: LoadedObject[], name: string) => objects.find((o) => o.metadata.name === name) as AnyResource;

describe('overlayManifests', () => {
  it("takes the file's spec and keeps the cluster's status, finalizers, uid and creation time", () => {
    const { objects, problems } = overlayManifests(
      [clusterAlice],
      declared(
        'apiVersion: rollcall.dev/v1alpha1\nkind: User\nmetadata: {name: alice, namespace: acme, labels: {department: sales}}\nspec: {userName: alice, department: sales}\n',
      ),
    );
    expect(problems).toEqual([]);
    const alice = byName(objects, 'alice') as User;
    expect(alice.spec).toMatchObject({ userName: 'alice', department: 'sales', state: 'active' });
    expect(alice.status).toEqual(clusterAlice.status);
    expect(alice.metadata).toMatchObject({
      uid: clusterAlice.metadata.uid,
      creationTimestamp: '2026-11-01T09:00:00Z',
      finalizers: ['rollcall.dev/deprovision'],
      generation: 4,
    });
  });

  it('merges labels and annotations as kubectl apply does: what the files dropped goes, what others added stays', () => {
    // The files no longer set annotation team; the label and the approval were never theirs.
    const { objects } = overlayManifests(
      [clusterAlice],
      declared(
        'apiVersion: rollcall.dev/v1alpha1\nkind: User\nmetadata: {name: alice, namespace: acme, labels: {department: engineering, level: senior}}\nspec: {userName: alice, department: engineering}\n',
      ),
    );
    const { labels, annotations, generation } = byName(objects, 'alice').metadata;
    expect(labels).toEqual({ department: 'engineering', level: 'senior', 'added-by-hand': 'yes' });
    expect(annotations).toEqual({ [LAST_APPLIED_ANNOTATION]: expect.any(String), 'rollcall.dev/approve-deprovision': '3' });
    expect(generation).toBe(3); // the spec did not change
  });

  it('adds what only the files hold, keeps what only the cluster holds, and passes Secrets through', () => {
    const { objects } = overlayManifests(
      [clusterAlice, clusterBob],
      declared(
        'apiVersion: rollcall.dev/v1alpha1\nkind: User\nmetadata: {name: carol, namespace: acme}\nspec: {userName: carol}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: acme}\nstringData: {password: x}\n',
      ),
    );
    expect(objects.map((o) => `${o.kind} ${o.metadata.name}`).sort()).toEqual(['Secret creds', 'User alice', 'User bob', 'User carol']);
    expect(byName(objects, 'bob')).toBe(clusterBob);
    expect(byName(objects, 'carol').metadata.uid).toBeUndefined();
  });

  it('refuses what the API server would refuse: an immutable field changed', () => {
    const { problems } = overlayManifests(
      [clusterAlice],
      declared('apiVersion: rollcall.dev/v1alpha1\nkind: User\nmetadata: {name: alice, namespace: acme}\nspec: {userName: alicia}\n'),
    );
    expect(problems).toEqual(['User "alice": spec.userName: userName is immutable']);
  });
});
