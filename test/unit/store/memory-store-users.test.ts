// What an identity source writes through the store: a created User gets the API server's defaults
// and metadata, a merge patch touches only the fields it names, and the CEL rules still hold.
import { describe, expect, it } from 'vitest';
import { RetryableError, type User } from '../../../src/api/index.ts';
import { TestClock } from '../../../src/clock/clock.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import { AlreadyExistsError } from '../../../src/store/store.ts';
import { capturedLogger } from '../../helpers/captured-logger.ts';

const key = { namespace: 'acme', name: 'e1001' };
const user = (spec: Partial<User['spec']> = {}): User =>
  ({
    apiVersion: 'rollcall.dev/v1alpha1',
    kind: 'User',
    metadata: { name: 'e1001', namespace: 'acme', labels: { 'rollcall.dev/source': 'hr', team: 'a' } },
    spec: { userName: 'alice', ...spec },
  }) as User;

function newStore() {
  return new MemoryStore([{ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'hr', namespace: 'acme' }, data: { 'people.csv': 'id\n1\n' } } as never], {
    logger: capturedLogger().logger,
    clock: new TestClock(new Date('2026-11-30T12:00:00Z')),
  });
}

describe('MemoryStore: Users an identity source writes', () => {
  it('creates a User with defaults, uid and generation, and refuses a second one of the same name', async () => {
    const store = newStore();
    const created = await store.createUser(user({ email: 'alice@example.com' }));
    expect(created.spec).toMatchObject({ userName: 'alice', email: 'alice@example.com', state: 'active', employeeType: 'employee' });
    expect(created.metadata).toMatchObject({ generation: 1, creationTimestamp: '2026-11-30T12:00:00Z' });
    expect(created.metadata.uid).toBeTruthy();
    await expect(store.createUser(user())).rejects.toBeInstanceOf(AlreadyExistsError);
  });

  it('refuses what the CRD refuses', async () => {
    const store = newStore();
    await expect(store.createUser(user({ validFrom: '2026-12-02T00:00:00Z', validUntil: '2026-12-01T00:00:00Z' }))).rejects.toThrow(
      'validFrom must be before validUntil',
    );
    await expect(store.createUser(user({ email: 'not-an-email' }))).rejects.toThrow();
  });

  it('merge-patches only the named spec fields and labels, bumping generation only for spec', async () => {
    const store = newStore();
    await store.createUser(user({ department: 'Sales', title: 'Rep', attributes: { costCentre: '1', keep: 'x' } }));
    const moved = await store.patchUser(key, { spec: { department: 'Finance', title: null, attributes: { costCentre: '2' } }, labels: { team: 'b' } });
    expect(moved!.spec).toMatchObject({ userName: 'alice', department: 'Finance', attributes: { costCentre: '2', keep: 'x' } });
    expect(moved!.spec.title).toBeUndefined();
    expect(moved!.metadata.labels).toEqual({ 'rollcall.dev/source': 'hr', team: 'b' });
    expect(moved!.metadata.generation).toBe(2);
    const relabelled = await store.patchUser(key, { labels: { team: null } });
    expect(relabelled!.metadata.labels).toEqual({ 'rollcall.dev/source': 'hr' });
    expect(relabelled!.metadata.generation).toBe(2);
  });

  it('patches conditionally on a resourceVersion, refuses an immutable change, and ignores a User that is gone', async () => {
    const store = newStore();
    const created = await store.createUser(user());
    await store.patchUser(key, { spec: { title: 'Rep' } });
    await expect(store.patchUser(key, { spec: { title: 'Lead' } }, created.metadata.resourceVersion)).rejects.toBeInstanceOf(RetryableError);
    await expect(store.patchUser(key, { spec: { userName: 'bob' } })).rejects.toThrow('userName is immutable');
    expect(await store.patchUser({ namespace: 'acme', name: 'nobody' }, { spec: { title: 'x' } })).toBeUndefined();
  });

  it('reads ConfigMaps', async () => {
    const store = newStore();
    expect((await store.getConfigMap({ namespace: 'acme', name: 'hr' }))?.data).toEqual({ 'people.csv': 'id\n1\n' });
    expect(await store.getConfigMap({ namespace: 'acme', name: 'other' })).toBeUndefined();
  });
});
