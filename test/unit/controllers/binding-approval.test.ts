// The AccessBinding reconciler shows the approval in status and announces it: ApprovalGranted with
// approver, time and the content pinned; ApprovalVoided, naming what changed, when the binding or
// its content (role entitlements, maxDuration, the Users selected) changes after approval.
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { AccessBinding, AccessRole, KindName, User } from '../../../src/api/index.ts';
import { TestClock } from '../../../src/clock/clock.ts';
import { bindingReconciler } from '../../../src/controllers/binding-controller.ts';
import type { ControllerContext } from '../../../src/controllers/context.ts';
import { approvalOf } from '../../../src/engine/index.ts';
import type { LoadedObject } from '../../../src/manifests/load.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import type { AnyResource, EventType } from '../../../src/store/store.ts';

const T0 = new Date('2026-11-30T09:00:00Z');
const KEY = { namespace: 'acme', name: 'prod' };
const roleWith = (entitlements: string[], maxDuration?: string) =>
  ({
    apiVersion: 'rollcall.dev/v1alpha1',
    kind: 'AccessRole',
    metadata: { name: 'prod-admin', namespace: 'acme' },
    spec: { requiresApproval: true, grants: [{ system: 'db', entitlements }], ...(maxDuration ? { maxDuration } : {}) },
  }) as const;
const role = roleWith(['admins'], '8h');
const dave = {
  apiVersion: 'rollcall.dev/v1alpha1',
  kind: 'User',
  metadata: { name: 'dave', namespace: 'acme', labels: { team: 'ops' } },
  spec: { userName: 'dave' },
} as const;
const binding = (spec: Partial<AccessBinding['spec']>) =>
  ({
    apiVersion: 'rollcall.dev/v1alpha1',
    kind: 'AccessBinding',
    metadata: { name: 'prod', namespace: 'acme' },
    spec: { role: 'prod-admin', users: ['dave'], requestedBy: 'alice', ...spec },
  }) as unknown as LoadedObject;

function harness() {
  const clock = new TestClock(T0);
  const logger = pino({ level: 'silent' });
  const store = new MemoryStore([role, dave, binding({})] as LoadedObject[], { logger, clock });
  const events: Array<{ reason: string; type: EventType; message: string }> = [];
  store.recordEvent = async (_kind: KindName, _object: AnyResource, type: EventType, reason: string, message: string) => {
    events.push({ type, reason, message });
  };
  const reconcile = bindingReconciler({ store, clock, logger } as unknown as ControllerContext);
  /** bob approves the binding `spec` as the store holds it now, as kubectl rollcall approve would. */
  const approvedSpec = (spec: Partial<AccessBinding['spec']>) => {
    const current = { ...store.get('AccessBinding', KEY)!, spec: { ...store.get('AccessBinding', KEY)!.spec, ...spec } } as AccessBinding;
    return { ...spec, approval: approvalOf(current, store.list('AccessRole', 'acme'), store.list('User', 'acme'), 'bob') };
  };
  return { store, clock, events, approvedSpec, reconcile: () => reconcile(KEY, new AbortController().signal) };
}

const uidOf = (store: MemoryStore, name: string) => store.get('User', { namespace: 'acme', name })!.metadata.uid!;

describe('binding status and Events for approvals', () => {
  it('pending, then granted with approver, time and content, then voided by an edit', async () => {
    const { store, clock, events, approvedSpec, reconcile } = harness();
    await reconcile();
    expect(store.get('AccessBinding', KEY)!.status!.approval).toMatchObject({ state: 'Pending' });
    expect(store.get('AccessBinding', KEY)!.status!.approval!.message).toMatch(/the content to approve has digest sha256:[0-9a-f]{64}/);
    expect(events).toEqual([]);

    clock.advance(60_000);
    const approval = approvedSpec({});
    store.applyDeclared([role, dave, binding(approval)] as LoadedObject[]);
    await reconcile();
    const granted = store.get('AccessBinding', KEY)!.status!;
    const uid = uidOf(store, 'dave');
    expect(granted.approval).toEqual({
      state: 'Granted',
      approvedBy: 'bob',
      approvedAt: '2026-11-30T09:01:00.000Z',
      message: 'approved by bob',
      digest: approval.approval.digest,
      content: { role: 'prod-admin', entitlements: ['db:admins'], maxDuration: '8h', users: [{ name: 'dave', uid, userName: 'dave' }] },
    });
    expect(granted.conditions!.find((c) => c.type === 'Ready')!.status).toBe('True');
    expect(events).toEqual([
      {
        type: 'Normal',
        reason: 'ApprovalGranted',
        message: `approved by bob at 2026-11-30T09:01:00.000Z: role prod-admin: db:admins; maxDuration 8h; Users dave (userName dave, uid ${uid})`,
      },
    ]);

    // Reconciling again changes nothing and announces nothing; the approval time stays.
    clock.advance(60_000);
    await reconcile();
    expect(store.get('AccessBinding', KEY)!.status!.approval!.approvedAt).toBe('2026-11-30T09:01:00.000Z');
    expect(events).toHaveLength(1);

    store.applyDeclared([role, dave, binding({ ...approval, users: ['dave', 'erin'] })] as LoadedObject[]);
    await reconcile();
    const voided = store.get('AccessBinding', KEY)!.status!;
    expect(voided.approval).toMatchObject({ state: 'Voided', approvedBy: 'bob', message: 'users changed after bob approved' });
    expect(voided.conditions!.find((c) => c.type === 'PendingApproval')).toMatchObject({ status: 'True', reason: 'ApprovalVoided' });
    expect(events[1]).toEqual({ type: 'Warning', reason: 'ApprovalVoided', message: 'users changed after bob approved' });
  });

  it.each([
    [
      'the role gains an entitlement',
      (_: MemoryStore) => [roleWith(['admins', 'pg_write'], '8h'), dave],
      () => 'AccessRole acme/prod-admin gained entitlement db:pg_write since bob approved',
    ],
    [
      'the role drops maxDuration',
      (_: MemoryStore) => [roleWith(['admins']), dave],
      () => 'AccessRole acme/prod-admin dropped maxDuration 8h since bob approved',
    ],
    [
      'the approved User is recreated with another userName',
      (store: MemoryStore) => {
        store.applyDeclared([role, binding({})] as LoadedObject[]);
        return [role, { ...dave, spec: { userName: 'mallory' } }];
      },
      (old: string, now: string) =>
        `User dave was recreated (uid changed from ${old} to ${now}); User dave's userName changed from dave to mallory since bob approved`,
    ],
  ] as const)('voids a granted approval when %s, naming the change, and keeps the record', async (_name, change, message) => {
    const { store, events, approvedSpec, reconcile } = harness();
    const approval = approvedSpec({});
    store.applyDeclared([role, dave, binding(approval)] as LoadedObject[]);
    await reconcile();
    expect(store.get('AccessBinding', KEY)!.status!.approval!.state).toBe('Granted');
    const oldUid = uidOf(store, 'dave');

    const objects = change(store) as unknown as Array<AccessRole | User>;
    store.applyDeclared([...objects, binding(approval)] as unknown as LoadedObject[]);
    await reconcile();
    const want = message(oldUid, uidOf(store, 'dave'));
    const status = store.get('AccessBinding', KEY)!.status!;
    expect(status.approval).toMatchObject({ state: 'Voided', message: want, digest: approval.approval.digest });
    expect(status.conditions!.find((c) => c.type === 'PendingApproval')).toMatchObject({ status: 'True', reason: 'ApprovalVoided', message: want });
    expect(events.at(-1)).toEqual({ type: 'Warning', reason: 'ApprovalVoided', message: want });

    // A new approval of the content as it now stands records it again.
    store.applyDeclared([...objects, binding(approvedSpec({}))] as unknown as LoadedObject[]);
    await reconcile();
    expect(store.get('AccessBinding', KEY)!.status!.approval).toMatchObject({ state: 'Granted' });
    expect(events.at(-1)!.reason).toBe('ApprovalGranted');
  });
});
