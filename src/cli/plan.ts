// `rollcall plan`: what Rollcall would change in each connected system, like `terraform plan`.
// Observes the real systems, changes nothing: neither the systems, nor the cluster, nor the state
// file. Exit 0: nothing to do; 2: changes pending; 1: error. The plan is the engine's
// planSystemPass, the same decision the controllers carry out.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { errorMessage, type ConnectedSystem } from '../api/index.ts';
import { systemClock, type Clock } from '../clock/clock.ts';
import { Connections } from '../connections/connections.ts';
import { readWorld } from '../store/world.ts';
import { systemRefusal } from '../connections/refusal.ts';
import { planSystemPass } from '../engine/index.ts';
import { createLogger } from '../process/logger.ts';
import { keyOf, keyString, type Store } from '../store/store.ts';
import type { Output } from './output.ts';
import { planDocument, planExitCode, type SystemPlanResult } from './plan-document.ts';
import { openPlanStore, type PlanSource } from './plan-store.ts';
import { clusterRanges } from '../connectors/egress/addresses.ts';
import type { Resolver } from '../connectors/egress/guard.ts';
import { kubernetesReachFrom } from './kubernetes-allow.ts';
import { printPlan } from './plan-text.ts';

export type { SystemPlanResult } from './plan-document.ts';

/** What systems may reach, as `rollcall run` is told: plan and audit observe under the same rules. */
export interface ReachOptions {
  /** Values of --kubernetes-allow, as given to `rollcall run`. */
  kubernetesAllow?: readonly string[];
  /** Values of --kubernetes-bindable-cluster-roles and --kubernetes-operator-roles (cli/kubernetes-allow.ts). */
  kubernetesBindableClusterRoles?: readonly string[];
  kubernetesOperatorRoles?: readonly string[];
  /** As for run: cluster-internal ranges systems reach only with spec.allowPrivateNetwork. */
  clusterCidrs?: readonly string[];
}

export interface PlanOptions extends PlanSource, ReachOptions {
  output: 'text' | 'json';
}

/**
 * Connectors that only observe (they create nothing, not even their storage), reaching what `run`
 * given the same flags reaches and nothing more: the same egress guard and kubernetes reach.
 */
export async function observingConnections(
  options: ReachOptions,
  store: Store,
  logger: Logger,
  kubeconfig: KubeConfig | undefined,
  /** The names' resolver the egress guard uses (tests: a name that maps to a private address). */
  resolve?: Resolver,
): Promise<Connections> {
  const kubernetesReach = await kubernetesReachFrom({
    allow: options.kubernetesAllow,
    bindableClusterRoles: options.kubernetesBindableClusterRoles,
    operatorRoles: options.kubernetesOperatorRoles,
  });
  const egress = { clusterRanges: clusterRanges(options.clusterCidrs ?? []), ...(resolve && { resolve }) };
  return new Connections({ store, logger, kubeconfig, timeoutMs: 10_000, observeOnly: true, kubernetesReach, egress });
}

/** Observes every connected system in the store (or those `include` selects) and plans its pass, in namespace/name order. Changes nothing. */
export async function planAll(
  store: Store,
  connections: Connections,
  clock: Clock,
  include: (system: ConnectedSystem) => boolean = () => true,
): Promise<SystemPlanResult[]> {
  const results: SystemPlanResult[] = [];
  const systems = store
    .list('ConnectedSystem')
    .filter(include)
    .sort((a, b) => keyString(keyOf(a)).localeCompare(keyString(keyOf(b))));
  for (const system of systems) {
    const { namespace } = keyOf(system);
    if (system.spec.suspend) {
      results.push({ system, suspended: true });
      continue;
    }
    try {
      const pass = await connections.use(system, async (connector) => {
        const signal = AbortSignal.timeout(60_000);
        const listing = [];
        for await (const account of connector.listAccounts(signal)) listing.push(account);
        const users = store.list('User', namespace);
        const recent = system.status?.recentDeprovisions ?? [];
        // A declared userName the listing lacks may still name an account outside the scope: run
        // would adopt it or report a conflict, so plan reads it as run does.
        const listed = new Set(listing.map((account) => account.userName));
        const others = [];
        for (const userName of new Set(users.map((user) => user.spec.userName))) {
          if (listed.has(userName)) continue;
          const other = await connector.getAccount(userName, signal);
          if (other?.owner !== undefined) others.push(other);
        }
        const world = readWorld(store, namespace);
        // Asked once for every entitlement the namespace's AccessRoles grant here: what run withholds, plan must not show as a grant.
        const granted = world.roles.flatMap((role) =>
          role.spec.grants.filter((grant) => grant.system === system.metadata.name).flatMap((grant) => grant.entitlements),
        );
        const refusal = await systemRefusal(connector, granted, signal);
        return planSystemPass({
          system,
          users,
          world,
          listing,
          others,
          capabilities: connector.capabilities,
          refusal,
          retained: system.status?.retainedAccounts,
          recent,
          now: clock.now(),
        });
      });
      results.push({ system, pass });
    } catch (error) {
      results.push({ system, error: errorMessage(error) });
    }
  }
  return results;
}

export async function planCommand(options: PlanOptions, out: Output, clock: Clock = systemClock): Promise<number> {
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'silent' });
  const input = await openPlanStore(options, out, { logger, clock });
  const { store, kubeconfig } = input;
  const connections = await observingConnections(options, store, logger, kubeconfig);
  let results: SystemPlanResult[];
  try {
    results = await planAll(store, connections, clock);
  } finally {
    await connections.closeAll();
    await store.stop();
  }
  if (options.output === 'json') out.line(JSON.stringify(planDocument(results), null, 2));
  else {
    out.line(`Plan for ${input.source}\n`);
    printPlan(results, out);
  }
  return planExitCode(results);
}
