// `rollcall audit`: per connected system, what it holds against what is declared (orphans, creep,
// missing, expired) and the governance facts about the declarations (expiring, separation-of-duties
// conflicts, pending approvals). Reads like `rollcall plan`, from the same store and the same
// planAll (the engine's planSystemPass), and changes nothing.
import { systemClock, type Clock } from '../clock/clock.ts';
import { readWorld } from '../store/world.ts';
import { auditSystem } from '../engine/index.ts';
import { createLogger } from '../process/logger.ts';
import { keyOf } from '../store/store.ts';
import { auditDocument, auditExitCode, renderAudit, type AuditOutput, type SystemAuditResult } from './audit-report.ts';
import type { Output } from './output.ts';
import { observingConnections, planAll, type ReachOptions } from './plan.ts';
import { openPlanStore, type PlanSource } from './plan-store.ts';

export interface AuditOptions extends PlanSource, ReachOptions {
  /** A system name, or namespace/name. */
  system?: string;
  expiringWithinMs: number;
  output: AuditOutput;
  failOn?: number;
}

export async function auditCommand(options: AuditOptions, out: Output, clock: Clock = systemClock): Promise<number> {
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'silent' });
  const { store, kubeconfig } = await openPlanStore(options, out, { logger, clock });
  // Observing only, and reaching no more than plan and run do (the same egress guard): a tenant's
  // system pointed at a cluster-internal address is refused here too.
  const connections = await observingConnections(options, store, logger, kubeconfig);
  const now = clock.now();
  const selected = (system: { metadata: { namespace?: string; name: string } }) => {
    const { namespace, name } = keyOf(system);
    if (options.namespace !== undefined && namespace !== options.namespace) return false;
    return options.system === undefined || options.system === name || options.system === `${namespace}/${name}`;
  };
  let results: SystemAuditResult[];
  try {
    const plans = await planAll(store, connections, clock, selected);
    results = plans.map((result): SystemAuditResult => {
      if (!('pass' in result)) return result;
      const namespace = keyOf(result.system).namespace;
      const findings = auditSystem({
        pass: result.pass,
        users: store.list('User', namespace),
        world: readWorld(store, namespace),
        now,
        expiringWithinMs: options.expiringWithinMs,
      });
      return { system: result.system, findings };
    });
  } finally {
    await connections.closeAll();
    await store.stop();
  }
  const doc = auditDocument(results, now, options.expiringWithinMs);
  out.line(renderAudit(doc, options.output));
  return auditExitCode(doc, options.failOn);
}
