import type { V1Lease } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { decideLease, leaseExpiry } from '../../../src/process/lease-decision.ts';

const now = new Date('2026-11-26T09:00:00.000Z');
const options = { leaseDurationSeconds: 15 };
const secondsAgo = (s: number) => new Date(now.getTime() - s * 1000).toISOString();

function lease(spec: V1Lease['spec']): V1Lease {
  return { metadata: { name: 'rollcall', namespace: 'rollcall-system', resourceVersion: '7' }, spec };
}

describe('decideLease', () => {
  it('creates the lease, held by us, when there is none', () => {
    const decision = decideLease(undefined, 'me', now, options);
    expect(decision.action).toBe('create');
    if (decision.action !== 'create') return;
    expect(decision.spec).toMatchObject({ holderIdentity: 'me', leaseDurationSeconds: 15, leaseTransitions: 0 });
    expect(decision.spec.renewTime?.getTime()).toBe(now.getTime());
    // MicroTime: the API server wants six fractional digits.
    expect(decision.spec.renewTime?.toISOString()).toBe('2026-11-26T09:00:00.000000Z');
  });

  it('renews our own lease: renewTime moves, acquireTime and transitions stay', () => {
    const decision = decideLease(
      lease({ holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: secondsAgo(600) as never, renewTime: secondsAgo(2) as never, leaseTransitions: 4 }),
      'me',
      now,
      options,
    );
    expect(decision.action).toBe('renew');
    if (decision.action !== 'renew') return;
    expect(decision.spec.holderIdentity).toBe('me');
    expect(decision.spec.leaseTransitions).toBe(4);
    expect(new Date(decision.spec.acquireTime!).toISOString()).toBe(secondsAgo(600));
    expect(decision.spec.renewTime?.getTime()).toBe(now.getTime());
  });

  it('renews our own lease even after it expired: nobody else took it', () => {
    const decision = decideLease(lease({ holderIdentity: 'me', leaseDurationSeconds: 15, renewTime: secondsAgo(60) as never }), 'me', now, options);
    expect(decision.action).toBe('renew');
  });

  it('waits while another holder renewed within its lease duration', () => {
    const decision = decideLease(lease({ holderIdentity: 'other', leaseDurationSeconds: 15, renewTime: secondsAgo(14) as never }), 'me', now, options);
    expect(decision).toEqual({ action: 'wait', holder: 'other', expiresAt: new Date(now.getTime() + 1000) });
  });

  it('still waits at the exact instant of expiry, and acquires just after', () => {
    const atExpiry = lease({ holderIdentity: 'other', leaseDurationSeconds: 15, renewTime: secondsAgo(15) as never });
    expect(decideLease(atExpiry, 'me', now, options).action).toBe('wait');
    expect(decideLease(atExpiry, 'me', new Date(now.getTime() + 1), options).action).toBe('acquire');
  });

  it('takes over an expired lease and counts a transition', () => {
    const decision = decideLease(
      lease({
        holderIdentity: 'other',
        leaseDurationSeconds: 15,
        acquireTime: secondsAgo(900) as never,
        renewTime: secondsAgo(16) as never,
        leaseTransitions: 2,
      }),
      'me',
      now,
      options,
    );
    expect(decision.action).toBe('acquire');
    if (decision.action !== 'acquire') return;
    expect(decision.spec).toMatchObject({ holderIdentity: 'me', leaseDurationSeconds: 15, leaseTransitions: 3 });
    expect(decision.spec.acquireTime?.getTime()).toBe(now.getTime());
    expect(decision.spec.renewTime?.getTime()).toBe(now.getTime());
  });

  it("judges expiry by the holder's lease duration, not ours", () => {
    const longLease = lease({ holderIdentity: 'other', leaseDurationSeconds: 60, renewTime: secondsAgo(30) as never });
    expect(decideLease(longLease, 'me', now, options).action).toBe('wait');
  });

  it('acquires a released lease (empty holder) at once, however recent its renewTime', () => {
    const released = lease({ holderIdentity: '', leaseDurationSeconds: 1, renewTime: now.toISOString() as never, leaseTransitions: 5 });
    const decision = decideLease(released, 'me', now, options);
    expect(decision.action).toBe('acquire');
    if (decision.action === 'acquire') expect(decision.spec.leaseTransitions).toBe(6);
  });

  it('acquires a lease with no holder or no spec at all', () => {
    expect(decideLease(lease({ leaseDurationSeconds: 15, renewTime: now.toISOString() as never }), 'me', now, options).action).toBe('acquire');
    expect(decideLease({ metadata: { name: 'rollcall' } }, 'me', now, options).action).toBe('acquire');
  });

  it('treats a holder that never wrote a time or a duration as expired', () => {
    expect(decideLease(lease({ holderIdentity: 'other', leaseDurationSeconds: 15 }), 'me', now, options).action).toBe('acquire');
    expect(decideLease(lease({ holderIdentity: 'other', renewTime: now.toISOString() as never }), 'me', now, options).action).toBe('acquire');
  });

  it('falls back to acquireTime when renewTime is missing', () => {
    expect(decideLease(lease({ holderIdentity: 'other', leaseDurationSeconds: 15, acquireTime: secondsAgo(5) as never }), 'me', now, options).action).toBe(
      'wait',
    );
  });

  it('keeps the other fields of the spec', () => {
    const decision = decideLease(
      lease({ holderIdentity: 'me', leaseDurationSeconds: 15, renewTime: secondsAgo(1) as never, strategy: 'OldestEmulationVersion' }),
      'me',
      now,
      options,
    );
    if (decision.action === 'renew') expect(decision.spec.strategy).toBe('OldestEmulationVersion');
    else expect.unreachable();
  });
});

describe('leaseExpiry', () => {
  it('reads times given as Date or as the strings the API returns', () => {
    expect(leaseExpiry({ leaseDurationSeconds: 10, renewTime: now })).toEqual(new Date(now.getTime() + 10_000));
    expect(leaseExpiry({ leaseDurationSeconds: 10, renewTime: '2026-11-26T09:00:00.000000Z' as never })).toEqual(new Date(now.getTime() + 10_000));
    expect(leaseExpiry({ leaseDurationSeconds: 10, renewTime: 'garbage' as never })).toBeUndefined();
  });
});
