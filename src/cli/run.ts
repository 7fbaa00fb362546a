// `rollcall run`: the controller. With --manifests DIR it needs no cluster: an in-memory store fed
// from the files (watched for changes), seeded from the state file the previous run left.
// Otherwise it runs against the cluster of a kubeconfig or the pod it runs in, with leader election.
import type { Logger } from 'pino';
import { FINALIZER, printable, type Condition, type User } from '../api/index.ts';
import { Manager } from '../controllers/manager.ts';
import { startHealthServer } from '../process/health.ts';
import { createLogger, type LogFormat } from '../process/logger.ts';
import { Metrics } from '../process/metrics.ts';
import { onShutdown } from '../process/shutdown.ts';
import { defaultStatePath, initialPasswordsDirectory, StateFile } from '../store/state-file.ts';
import type { Store } from '../store/store.ts';
import { openEmbeddedStore } from './embedded-store.ts';
import { clusterRanges } from '../connectors/egress/addresses.ts';
import { kubernetesReachFrom } from './kubernetes-allow.ts';
import type { Output } from './output.ts';
import { VERSION } from './version.ts';

export interface RunOptions {
  manifests?: string;
  /** With manifests: where the controllers' writes are kept between runs (default: defaultStatePath). */
  state?: string;
  kubeconfig?: string;
  /** Serve these namespaces only; all when empty or absent. */
  namespaces?: readonly string[];
  once: boolean;
  healthPort?: number;
  /** Label per-system metrics by system (opt-in: /metrics has no authentication). */
  metricsSystemLabels?: boolean;
  /** Serve inbound SCIM for IdentitySources of type scim on this port. */
  scimPort?: number;
  scimTlsCert?: string;
  scimTlsKey?: string;
  leaderElect: boolean;
  leaseNamespace?: string;
  /** This pod's name: labelled rollcall.dev/leader while it leads (src/process/leader-label.ts). */
  leaderPod?: string;
  /** Default: info; warn with manifests, where the console shows what was done. */
  logLevel?: string;
  logFormat?: LogFormat;
  /** Values of --kubernetes-allow: how far kubernetes systems of a namespace may bind beyond it. */
  kubernetesAllow?: readonly string[];
  /** Values of --kubernetes-bindable-cluster-roles and --kubernetes-operator-roles (cli/kubernetes-allow.ts). */
  kubernetesBindableClusterRoles?: readonly string[];
  kubernetesOperatorRoles?: readonly string[];
  /** Values of --cluster-cidr: cluster-internal ranges that systems and sources reach only with spec.allowPrivateNetwork. */
  clusterCidrs?: readonly string[];
  /** --feed-max-bytes: the largest feed body read over HTTP. */
  feedMaxBytes?: number;
  /** --request-timeout: the deadline of each call to the API server. */
  requestTimeoutMs?: number;
  /** --watch-silent-after: re-list a watch that proved nothing for this long; /healthz fails after twice that. */
  watchSilentAfterMs?: number;
}

export async function runCommand(options: RunOptions, out: Output): Promise<number> {
  // Parsed first: a mistyped allowance stops the start, it is not silently read as none.
  const kubernetesReach = await kubernetesReachFrom({
    allow: options.kubernetesAllow,
    bindableClusterRoles: options.kubernetesBindableClusterRoles,
    operatorRoles: options.kubernetesOperatorRoles,
  });
  const egress = { clusterRanges: clusterRanges(options.clusterCidrs ?? []) };
  // In manifests mode the console shows what was done; logs only say what went wrong, unless asked.
  const logger = createLogger({ level: options.logLevel ?? (options.manifests ? (process.env.LOG_LEVEL ?? 'warn') : undefined), format: options.logFormat });
  // One line that says what runs and how, through the logger so its redaction applies to every value.
  logger.info({ version: VERSION, config: startupConfig(options) }, `rollcall ${VERSION} starting`);
  const metrics = new Metrics({ systemLabels: options.metricsSystemLabels ?? false });
  // The Kubernetes client is loaded only when a cluster is used.
  const kube = options.manifests ? undefined : await import('../store/kube-store.ts');
  const kubeconfig = kube?.loadKubeConfig(options.kubeconfig);
  const embedded = options.manifests ? openEmbedded(options.manifests, options.state ?? defaultStatePath(options.manifests), !options.once, logger) : undefined;
  const kubeStore = kube
    ? new kube.KubeStore({
        kubeconfig: kubeconfig!,
        namespaces: options.namespaces,
        logger,
        requestTimeoutMs: options.requestTimeoutMs,
        watchdog: options.watchSilentAfterMs === undefined ? undefined : { silentAfterMs: options.watchSilentAfterMs },
      })
    : undefined;
  const store: Store = kubeStore ?? embedded!.store;
  let changedAccounts = 0;
  const manager = new Manager({
    store,
    logger,
    metrics,
    kubeconfig,
    kubernetesReach,
    egress,
    feedMaxBytes: options.feedMaxBytes,
    scimServed: options.scimPort !== undefined,
    // What was written, from the connector's results (not the plan), and what was found already done.
    onApplied: options.manifests
      ? (a) => {
          if (a.descriptions.length) changedAccounts++;
          const skipped = a.skipped?.length ? `${a.descriptions.length ? '; ' : ''}nothing written for ${a.skipped.join(', ')}` : '';
          out.line(`  ${printable(a.user).padEnd(12)} ${a.system.padEnd(16)} ${a.descriptions.join(', ')}${skipped}${a.orphan ? ' (orphan)' : ''}`);
        }
      : undefined,
  });

  let scim: { close(): Promise<void> } | undefined;
  const startScim = async () => {
    if (options.scimPort === undefined || scim) return;
    const { startScimServer } = await import('../scim-inbound/scim-server.ts');
    const { readFileSync } = await import('node:fs');
    const tls =
      options.scimTlsCert && options.scimTlsKey
        ? { cert: readFileSync(options.scimTlsCert, 'utf8'), key: readFileSync(options.scimTlsKey, 'utf8') }
        : undefined;
    scim = await startScimServer({ store, logger, port: options.scimPort, tls });
  };
  const stopScim = async () => {
    await scim?.close();
    scim = undefined;
  };

  let started = false;
  const health =
    options.healthPort !== undefined
      ? await startHealthServer({ port: options.healthPort, metrics, isReady: () => started, problems: () => kubeStore?.watchProblems() ?? [] })
      : undefined;

  if (embedded) {
    out.line(`Rollcall: converging ${options.manifests} (no cluster; embedded store, state in ${embedded.state.path})\n`);
    const stop = async () => {
      embedded.directory.stop();
      try {
        await stopScim();
        await manager.stop();
        await health?.close();
      } finally {
        // Last, and even after a failure: it keeps everything the controllers wrote until they stopped.
        await embedded.state.close();
      }
    };
    try {
      embedded.state.start();
      await manager.start();
      // No Lease to hold: this process is the one doing the work.
      metrics.leader.set(1);
      if (!options.once) await startScim();
      embedded.directory.start();
      started = true;
      await manager.idle();
    } catch (error) {
      await stop().catch((stopError: unknown) => logger.error({ err: stopError }, 'stopping after a failed start failed'));
      throw error;
    }
    const outcome = passOutcome(store);
    if (changedAccounts === 0 && outcome.failed.length === 0 && outcome.held.length === 0)
      out.line('  nothing to change: every account already matches what is declared');
    printSummary(store.list('User'), out);
    printOutcome(outcome, out);
    printInvalid(embedded.directory, out);
    if (options.once) {
      await stop();
      // Like plan: 0 done, 2 waiting for a person (the deletion guard), 1 something failed
      // (an account, a User not Ready, an invalid manifest).
      return outcome.failed.length || embedded.directory.problems.length ? 1 : outcome.held.length ? 2 : 0;
    }
    out.line(`Watching ${options.manifests} for changes. Ctrl-C to stop.`);
    await new Promise<void>((resolve, reject) => onShutdown(() => stop().then(resolve, reject)));
    return 0;
  }

  const leaseNamespace = options.leaseNamespace ?? options.namespaces?.[0] ?? 'default';
  let leaderLabel: { set(leading: boolean): Promise<void> } | undefined;
  if (options.leaderPod !== undefined) {
    const { LeaderPodLabel } = await import('../process/leader-label.ts');
    const { CoreV1Api } = await import('@kubernetes/client-node');
    leaderLabel = new LeaderPodLabel({ api: kubeconfig!.makeApiClient(CoreV1Api), namespace: leaseNamespace, name: options.leaderPod, logger });
    // A container restarted in the same pod may find the label its predecessor left; a failure to
    // remove it fails the start, so a standby never receives SCIM requests.
    await leaderLabel.set(false);
  }
  const unlabel = async () =>
    leaderLabel?.set(false).catch((error: unknown) => logger.error({ err: (error as Error).message }, 'could not remove the leader label'));

  const runManager = async () => {
    await manager.start();
    // Without election this replica does the work: it leads (the elector sets the gauge otherwise).
    if (!options.leaderElect) metrics.leader.set(1);
    await startScim();
    // Only once SCIM is served does the Service send requests here. Without the label the
    // controllers still work; only inbound SCIM through the Service is cut off, hence an error.
    await leaderLabel?.set(true).catch((error: unknown) => logger.error({ err: (error as Error).message }, 'could not label this pod as the leader'));
    started = true;
    logger.info('controllers started');
  };
  if (options.leaderElect) {
    const { LeaderElector } = await import('../process/leader-election.ts');
    const { CoordinationV1Api } = await import('@kubernetes/client-node');
    const elector = new LeaderElector({
      api: kubeconfig!.makeApiClient(CoordinationV1Api),
      namespace: leaseNamespace,
      name: 'rollcall-leader',
      logger,
      metrics,
    });
    let shuttingDown = false;
    // A standby replica is ready too (as in controller-runtime): otherwise a rollout of two replicas never completes.
    started = true;
    // release() stops the controllers (onStoppedLeading) before it frees the Lease.
    onShutdown(async () => {
      shuttingDown = true;
      await elector.release();
      await health?.close();
    });
    await elector.run({
      onStartedLeading: async () => runManager(),
      onStoppedLeading: async () => {
        // First, so the Service stops sending requests before the SCIM server closes.
        await unlabel();
        await stopScim().catch(() => undefined);
        await manager.stop().catch(() => undefined);
      },
    });
    if (elector.startFailure !== undefined) {
      // The Lease is released already: another replica takes over now, not after the lease expires.
      logger.error({ err: errorMessage(elector.startFailure) }, 'the controllers failed to start; released the lease and exiting');
      await health?.close();
      process.exit(1);
    }
    if (!shuttingDown) {
      logger.error('lost leadership; exiting so a fresh process can rejoin');
      process.exit(1);
    }
  } else {
    onShutdown(async () => {
      await unlabel();
      await stopScim();
      await manager.stop();
      await health?.close();
    });
    await runManager();
  }
  await new Promise(() => undefined);
  return 0;
}

/** The effective configuration, defaults filled in, as the start-up line shows it. */
function startupConfig(options: RunOptions): Record<string, unknown> {
  return {
    mode: options.manifests ? 'manifests' : 'cluster',
    ...(options.manifests
      ? { manifests: options.manifests, state: options.state ?? defaultStatePath(options.manifests), once: options.once }
      : { kubeconfig: options.kubeconfig ?? 'default' }),
    namespaces: options.namespaces?.length ? options.namespaces : 'all',
    healthPort: options.healthPort ?? null,
    scimPort: options.scimPort ?? null,
    scimTls: options.scimTlsCert !== undefined && options.scimTlsKey !== undefined,
    metricsSystemLabels: options.metricsSystemLabels ?? false,
    leaderElect: options.manifests ? false : options.leaderElect,
    ...(options.manifests ? {} : { leaseNamespace: options.leaseNamespace ?? options.namespaces?.[0] ?? 'default', leaderPod: options.leaderPod ?? null }),
    kubernetesAllow: options.kubernetesAllow ?? [],
    kubernetesBindableClusterRoles: options.kubernetesBindableClusterRoles ?? ['view'],
    kubernetesOperatorRoles: options.kubernetesOperatorRoles ?? [],
    clusterCidrs: options.clusterCidrs ?? [],
    feedMaxBytes: options.feedMaxBytes ?? null,
    ...(options.manifests ? {} : { requestTimeoutMs: options.requestTimeoutMs ?? null, watchSilentAfterMs: options.watchSilentAfterMs ?? null }),
    logFormat: options.logFormat ?? 'json',
  };
}

/** The state the previous run left, then the files applied over it; and the file that keeps it from now on. */
function openEmbedded(manifests: string, statePath: string, watch: boolean, logger: Logger) {
  // A bad object costs only itself, as in a cluster: the rest of the directory is applied.
  // Write-ahead: every declared User is claimed (the finalizer) before the controllers run, and a
  // connector write waits until the state file holds every claim made so far: one write per batch.
  // First passwords (spec.credentials.policy initialPassword) go beside the state file, one 0600 file
  // each: with no cluster, that is where the person who runs Rollcall finds them.
  const ownedSecretsDirectory = initialPasswordsDirectory(statePath);
  const { store, directory } = openEmbeddedStore(manifests, statePath, { watch, logger, partial: true, claimDeclaredUsers: FINALIZER, ownedSecretsDirectory });
  const state = new StateFile(statePath, store, { logger, manifests });
  store.persistWith(() => state.ahead());
  return { store, directory, state };
}

interface PassOutcome {
  /** "what: why" for every system that could not be reached and every account in error. */
  failed: string[];
  /** Accounts whose deprovision the deletion guard holds. */
  held: string[];
  /** Declarations that work but are likely mistakes: the warnings their conditions carry. */
  warnings: string[];
}

/** Conditions that warn a person while nothing fails: a selector taking everyone, a role not found, plaintext, a refused entitlement. */
const WARNING_CONDITIONS: Record<string, (c: Condition) => boolean> = {
  SelectsEveryUser: (c) => c.status === 'True',
  Refused: (c) => c.status === 'True',
  Ready: (c) => c.status === 'False' && c.reason === 'RoleNotFound',
  Insecure: (c) => c.status === 'True',
};

function warningsOf(kind: string, object: { metadata: { namespace?: string; name: string }; status?: { conditions?: Condition[] } }): string[] {
  return (object.status?.conditions ?? [])
    .filter((c) => WARNING_CONDITIONS[c.type]?.(c))
    .map((c) => `${kind} ${object.metadata.namespace}/${object.metadata.name}: ${c.message}`);
}

/** What a converging pass left undone, read from the statuses the controllers wrote. */
function passOutcome(store: Store): PassOutcome {
  const failed: string[] = [];
  const held: string[] = [];
  const warnings = store.list('AccessBinding').flatMap((binding) => warningsOf('AccessBinding', binding));
  for (const system of store.list('ConnectedSystem')) {
    warnings.push(...warningsOf('ConnectedSystem', system));
    const ready = system.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready?.status === 'False' && ready.reason !== 'Suspended')
      failed.push(`ConnectedSystem ${system.metadata.namespace}/${system.metadata.name}: ${ready.message}`);
  }
  for (const user of store.list('User')) {
    warnings.push(...warningsOf('User', user));
    let explained = false;
    for (const account of user.status?.accounts ?? []) {
      const what = `User ${user.metadata.namespace}/${user.metadata.name} in ${account.system}`;
      if (account.state === 'error') failed.push(`${what}: ${account.message ?? 'failed'}`);
      else if (account.message?.includes('held by the deletion guard')) held.push(what);
      else continue;
      explained = true;
    }
    // Not Ready for another reason (a userName another User holds, a refused entitlement, a sync
    // that never finished): a failure too, so the run cannot end in success while a User is not as declared.
    const ready = readyOf(user);
    if (explained || ready?.status === 'True') continue;
    const what = `User ${user.metadata.namespace}/${user.metadata.name}`;
    if (ready?.reason === 'SystemSuspended' || ready?.reason === 'DeletionGuardTripped') held.push(`${what}: ${ready.message}`);
    else failed.push(`${what}: ${ready ? `${ready.reason}: ${ready.message}` : 'not reconciled'}`);
  }
  return { failed, held, warnings };
}

function printOutcome({ failed, held, warnings }: PassOutcome, out: Output): void {
  if (warnings.length) out.line(`\n${warnings.length} warning(s):\n${warnings.map((w) => `  ${printable(w)}`).join('\n')}`);
  if (held.length)
    out.line(
      `\n${held.length} deprovision(s) held by the deletion guard (see the ConnectedSystem's DeletionGuardTripped condition to approve):\n${held.map((h) => `  ${printable(h)}`).join('\n')}`,
    );
  if (failed.length) out.line(`\n${failed.length} failure(s); these accounts are not as declared:\n${failed.map((f) => `  ${printable(f)}`).join('\n')}`);
}

function readyOf(user: User): Condition | undefined {
  return user.status?.conditions?.find((c) => c.type === 'Ready');
}

/** The longest reason shown on a summary line; the whole message is in the failures below and in the status. */
const REASON_CHARS = 160;

export /** Invalid manifests: not applied; one declared before keeps its previous version (not deleted). */
function printInvalid(directory: { problems: readonly string[]; kept: readonly string[] }, out: Output): void {
  if (directory.problems.length)
    out.line(`\n${directory.problems.length} invalid manifest(s), not applied:\n${directory.problems.map((p) => `  ${printable(p)}`).join('\n')}`);
  if (directory.kept.length)
    out.line(
      `\n${directory.kept.length} object(s) keep their previous version until their manifest is valid again:\n${directory.kept.map((k) => `  ${printable(k)}`).join('\n')}`,
    );
}

function printSummary(users: readonly User[], out: Output): void {
  out.line('\nUSER         STATE       READY  SYSTEMS  ACCOUNTS');
  for (const user of [...users].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
    const ready = readyOf(user);
    const accounts = (user.status?.accounts ?? [])
      .map(
        (a) =>
          `${a.system}: ${a.state}${a.entitlements?.length ? ` [${a.entitlements.map(printable).join(', ')}]` : ''}${a.message ? ` (${printable(a.message)})` : ''}`,
      )
      .join('; ');
    // A User that is not Ready says why on its own line, whatever its accounts show.
    const why = ready?.status === 'True' ? '' : ` -- ${ready ? shorten(`${ready.reason}: ${ready.message}`) : 'not reconciled yet'}`;
    out.line(
      `${printable(user.metadata.name).padEnd(12)} ${(user.status?.state ?? user.spec.state).padEnd(11)} ${(ready?.status ?? 'Unknown').padEnd(6)} ${(user.status?.systems ?? '-').padEnd(8)} ${accounts || '-'}${printable(why)}`,
    );
  }
}

function shorten(text: string): string {
  return text.length <= REASON_CHARS ? text : `${text.slice(0, REASON_CHARS - 3)}...`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
