// The one way a change reaches a connected system, whoever asks for it: a User's sync, the orphan
// policy, or the deletion of the system itself (deletionPolicy deprovision). Whatever the origin,
// the same rules hold: a change that takes access away is admitted by the deletion guard first (and
// joins its window before it is written), the event loop is yielded between writes, every write is
// counted and logs exactly one audit line, an account's written changes record one Event, and a
// failure is scoped (the system's own failure stays the system's; one change's failure names where
// the change came from).
// Nothing else in src/ calls Connector.apply.
import {
  changeUserName,
  errorMessage,
  failedAttributes,
  failureScope,
  withMessage,
  type AccountChange,
  type ConnectedSystem,
  type Snapshot,
  type User,
} from '../api/index.ts';
import type { Connector } from '../connectors/types.ts';
import { takesAccess, type GuardDecision } from '../engine/index.ts';
import { yieldIfBusy } from '../queue/yield.ts';
import { keyOf, keyString } from '../store/store.ts';
import { auditLine, orphanAuditLine, retentionAuditLine, systemDeletionAuditLine, type AuditLine } from './audit-trail.ts';
import { changeSource } from './change-source.ts';
import type { ControllerContext } from './context.ts';
import { describeChange, strongestReason } from '../api/describe-change.ts';

/** What applying a change needs: the guard and its inputs, the store for Events, the logger and metrics. */
export type ApplyContext = Pick<ControllerContext, 'store' | 'observed' | 'gate' | 'enqueue' | 'logger' | 'metrics' | 'onApplied'>;

/** Who asks for the change: decides the audit line's cause and where the Event goes. */
export type ChangeOrigin =
  /** The User's sync: its bindings, roles and state are the cause; the Event goes on the User. */
  | { kind: 'user'; user: User }
  /** The system's orphan policy (spec.orphans) on an account no User declares. */
  | { kind: 'orphan' }
  /** The system is being deleted under deletionPolicy deprovision. */
  | { kind: 'systemDeletion' }
  /** A deleted User's disabled account whose retention ended (the system's status.retainedAccounts). */
  | { kind: 'retention'; user: string };

export interface AccountChanges {
  system: ConnectedSystem;
  /** The system's connector, held within Connections.use (its concurrency limit and circuit). */
  connector: Connector;
  /** The account the changes are made to. */
  userName: string;
  changes: readonly AccountChange[];
  /** The changes take access away as a new loss (AccountPlan.deprovisions): the guard must admit them first. */
  deprovisions: boolean;
  /** Other accounts the same pass deprovisions, counted with this one (the orphans, or a deleted system's accounts). */
  pass?: readonly string[];
  origin: ChangeOrigin;
  /** Each change is pushed here once written, so the caller knows what went through even when a later one fails. */
  applied: AccountChange[];
  /** The asking reconcile's objects and instant: the guard decides, and the audit line explains, from these. */
  snapshot: Snapshot;
  /**
   * The account's Event waits for the rest of its changes (a leaver's cut-off, written before the
   * rest: sync-account.ts); the caller records it with them, through `earlier`, or alone (recordEvents).
   */
  deferEvents?: boolean;
  /** This account's changes written earlier in the same sync whose Event was deferred: recorded with these. */
  earlier?: readonly AccountChange[];
}

/** A change the connector found already made: nothing was written, so nothing is reported as done. */
interface SkippedChange {
  change: AccountChange;
  reason: string;
}

/** Made, or held by the deletion guard with its decision (then nothing was written). */
export type ApplyOutcome = { held: false } | { held: true; message: string; decision: GuardDecision };

/**
 * Applies one account's changes to the system. Held by the deletion guard: nothing is written.
 * Throws the first failure, scoped (see the file's comment), after the writes before it were recorded.
 */
export async function applyChanges(ctx: ApplyContext, request: AccountChanges, signal: AbortSignal): Promise<ApplyOutcome> {
  const { system, connector, userName, changes, origin, applied } = request;
  const systemKey = keyString(keyOf(system));
  if (request.deprovisions) {
    const pass = origin.kind === 'orphan' ? { orphans: request.pass ?? [] } : { accounts: request.pass ?? [] };
    const decision = await ctx.gate.admit(ctx, system, connector.capabilities, userName, request.snapshot, pass);
    if (decision.verdict.tripped) {
      // The system's reconcile writes the condition, unless its status shows this verdict already.
      if (!showsVerdict(ctx.store.get('ConnectedSystem', keyOf(system)) ?? system, decision.verdict.message)) ctx.enqueue('ConnectedSystem', keyOf(system));
      return { held: true, message: decision.verdict.message, decision };
    }
    ctx.enqueue('ConnectedSystem', keyOf(system)); // keeps the window in its status
  }
  const start = applied.length;
  const skipped: SkippedChange[] = [];
  // Write-ahead: the finalizer that lets a later run undo these changes is durable before they are
  // made. Concurrent syncs share one write of the state file (StateFile.flush), not one each.
  if (changes.length) await ctx.store.durable?.();
  let failed = true;
  try {
    for (const change of changes) {
      // A connector that answers synchronously (the embedded sqlite file) would otherwise run a
      // whole batch of writes in one turn of the loop.
      await yieldIfBusy();
      try {
        const result = await connector.apply(change, signal);
        ctx.metrics?.connectorOperations.inc({ system: systemKey, op: change.op, result: 'success' });
        // Someone made it between our read and our write: no audit line, no Event, not counted as applied.
        if (result?.skipped !== undefined) {
          skipped.push({ change, reason: result.skipped });
          continue;
        }
      } catch (error) {
        ctx.metrics?.connectorOperations.inc({ system: systemKey, op: change.op, result: 'error' });
        // The system's own failure says nothing about this account; one of this change says where it came from.
        throw failureScope(error) === 'system'
          ? error
          : withMessage(error, `${source(request, change, failedAttributes(error))} failed: ${errorMessage(error)}`);
      }
      applied.push(change);
      audit(ctx, request, change);
    }
    failed = false;
  } finally {
    const made = applied.slice(start);
    // A User's sync writes through what it read back (sync-account.ts); the system's own passes
    // (orphans, retention, a deleted system) made changes after the listing the cache holds: a
    // deleted account is known gone, any other is read afresh. Otherwise a rehire after its old
    // account's retention ended would be planned against the account as it was.
    if (origin.kind !== 'user' && made.length) {
      if (made.some((change) => change.op === 'delete')) ctx.observed.set(systemKey, userName, null);
      else ctx.observed.invalidate(systemKey, userName);
    }
    // A failure ends the sync here: nothing will record a deferred Event later.
    if (!request.deferEvents || failed) await recordEvents(ctx, request, [...(request.earlier ?? []), ...made]);
    if (made.length || skipped.length) {
      const { namespace } = keyOf(system);
      const user = origin.kind === 'user' ? origin.user.metadata.name : userName;
      ctx.onApplied?.({
        namespace,
        user,
        system: system.metadata.name,
        changes: made,
        descriptions: made.map(describeChange),
        ...(skipped.length && { skipped: skipped.map((s) => `${describeChange(s.change)} (${s.reason})`) }),
        ...(origin.kind === 'orphan' && { orphan: true }),
      });
    }
  }
  return { held: false };
}

/** The change in the words of whoever asked: `User bob: grant db-admin (AccessRole dba, ...)`, `orphan old-bob: disable account`. */
function source(
  { system, origin, snapshot }: Pick<AccountChanges, 'system' | 'origin' | 'snapshot'>,
  change: AccountChange,
  refused?: readonly string[],
): string {
  const description = describeChange(change);
  switch (origin.kind) {
    case 'user':
      return changeSource(snapshot, origin.user, system.metadata.name, change, refused);
    case 'orphan':
      return `orphan ${changeUserName(change)}: ${description}`;
    case 'systemDeletion':
      return `system deleted (deletionPolicy deprovision) ${changeUserName(change)}: ${description}`;
    case 'retention':
      return `retention ended for deleted User ${origin.user} (${changeUserName(change)}): ${description}`;
  }
}

/** The one audit line of a change that was written: the per-change trail. */
function audit(ctx: ApplyContext, request: AccountChanges, change: AccountChange): void {
  const { system, origin } = request;
  const line: AuditLine =
    origin.kind === 'user'
      ? auditLine(request.snapshot, origin.user, system.metadata.name, change)
      : origin.kind === 'orphan'
        ? orphanAuditLine(system, change)
        : origin.kind === 'retention'
          ? retentionAuditLine(system, change, origin.user)
          : systemDeletionAuditLine(system, change);
  ctx.logger.info(line, origin.kind === 'user' ? describeChange(change) : source(request, change));
}

/**
 * The Events of an account's written changes: one per account and place, named after its strongest
 * change (strongestReason), listing them all; the audit line has each one. An Event goes where a
 * person looks for it, and so that converging ten thousand Users writes a handful of Events, not one
 * per change (the store's correlator counts repeats and folds similar ones): a User's loss of access
 * (a leaver, a mover's revoke) and an adoption (an existing account, with what it holds, becomes the
 * User's) on the User; the routine changes (a joiner's create and grants, an update) on the system,
 * as a ReplicaSet records the Pods it created.
 */
export async function recordEvents(
  ctx: ApplyContext,
  request: Pick<AccountChanges, 'system' | 'origin' | 'snapshot'>,
  made: readonly AccountChange[],
): Promise<void> {
  const { system, origin } = request;
  const words = (changes: readonly AccountChange[]) => changes.map(describeChange).join(', ');
  if (origin.kind !== 'user') {
    if (made.length) await ctx.store.recordEvent('ConnectedSystem', system, 'Normal', strongestReason(made), made.map((c) => source(request, c)).join('; '));
    return;
  }
  const onUser = made.filter((change) => takesAccess(change) || change.op === 'adopt');
  const routine = made.filter((change) => !onUser.includes(change));
  if (onUser.length) await ctx.store.recordEvent('User', origin.user, 'Normal', strongestReason(onUser), `${system.metadata.name}: ${words(onUser)}`);
  if (routine.length) {
    await ctx.store.recordEvent('ConnectedSystem', system, 'Normal', strongestReason(routine), `User ${origin.user.metadata.name}: ${words(routine)}`);
  }
}

/** The system's status shows the guard tripped with this message (the count a person is asked to approve). */
function showsVerdict(system: ConnectedSystem, message: string): boolean {
  const condition = system.status?.conditions?.find((c) => c.type === 'DeletionGuardTripped');
  return condition?.status === 'True' && condition.message === message;
}
