import type { Logger } from 'pino';
import type { Metrics } from '../runtime/metrics.ts';
import type { Store } from '../runtime/store.ts';
import type { Connections } from './connections.ts';
import type { ObservedCache } from './observed-cache.ts';

/** A change applied to a connected system, as the CLI and the events report it. */
export interface AppliedChange {
  namespace: string;
  user: string;
  system: string;
  description: string;
}

/** Everything a reconciler needs; built once by the manager. */
export interface ControllerContext {
  store: Store;
  logger: Logger;
  metrics?: Metrics;
  connections: Connections;
  observed: ObservedCache;
  now: () => Date;
  /** Called for every change applied, e.g. to print what `rollcall run` did. */
  onApplied?: (change: AppliedChange) => void;
}
