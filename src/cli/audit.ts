// `rollcall audit`: per connected system, what it holds against what is declared (orphans, creep,
// missing, expired) and the governance facts about the declarations (expiring, separation-of-duties
// conflicts, pending approvals). Reads like `rollcall plan`, from the same store and the same
// planAll (the engine's planSystemPass), and changes nothing.
import type { KubeIdentity } from '../store/kube-config.ts';
import { systemClock, type Clock } from '../clock/clock.ts';
import { Connections } from '../connections/connections.ts';
import { readWorld } from '../store/world.ts';
import { auditSystem } from '../engine/index.ts';
import { createLogger } from '../process/logger.ts';
import { keyOf } from '../store/store.ts';
import { auditDocument, auditExitCode, renderAudit, type AuditOutput, type SystemAuditResult } from './audit-report.ts';
import type { Output } from './output.ts';
import { planAll } from './plan.ts';
import { clusterPlanStore, standalonePlanStore, type PlanStore } from './plan-store.ts';

export interface AuditOptions {
  dir?: string;
  kubeconfig?: string;
  /** With kubeconfig: the context and whom to impersonate (kubectl's --context, --as, --as-group). */
  identity?: KubeIdentity;
  namespace?: string;
  /** A system name, or namespace/name. */
  system?: string;
  state?: string;
  expiringWithinMs: number;
  output: AuditOutput;
  failOn?: number;
}

export async function auditCommand(options: AuditOptions, out: Output, clock: Clock = systemClock): Promise<number> {
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'silent' });
  const kubeconfig =
    options.kubeconfig === undefined ? undefined : (await import('../store/kube-config.ts')).loadKubeConfig(options.kubeconfig, options.identity);
  const input: PlanStore = kubeconfig
    ? await clusterPlanStore({ dir: options.dir, kubeconfig, namespace: options.namespace, logger, clock })
    : standalonePlanStore(options.dir!, options.state, { logger, clock });
  for (const skipped of input.skipped) out.error(`warning: skipped ${skipped} (it does not match the schema; the controllers skip it too)`);
  const { store } = input;
  await store.start();
  const connections = new Connections({ store, logger, kubeconfig, timeoutMs: 10_000 });
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
