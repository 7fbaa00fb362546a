// The pure half of leader election: given the Lease as read, who we are and the time, what to
// write. Kept apart from the API calls so every case is a plain unit test.
import { V1MicroTime, type V1Lease, type V1LeaseSpec } from '@kubernetes/client-node';

export interface LeaseDecisionOptions {
  /** How long a holder may go without renewing before others may take the lease. */
  leaseDurationSeconds: number;
}

export type LeaseDecision =
  /** No Lease yet: create it, held by us. */
  | { action: 'create'; spec: V1LeaseSpec }
  /** Free, released, or expired: take it over (a leader transition). */
  | { action: 'acquire'; spec: V1LeaseSpec }
  /** Ours: move renewTime forward. */
  | { action: 'renew'; spec: V1LeaseSpec }
  /** Another replica holds a live lease: try again later. */
  | { action: 'wait'; holder: string; expiresAt: Date };

export function decideLease(lease: V1Lease | undefined, identity: string, now: Date, options: LeaseDecisionOptions): LeaseDecision {
  const stamp = new V1MicroTime(now.getTime());
  if (!lease) {
    return {
      action: 'create',
      spec: { holderIdentity: identity, leaseDurationSeconds: options.leaseDurationSeconds, acquireTime: stamp, renewTime: stamp, leaseTransitions: 0 },
    };
  }
  const spec = lease.spec ?? {};
  const holder = spec.holderIdentity ?? '';
  if (holder === identity) {
    return {
      action: 'renew',
      spec: {
        ...spec,
        leaseDurationSeconds: options.leaseDurationSeconds,
        acquireTime: spec.acquireTime ? new V1MicroTime(toMillis(spec.acquireTime) ?? now.getTime()) : stamp,
        renewTime: stamp,
      },
    };
  }
  const expiresAt = leaseExpiry(spec);
  if (holder !== '' && expiresAt !== undefined && expiresAt.getTime() >= now.getTime()) {
    return { action: 'wait', holder, expiresAt };
  }
  return {
    action: 'acquire',
    spec: {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds: options.leaseDurationSeconds,
      acquireTime: stamp,
      renewTime: stamp,
      leaseTransitions: (spec.leaseTransitions ?? 0) + 1,
    },
  };
}

/**
 * When the current holder's claim runs out: its last renewal (or acquisition) plus the duration it
 * wrote. Undefined when the Lease says neither, which counts as expired.
 */
export function leaseExpiry(spec: V1LeaseSpec): Date | undefined {
  const renewed = toMillis(spec.renewTime) ?? toMillis(spec.acquireTime);
  if (renewed === undefined || spec.leaseDurationSeconds === undefined) return undefined;
  return new Date(renewed + spec.leaseDurationSeconds * 1000);
}

// client-node v2 does not turn MicroTime fields back into Dates: a Lease read from the API holds strings.
function toMillis(value: Date | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}
