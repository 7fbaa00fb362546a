// The IdentitySource reconciler: reads the feed, lets src/sources decide the sync, applies it
// through the store (Users in the source's namespace, owned by the source and labelled with it),
// and says in status and Events what it did and what it refused. Runs again every spec.interval.
import type { IdentitySource, User } from '../api/index.ts';
import { PermanentError, RetryableError } from '../api/index.ts';
import { kubeTime, setCondition, statusEqual, type ConditionUpdate } from '../api/conditions.ts';
import { PrivateNetworkRefusedError } from '../connectors/egress/guard.ts';
import { parsePeriod } from '../engine/index.ts';
import { mapRecords, specProblems } from '../sources/map.ts';
import { APPROVE_CHANGES_ANNOTATION, SOURCE_LABEL, planSourceSync, sourceOwnership, type SourcePlan } from '../sources/plan.ts';
import { FeedError, Rejections } from '../sources/records.ts';
import { AlreadyExistsError, keyOf, keyString, type ObjectKey } from '../store/store.ts';
import type { ControllerContext } from './context.ts';
import { credentialsReason } from '../connections/credentials.ts';
import type { Reconciler } from './reconciler.ts';
import { sourcePrivateNetworkCondition } from './private-network.ts';
import { SourceDataRefusedError } from '../feeds/source-data.ts';
import { FeedReader } from '../feeds/source-feed.ts';
import { withTimeout } from '../connectors/timeout.ts';

/** Rejected records kept in status; the count covers all of them. */
const REJECTED_IN_STATUS = 10;

type Status = NonNullable<IdentitySource['status']>;

export interface SourceReconcilerOptions {
  /** Inbound SCIM is served (rollcall run --scim-port): sources of type scim are Ready. */
  scimServed?: boolean;
  feeds?: FeedReader;
  /** Longest a feed read may take (default READ_TIMEOUT_MS). */
  readTimeoutMs?: number;
}

/** Longest a whole feed read may take; each HTTP request has its own, shorter limit too. */
export const READ_TIMEOUT_MS = 120_000;

/** The condition reason for a refusal the source's owner must fix, or undefined for another failure. */
function refusalReason(error: unknown): string | undefined {
  if (error instanceof PrivateNetworkRefusedError) return 'PrivateNetworkRefused';
  if (error instanceof SourceDataRefusedError) return 'SourceDataRefused';
  return credentialsReason(error);
}

export function sourceReconciler(ctx: ControllerContext, options: SourceReconcilerOptions = {}): Reconciler {
  const feeds = options.feeds ?? new FeedReader(ctx.store, { logger: ctx.logger });
  return async (key, signal) => {
    const source = ctx.store.get('IdentitySource', key);
    if (!source || source.metadata.deletionTimestamp !== undefined) return {};
    const now = ctx.clock.now();
    const next = { requeueAt: new Date(now.getTime() + parsePeriod(source.spec.interval, '1s')) };

    if (source.spec.type === 'scim') {
      // The SCIM server (scim-server.ts) applies each request as it comes; here only the count and readiness.
      const users = ctx.store.list('User', key.namespace).filter((u) => u.metadata.labels?.[SOURCE_LABEL] === key.name).length;
      const ready: ConditionUpdate = options.scimServed
        ? {
            type: 'Ready',
            status: 'True',
            reason: 'Served',
            message: 'inbound SCIM is served at /scim/v2; authenticate with the token in spec.credentialsSecretRef',
          }
        : { type: 'Ready', status: 'False', reason: 'NotServed', message: 'start rollcall run with --scim-port to serve inbound SCIM' };
      await writeStatus(ctx, source, { users }, [ready]);
      return next;
    }
    const problems = specProblems(source.spec);
    if (problems.length > 0) {
      await writeStatus(ctx, source, {}, [{ type: 'Ready', status: 'False', reason: 'InvalidSpec', message: problems.join('; ') }]);
      return {};
    }

    const rejections = new Rejections(REJECTED_IN_STATUS);
    let plan: SourcePlan;
    try {
      // A bound on the whole read (every page, every redirect): a feed that accepts and never
      // answers holds one of its namespace's workers for this long at most.
      const readTimeoutMs = options.readTimeoutMs ?? READ_TIMEOUT_MS;
      const read = AbortSignal.any([signal, AbortSignal.timeout(readTimeoutMs)]);
      const records = await withTimeout(`reading the feed of IdentitySource ${key.name}`, readTimeoutMs, read, () => feeds.read(source, rejections, read));
      const mapped = mapRecords(records, source.spec, now, rejections);
      plan = planSourceSync(
        { name: key.name, namespace: key.namespace, spec: source.spec, annotations: source.metadata.annotations },
        mapped,
        ctx.store.list('User', key.namespace),
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const reason = refusalReason(error) ?? (error instanceof FeedError ? 'FeedUnreadable' : 'FeedUnreachable');
      // Nobody is created, changed or terminated on a feed that could not be read.
      await writeStatus(ctx, source, {}, [{ type: 'Ready', status: 'False', reason, message }]);
      await ctx.store.recordEvent('IdentitySource', source, 'Warning', 'SyncFailed', message);
      if (error instanceof FeedError) return next;
      if (error instanceof PermanentError) throw error;
      throw error instanceof RetryableError ? error : new RetryableError(message, { cause: error });
    }

    const applied = await apply(ctx, source, plan);
    if (plan.guard.approved) await ctx.store.setAnnotations('IdentitySource', key, { [APPROVE_CHANGES_ANNOTATION]: null });

    // Counted from the plan, not the cache: the cache may not have seen the Users just created.
    const ours = plan.guard.managed + applied.created;
    const counts: Partial<Status> = {
      lastSyncTime: kubeTime(now),
      users: ours,
      created: applied.created,
      updated: applied.updated,
      terminated: applied.terminated,
      unchanged: plan.unchanged.length,
      rejected: rejections.count,
      ...(rejections.first.length > 0 && { rejectedRecords: rejections.first }),
      ...(plan.guard.tripped && { pendingChanges: plan.guard.count }),
    };
    const guard: ConditionUpdate = plan.guard.tripped
      ? {
          type: 'ChangeGuardTripped',
          status: 'True',
          reason: 'TooManyTerminations',
          message: `this read would terminate or suspend ${plan.guard.count} of ${plan.guard.managed} Users (limit ${plan.guard.limit}); nothing was terminated. If that is right, annotate ${APPROVE_CHANGES_ANNOTATION}: "${plan.guard.count}"`,
        }
      : { type: 'ChangeGuardTripped', status: 'False', reason: 'WithinLimits', message: `${plan.guard.count} termination(s), limit ${plan.guard.limit}` };
    const conflict: ConditionUpdate = plan.collisions.length
      ? {
          type: 'Conflict',
          status: 'True',
          reason: 'NameHeldByAnother',
          message:
            plan.collisions
              .slice(0, 5)
              .map((c) => c.reason)
              .join('; ') + (plan.collisions.length > 5 ? `; and ${plan.collisions.length - 5} more` : ''),
        }
      : { type: 'Conflict', status: 'False', reason: 'NoConflict', message: 'no record names a User this source does not own' };
    const ready: ConditionUpdate = {
      type: 'Ready',
      status: 'True',
      reason: 'Synced',
      message: `created ${applied.created}, updated ${applied.updated}, terminated ${applied.terminated}, unchanged ${plan.unchanged.length}, rejected ${rejections.count}${plan.missingSkipped ? `; ${plan.missingSkipped}` : ''}`,
    };
    await writeStatus(ctx, source, counts, [ready, guard, conflict]);

    if (plan.guard.tripped && !wasTripped(source, plan.guard.count)) {
      await ctx.store.recordEvent('IdentitySource', source, 'Warning', 'GuardTripped', guard.message);
    }
    // Once per change in what is rejected, not at every read of the same feed.
    if (rejections.count > 0 && (rejections.count !== source.status?.rejected || !statusEqual(rejections.first, source.status?.rejectedRecords ?? []))) {
      const first = rejections.first
        .slice(0, 3)
        .map((r) => `${r.record}${r.field ? ` ${r.field}` : ''}: ${r.reason}`)
        .join('; ');
      await ctx.store.recordEvent('IdentitySource', source, 'Warning', 'RecordsRejected', `${rejections.count} record(s) rejected, e.g. ${first}`);
    }
    if (applied.created + applied.updated + applied.terminated > 0) await ctx.store.recordEvent('IdentitySource', source, 'Normal', 'Synced', ready.message);
    return next;
  };
}

async function apply(
  ctx: Pick<ControllerContext, 'store' | 'logger'>,
  source: IdentitySource,
  plan: SourcePlan,
): Promise<{ created: number; updated: number; terminated: number }> {
  const { namespace } = keyOf(source);
  const done = { created: 0, updated: 0, terminated: 0 };
  const log = ctx.logger.child({ source: keyString(keyOf(source)) });
  for (const create of plan.creates) {
    const user = {
      apiVersion: source.apiVersion,
      kind: 'User',
      metadata: { name: create.name, namespace, labels: create.labels, ...sourceOwnership(source) },
      spec: create.spec,
    } as User;
    try {
      await ctx.store.createUser(user);
      done.created++;
      log.info({ user: create.name }, 'created User');
    } catch (error) {
      // The cache had not seen it yet: the next sync compares it like any other.
      if (!(error instanceof AlreadyExistsError)) throw error;
    }
  }
  const patch = async (name: string, change: { patch: Parameters<typeof ctx.store.patchUser>[1]; resourceVersion?: string }): Promise<boolean> => {
    const key: ObjectKey = { namespace, name };
    return (await ctx.store.patchUser(key, change.patch, change.resourceVersion)) !== undefined;
  };
  for (const update of plan.updates) {
    if (await patch(update.name, update)) {
      done.updated++;
      log.info({ user: update.name, fields: update.fields, rehire: update.rehire }, update.rehire ? 'rehired User' : 'updated User');
    }
  }
  if (!plan.guard.tripped) {
    for (const termination of plan.terminations) {
      if (await patch(termination.name, termination)) {
        done.terminated++;
        log.info({ user: termination.name, state: termination.state, reason: termination.reason }, `${termination.state} User`);
      }
    }
  }
  return done;
}

function wasTripped(source: IdentitySource, count: number): boolean {
  const condition = source.status?.conditions?.find((c) => c.type === 'ChangeGuardTripped');
  return condition?.status === 'True' && source.status?.pendingChanges === count;
}

async function writeStatus(
  ctx: Pick<ControllerContext, 'store' | 'clock'>,
  source: IdentitySource,
  fields: Partial<Status>,
  updates: ConditionUpdate[],
): Promise<void> {
  const now = ctx.clock.now();
  let conditions = source.status?.conditions;
  for (const update of updates) conditions = setCondition(conditions, update, source.metadata.generation, now);
  conditions = sourcePrivateNetworkCondition(source, conditions, now);
  // A failed read keeps the last sync's counts: they still describe the Users.
  const kept = Object.keys(fields).length === 0 ? { ...source.status } : {};
  const status: Status = { ...kept, ...fields, observedGeneration: source.metadata.generation, conditions };
  if (!statusEqual(source.status ?? {}, status)) await ctx.store.updateStatus('IdentitySource', keyOf(source), status);
}
