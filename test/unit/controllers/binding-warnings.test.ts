// An AccessBinding says what a person likely did not mean: an empty userSelector selects every User
// of the namespace (a condition and one Warning Event), and a role named that exists only in another
// namespace is named in the RoleNotFound message.
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { KindName } from '../../../src/api/index.ts';
import { TestClock } from '../../../src/clock/clock.ts';
import { bindingReconciler } from '../../../src/controllers/binding-controller.ts';
import type { ControllerContext } from '../../../src/controllers/context.ts';
import type { LoadedObject } from '../../../src/manifests/load.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import type { AnyResource, EventType } from '../../../src/store/store.ts';

const API = 'rollcall.dev/v1alpha1';
const KEY = { namespace: 'acme', name: 'all' };
const role = (namespace: string) => ({ apiVersion: API, kind: 'AccessRole', metadata: { name: 'staff', namespace }, spec: { grants: [] } });
const user = (name: string) => ({ apiVersion: API, kind: 'User', metadata: { name, namespace: 'acme', labels: { team: 'a' } }, spec: { userName: name } });
const binding = (spec: Record<string, unknown>) => ({
  apiVersion: API,
  kind: 'AccessBinding',
  metadata: { name: 'all', namespace: 'acme' },
  spec: { role: 'staff', ...spec },
});

function harness(objects: unknown[]) {
  const clock = new TestClock(new Date('2026-11-30T09:00:00Z'));
  const logger = pino({ level: 'silent' });
  const store = new MemoryStore(objects as LoadedObject[], { logger, clock });
  const events: Array<{ reason: string; type: EventType; message: string }> = [];
  store.recordEvent = async (_kind: KindName, _object: AnyResource, type: EventType, reason: string, message: string) =>
    void events.push({ type, reason, message });
  const reconcile = bindingReconciler({ store, clock, logger } as unknown as ControllerContext);
  const condition = (type: string) => store.get('AccessBinding', KEY)?.status?.conditions?.find((c) => c.type === type);
  return { store, events, condition, reconcile: () => reconcile(KEY, new AbortController().signal) };
}

describe('binding subjects', () => {
  it('a binding that names its Users counts those that exist, each once; one with a selector counts whom it selects', async () => {
    const world = [role('acme'), user('ann'), user('ben'), { ...user('cat'), metadata: { name: 'cat', namespace: 'other' } }];
    const named = harness([...world, binding({ users: ['ann', 'ann', 'cat', 'nobody'] })]);
    await named.reconcile();
    expect(named.store.get('AccessBinding', KEY)?.status?.subjects).toBe(1);
    const both = harness([...world, binding({ users: ['ann'], userSelector: { matchLabels: { team: 'a' } } })]);
    await both.reconcile();
    expect(both.store.get('AccessBinding', KEY)?.status?.subjects).toBe(2);
  });
});

describe('binding warnings', () => {
  it('an empty userSelector: SelectsEveryUser with the count, one Warning Event, and False once narrowed', async () => {
    const world = [role('acme'), user('ann'), user('ben')];
    const { store, events, condition, reconcile } = harness([...world, binding({ userSelector: {} })]);
    await reconcile();
    expect(condition('SelectsEveryUser')).toMatchObject({
      status: 'True',
      reason: 'EmptySelector',
      message: expect.stringContaining('selects every User in namespace acme (2 now'),
    });
    await reconcile();
    expect(events.filter((e) => e.reason === 'SelectsEveryUser')).toEqual([
      { type: 'Warning', reason: 'SelectsEveryUser', message: expect.stringContaining('spec.userSelector is empty') },
    ]);

    store.applyDeclared([...world, binding({ userSelector: { matchLabels: { team: 'a' } } })] as LoadedObject[]);
    await reconcile();
    expect(condition('SelectsEveryUser')).toMatchObject({ status: 'False', reason: 'SelectorNarrowed' });
  });

  it('a binding naming users, or a real selector, carries no such condition', async () => {
    const { condition, reconcile } = harness([role('acme'), user('ann'), binding({ users: ['ann'] })]);
    await reconcile();
    expect(condition('SelectsEveryUser')).toBeUndefined();
  });

  it('a role that exists only in another namespace is named in RoleNotFound', async () => {
    const { condition, events, reconcile } = harness([role('platform'), role('shared'), user('ann'), binding({ users: ['ann'] })]);
    await reconcile();
    await reconcile();
    // Said once as a Warning Event too: a person has to fix the name.
    expect(events.filter((e) => e.reason === 'RoleNotFound')).toEqual([
      { type: 'Warning', reason: 'RoleNotFound', message: expect.stringContaining('exists in namespace platform, shared') },
    ]);
    expect(condition('Ready')).toMatchObject({
      status: 'False',
      reason: 'RoleNotFound',
      message:
        'AccessRole staff does not exist in this namespace; an AccessRole of that name exists in namespace platform, shared, but a binding uses only roles of its own namespace',
    });
  });
});
