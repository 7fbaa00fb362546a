// The one reconciler contract, after controller-runtime's: a reconcile takes a key, never an event,
// re-reads the world and either returns (optionally asking to run again at an instant) or throws:
// a RetryableError or any other error goes to per-key exponential backoff, a PermanentError
// (a terminal error) is reported and waits for the input to change. Never both a wake-up and an error.
import type { ObjectKey } from '../store/store.ts';

export interface Outcome {
  /** Reconcile this key again at this instant even if nothing changes (expiry, retention, resync). */
  requeueAt?: Date;
}

export type Reconciler = (key: ObjectKey, signal: AbortSignal) => Promise<Outcome>;

/** The kinds that have a reconciler. */
export type ControlledKind = 'User' | 'ConnectedSystem' | 'AccessBinding' | 'IdentitySource' | 'AccessReview';

/** The one port for cross-kind requeues: a reconciler asks for another object to be looked at. */
/** `urgent`: ahead of everything else queued for that kind (a leaver). */
export type Enqueue = (kind: ControlledKind, key: ObjectKey, options?: { urgent?: boolean }) => void;

/** The earliest of some instants, as an outcome. */
export function requeueAtEarliest(instants: Array<Date | number | undefined>): Outcome {
  const times = instants.map((t) => (t instanceof Date ? t.getTime() : t)).filter((t): t is number => t !== undefined && Number.isFinite(t));
  return times.length ? { requeueAt: new Date(Math.min(...times)) } : {};
}
