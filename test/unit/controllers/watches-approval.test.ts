// An approval covers the Users its binding selects, so a change to one User can void it for all the
// others: the watch queues every User of the binding, not only the one that changed.
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { User } from '../../../src/api/index.ts';
import { TestClock } from '../../../src/clock/clock.ts';
import { UserNameIndex } from '../../../src/controllers/user-name-index.ts';
import { WATCHES } from '../../../src/controllers/watches.ts';
import type { LoadedObject } from '../../../src/manifests/load.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';

const role = {
  apiVersion: 'rollcall.dev/v1alpha1',
  kind: 'AccessRole',
  metadata: { name: 'r', namespace: 'acme' },
  spec: { requiresApproval: true, grants: [] },
} as unknown as LoadedObject;
const user = (name: string, labels: Record<string, string> = {}, userName = name) =>
  ({ apiVersion: 'rollcall.dev/v1alpha1', kind: 'User', metadata: { name, namespace: 'acme', labels }, spec: { userName } }) as unknown as LoadedObject;
const binding = {
  apiVersion: 'rollcall.dev/v1alpha1',
  kind: 'AccessBinding',
  metadata: { name: 'squad', namespace: 'acme' },
  spec: { role: 'r', userSelector: { matchLabels: { squad: 's' } } },
} as unknown as LoadedObject;
const named = {
  apiVersion: 'rollcall.dev/v1alpha1',
  kind: 'AccessBinding',
  metadata: { name: 'named', namespace: 'acme' },
  spec: { role: 'r', users: ['carol', 'dave'] },
} as unknown as LoadedObject;

function queued(store: MemoryStore, next: User, old: User | undefined): string[] {
  const index = new UserNameIndex();
  index.seed(store);
  return WATCHES.User!(next, old, store, index).map((r) => `${r.kind}/${r.key.name}`);
}

describe('User watch and approvals', () => {
  it('a User labelled into a selector queues the binding and every User it selects', () => {
    const store = new MemoryStore([role, binding, named, user('u1', { squad: 's' }), user('u2'), user('carol'), user('dave')], {
      logger: pino({ level: 'silent' }),
      clock: new TestClock(new Date(0)),
    });
    const old = store.get('User', { namespace: 'acme', name: 'u2' })!;
    const labelled = { ...old, metadata: { ...old.metadata, labels: { squad: 's' } } };
    expect(queued(store, labelled, old)).toEqual(expect.arrayContaining(['AccessBinding/squad', 'User/u1', 'User/u2']));
    expect(queued(store, labelled, old)).not.toContain('User/carol');
    // Without an approval to cover the selection, the others are left alone.
    store.applyDeclared([
      { ...role, spec: { grants: [] } } as unknown as LoadedObject,
      binding,
      named,
      user('u1', { squad: 's' }),
      user('u2'),
      user('carol'),
      user('dave'),
    ]);
    expect(queued(store, labelled, store.get('User', { namespace: 'acme', name: 'u2' })!)).not.toContain('User/u1');
  });

  it('a named User recreated (new uid) or renamed queues the other Users of the binding', () => {
    const store = new MemoryStore([role, binding, named, user('u1', { squad: 's' }), user('carol'), user('dave')], {
      logger: pino({ level: 'silent' }),
      clock: new TestClock(new Date(0)),
    });
    const old = store.get('User', { namespace: 'acme', name: 'carol' })!;
    expect(queued(store, { ...old, metadata: { ...old.metadata, uid: 'another' } }, old)).toEqual(expect.arrayContaining(['AccessBinding/named', 'User/dave']));
    expect(queued(store, { ...old, spec: { ...old.spec, userName: 'mallory' } }, old)).toContain('User/dave');
    // Nothing about the approved content changed: only the User itself.
    expect(queued(store, { ...old, metadata: { ...old.metadata, annotations: { note: 'x' } } }, old)).not.toContain('User/dave');
  });
});
