// Prometheus metrics for one Rollcall process. The runtime metrics reuse controller-runtime's and
// client-go's names so that dashboards and alerts written for Go operators work unchanged.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { SystemCounter, SystemGauge, type SystemLabelling } from './system-metrics.ts';

// controller-runtime's reconcile_time_seconds buckets (pkg/internal/controller/metrics/metrics.go).
const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8,
  9, 10, 15, 20, 25, 30, 40, 50, 60,
];
// controller-runtime's workqueue buckets: ExponentialBuckets(10e-9, 10, 12), 10 ns to 1000 s.
const WORKQUEUE_BUCKETS = Array.from({ length: 12 }, (_, i) => 1e-8 * 10 ** i);
// A leaver should lose access within seconds; anything near an hour means something is stuck.
const DEPROVISION_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

export type ReconcileResult = 'success' | 'error' | 'requeue' | 'requeue_after';

export interface MetricsOptions {
  /** Node.js process metrics (default true). */
  defaultMetrics?: boolean;
  /** Label per-system metrics with the system's "NS/NAME" (default false: one sum, system="all"). */
  systemLabels?: boolean;
}

export class Metrics {
  /** Its own registry, not prom-client's global one, so tests and several instances never collide. */
  readonly registry = new Registry();
  /** Read by the per-system metrics on each use; the constructor sets it after the fields exist. */
  readonly #labelling: SystemLabelling = { perSystem: false };

  readonly reconcileTotal = new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Total number of reconciliations per controller',
    labelNames: ['controller', 'result'] as const,
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: 'controller_runtime_reconcile_errors_total',
    help: 'Total number of reconciliation errors per controller',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });
  readonly terminalReconcileErrors = new Counter({
    name: 'controller_runtime_terminal_reconcile_errors_total',
    help: 'Total number of terminal (not retried) reconciliation errors per controller',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });
  readonly reconcileTime = new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Length of time per reconciliation per controller',
    labelNames: ['controller'] as const,
    buckets: RECONCILE_BUCKETS,
    registers: [this.registry],
  });
  readonly activeWorkers = new Gauge({
    name: 'controller_runtime_active_workers',
    help: 'Number of currently used workers per controller',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });
  readonly maxConcurrentReconciles = new Gauge({
    name: 'controller_runtime_max_concurrent_reconciles',
    help: 'Maximum number of concurrent reconciles per controller',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });

  readonly workqueueDepth = new Gauge({
    name: 'workqueue_depth',
    help: 'Current depth of workqueue',
    labelNames: ['name'] as const,
    registers: [this.registry],
  });
  readonly workqueueAdds = new Counter({
    name: 'workqueue_adds_total',
    help: 'Total number of adds handled by workqueue',
    labelNames: ['name'] as const,
    registers: [this.registry],
  });
  readonly workqueueRetries = new Counter({
    name: 'workqueue_retries_total',
    help: 'Total number of retries handled by workqueue',
    labelNames: ['name'] as const,
    registers: [this.registry],
  });
  readonly workqueueQueueDuration = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'How long in seconds an item stays in workqueue before being requested',
    labelNames: ['name'] as const,
    buckets: WORKQUEUE_BUCKETS,
    registers: [this.registry],
  });
  readonly workqueueWorkDuration = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'How long in seconds processing an item from workqueue takes',
    labelNames: ['name'] as const,
    buckets: WORKQUEUE_BUCKETS,
    registers: [this.registry],
  });

  // Per connected system. /metrics is served without authentication, so by default these are summed
  // over every system under system="all": the scrape names no tenant's namespace or system. With
  // systemLabels (rollcall run --metrics-system-labels) each system is its own series, "NS/NAME".
  readonly connectorOperations = new SystemCounter(
    new Counter({
      name: 'rollcall_connector_operations_total',
      help: 'Operations sent to connected systems, by system, operation and result (success or error)',
      labelNames: ['system', 'op', 'result'] as const,
      registers: [this.registry],
    }),
    this.#labelling,
  );
  readonly accounts = new SystemGauge(
    new Gauge({
      name: 'rollcall_accounts',
      help: 'Accounts Rollcall manages, by connected system and state (present, disabled, absent, error)',
      labelNames: ['system', 'state'] as const,
      registers: [this.registry],
    }),
    this.#labelling,
  );
  readonly driftCorrections = new SystemCounter(
    new Counter({
      name: 'rollcall_drift_corrections_total',
      help: 'Changes applied because a connected system had drifted from the declared state',
      labelNames: ['system'] as const,
      registers: [this.registry],
    }),
    this.#labelling,
  );
  readonly listings = new SystemCounter(
    new Counter({
      name: 'rollcall_listings_total',
      help: 'Full listings of connected systems, by why: scheduled (first, resyncInterval, a spec change) or changed (the system said something changed that Rollcall did not write)',
      labelNames: ['system', 'cause'] as const,
      registers: [this.registry],
    }),
    this.#labelling,
  );
  readonly orphans = new SystemGauge(
    new Gauge({
      name: 'rollcall_orphans',
      help: 'Accounts found in the managed scope of a connected system that no User declares',
      labelNames: ['system'] as const,
      registers: [this.registry],
    }),
    this.#labelling,
  );
  readonly deprovisionLatency = new Histogram({
    name: 'rollcall_deprovision_latency_seconds',
    help: 'Time from a User losing access (termination, expiry, deletion) to its accounts being disabled or deleted',
    buckets: DEPROVISION_BUCKETS,
    registers: [this.registry],
  });
  readonly deletionGuardTripped = new SystemCounter(
    new Counter({
      name: 'rollcall_deletion_guard_tripped_total',
      help: 'Times a deletion guard stopped a sync that would have deprovisioned too many accounts',
      labelNames: ['system'] as const,
      registers: [this.registry],
    }),
    this.#labelling,
  );
  readonly leader = new Gauge({
    name: 'rollcall_leader',
    help: '1 while this replica runs the controllers (holds the leader lease, or runs with --no-leader-elect or --manifests), else 0',
    registers: [this.registry],
  });

  constructor(options: MetricsOptions = {}) {
    this.#labelling.perSystem = options.systemLabels ?? false;
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.leader.set(0);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
