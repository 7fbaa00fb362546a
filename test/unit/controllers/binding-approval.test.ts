// The AccessBinding reconciler shows the approval in status and announces it: ApprovalGranted with
// approver and time, ApprovalVoided when the binding changes after approval.
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { AccessBinding, KindName } from '../../../src/api/index.ts';
import { TestClock } from '../../../src/clock/clock.ts';
import { bindingReconciler } from '../../../src/controllers/binding-controller.ts';
import type { ControllerContext } from '../../../src/controllers/context.ts';
import type { LoadedObject } from '../../../src/manifests/load.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import type { AnyResource, EventType } from '../../../src/store/store.ts';

const T0 = new Date('2026-11-30T09:00:00Z');
const KEY = { namespace: 'acme', name: 'prod' };
const role = { apiVersion: 'rollcall.dev/v1alpha1', kind: 'AccessRole', metadata: { name: 'prod-admin', namespace: 'acme' }, spec: { requiresApproval: true, grants: [] } } as const;
const binding = (spec: Partial<AccessBinding['spec']>) =>
  ({ apiVersion: 'rollcall.dev/v1alpha1', kind: 'AccessBinding', metadata: { name: 'prod', namespace: 'acme' }, spec: { role: 'prod-admin', users: ['dave'], requestedBy: 'alice', ...spec } }) as unknown as LoadedObject;
const approved = (users: string[]) => ({ approval: { approvedBy: 'bob', scope: { role: 'prod-admin', users: ['dave'] } }, users });

function harness() {
  const clock = new TestClock(T0);
  const logger = pino({ level: 'silent' });
  const store = new MemoryStore([role, binding({})] as LoadedObject[], { logger, clock });
  const events: Array<{ reason: string; type: EventType; message: string }> = [];
  store.recordEvent = async (_kind: KindName, _object: AnyResource, type: EventType, reason: string, message: string) => {
    events.push({ type, reason, message });
  };
  const reconcile = bindingReconciler({ store, clock, logger } as unknown as ControllerContext);
  return { store, clock, events, reconcile: () => reconcile(KEY, new AbortController().signal) };
}

describe('binding status and Events for approvals', () => {
  it('pending, then granted with approver and time, then voided by an edit', async () => {
    const { store, clock, events, reconcile } = harness();
    await reconcile();
    expect(store.get('AccessBinding', KEY)!.status!.approval).toMatchObject({ state: 'Pending' });
    expect(events).toEqual([]);

    clock.advance(60_000);
    store.applyDeclared([role, binding(approved(['dave']))] as LoadedObject[]);
    await reconcile();
    const granted = store.get('AccessBinding', KEY)!.status!;
    expect(granted.approval).toEqual({ state: 'Granted', approvedBy: 'bob', approvedAt: '2026-11-30T09:01:00.000Z', message: 'approved by bob' });
    expect(granted.conditions!.find((c) => c.type === 'Ready')!.status).toBe('True');
    expect(events).toEqual([{ type: 'Normal', reason: 'ApprovalGranted', message: 'approved by bob at 2026-11-30T09:01:00.000Z' }]);

    // Reconciling again changes nothing and announces nothing; the approval time stays.
    clock.advance(60_000);
    await reconcile();
    expect(store.get('AccessBinding', KEY)!.status!.approval!.approvedAt).toBe('2026-11-30T09:01:00.000Z');
    expect(events).toHaveLength(1);

    store.applyDeclared([role, binding(approved(['dave', 'erin']))] as LoadedObject[]);
    await reconcile();
    const voided = store.get('AccessBinding', KEY)!.status!;
    expect(voided.approval).toMatchObject({ state: 'Voided', approvedBy: 'bob', message: 'users changed after bob approved' });
    expect(voided.conditions!.find((c) => c.type === 'PendingApproval')).toMatchObject({ status: 'True', reason: 'ApprovalVoided' });
    expect(events[1]).toEqual({ type: 'Warning', reason: 'ApprovalVoided', message: 'users changed after bob approved' });
  });
});
