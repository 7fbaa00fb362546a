import type { Logger } from 'pino';
import type { AccountChange } from '../api/index.ts';
import type { Clock } from '../clock/clock.ts';
import type { Metrics } from '../process/metrics.ts';
import type { Store } from '../store/store.ts';
import type { AccountSyncs } from './account-syncs.ts';
import type { Connections } from '../connections/connections.ts';
import type { DeletionGate } from './deletion-gate.ts';
import type { ObservedCache } from './observed-cache.ts';
import type { StatusWrites } from './status-writes.ts';
import type { UserNameIndex } from './user-name-index.ts';
import type { Enqueue } from './reconciler.ts';

/** The changes one sync applied to one account in one system, for the CLI to print. */
export interface AppliedChanges {
  namespace: string;
  /** The User's name, or the account's userName for an orphan. */
  user: string;
  system: string;
  /** The changes written, and each in words. */
  changes: AccountChange[];
  descriptions: string[];
  /** Planned changes the system already held when they came to be written (nothing sent), each with why. */
  skipped?: string[];
  /** An account no User declares, changed by the orphan policy. */
  orphan?: boolean;
}

/** Everything a reconciler needs; built once by the manager. */
export interface ControllerContext {
  store: Store;
  logger: Logger;
  metrics?: Metrics;
  connections: Connections;
  observed: ObservedCache;
  gate: DeletionGate;
  /** The one clock: every date read and every wake-up. */
  clock: Clock;
  /** Asks for another object to be reconciled (the only cross-kind channel). */
  enqueue: Enqueue;
  /** The Users of each namespace by userName. */
  userNames: UserNameIndex;
  /** Each User's account syncs, which may outlive its reconcile when a system is slow. */
  syncs: AccountSyncs;
  /** User status writes under way beside the workers (a reconcile does not wait for its write). */
  statusWrites: StatusWrites;
  /** Called after each account sync that changed something, e.g. to print what `rollcall run` did. */
  onApplied?: (applied: AppliedChanges) => void;
}
