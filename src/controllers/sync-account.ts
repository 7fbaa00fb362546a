// Brings one user's account in one system to the desired state: observe, plan (the engine's
// accountPlan), and apply through applyChanges (the deletion guard, the audit line, the Event).
import {
  errorMessage,
  failureScope,
  PermanentError,
  type AccountChange,
  type AccountStatus,
  type Capabilities,
  type ConnectedSystem,
  type DesiredAccount,
  type ObservedAccount,
  type Snapshot,
  type User,
} from '../api/index.ts';
import { systemRefusal } from '../connections/refusal.ts';
import type { Connector } from '../connectors/types.ts';
import { accountPlan, inDeclaredSpelling, planOptions, type Refusal } from '../engine/index.ts';
import { yieldIfBusy } from '../queue/yield.ts';
import { applyChanges, recordEvents, type ApplyContext } from './apply-change.ts';
import { keyOf, keyString } from '../store/store.ts';
import { entitlementSource } from './change-source.ts';
import type { ControllerContext } from './context.ts';
import { describeChange } from '../api/describe-change.ts';
import { withInitialPassword, type InitialPasswordDelivery } from './initial-password.ts';

export interface AccountSyncResult {
  status: AccountStatus;
  changes: AccountChange[];
  /** Set when the sync failed. */
  error?: unknown;
  /** Set when the system's deletion guard held this account's deprovision. */
  held?: string;
  /**
   * Entitlements the roles grant that this system refuses, each with why: spec.allowedEntitlements,
   * the system's own rules (PostgreSQL's predefined and elevated roles), the connector's reach.
   */
  refused: Refusal[];
  /** Set when an account with this userName exists that is not this system's and may not be taken over. */
  conflict?: string;
  /** Set when this sync delivered a first password (spec.credentials.policy initialPassword): its Secret and expiry. */
  delivery?: InitialPasswordDelivery;
}

/** Thrown inside the system's slot to skip the account's changes; never leaves this file. */
class HeldByGuard {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

/**
 * `user` is the User as the engine saw it (deprovision clock applied); `desired` its account here.
 * `takeSnapshot` reads the namespace and the instant once, when the sync's turn comes (inside its
 * system's slot), not when it was queued: thousands of syncs waiting behind a slow system would
 * otherwise each hold a copy of the namespace's ten thousand Users.
 */
export async function syncAccount(
  ctx: ApplyContext & Pick<ControllerContext, 'connections'>,
  takeSnapshot: () => Snapshot,
  user: User,
  system: ConnectedSystem,
  desired: DesiredAccount,
  previous: AccountStatus | undefined,
  signal: AbortSignal,
): Promise<AccountSyncResult> {
  const systemKey = keyString(keyOf(system));
  let taken: Snapshot | undefined;
  const snapshot = (): Snapshot => (taken ??= takeSnapshot());
  const applied: AccountChange[] = [];
  let wanted = desired;
  let conflict: string | undefined;
  let adopted: AccountStatus['adopted'];
  let refused: Refusal[] = [];
  let capabilities: Capabilities | undefined;
  let attempts = 0;
  let delivery: InitialPasswordDelivery | undefined;
  // A leaver's (or an expiry's) writes that cut access off go first, in one turn of the system's
  // slot; what remains, and the read-back, wait in a second turn behind every cut-off queued for the
  // system: in a burst of leavers each one is cut off before any of them is read back.
  const urgent = takesAccessAway(desired, previous);
  let followUp: FollowUp | undefined;
  try {
    const first = await ctx.connections.use(
      system,
      async (connector) => {
        // Connections may run this once more after an ambiguous failure; what the first try wrote is
        // not in the cache yet, so the second reads the account again.
        const cached = attempts++ === 0 ? ctx.observed.get(systemKey, desired.userName) : undefined;
        // A listing holds only this system's accounts: "absent" there may still be an account with this
        // userName that is someone else's, legacy-marked or unmanaged. Read it when that matters (before a
        // create, and for an account Rollcall held: a legacy-marked leaver must still be cut off), unless
        // the listing also saw every name in the system and not this one.
        const outside = cached === null && ctx.observed.mayExistOutsideScope(systemKey, desired.userName);
        const reread = cached === undefined || (outside && (desired.state === 'present' || (previous !== undefined && previous.state !== 'absent')));
        const before = reread ? await connector.getAccount(desired.userName, signal) : (cached ?? undefined);
        capabilities = connector.capabilities;
        // The guard counts other Users' revokes too: it knows what the connector refuses on its own.
        ctx.gate.knowRefusal(system, connector.refusal?.bind(connector));
        const refusal = await systemRefusal(connector, desired.state === 'present' ? desired.entitlements : [], signal);
        const options = planOptions(system, refusal);
        const converge = async (observed: ObservedAccount | undefined): Promise<ObservedAccount | undefined | typeof FOLLOW_UP> => {
          const plan = accountPlan(user, desired, observed, connector.capabilities, options);
          wanted = plan.desired;
          refused = [...(desired.refused ?? []), ...plan.refused];
          if (plan.conflict) {
            conflict = plan.conflict;
            return undefined;
          }
          adopted = plan.adopts;
          const { deprovisions } = plan;
          // Write-ahead: the Secret that delivers a first password exists before the create that sets it.
          const prepared = await withInitialPassword(ctx, user, system, connector.capabilities, plan.changes, snapshot().now);
          const { cutOff, rest } = urgent ? cutOffFirst(prepared.changes) : { cutOff: prepared.changes, rest: [] };
          delivery = prepared.delivery ?? delivery;
          const request = { system, userName: desired.userName, origin: { kind: 'user', user } as const, applied, snapshot: snapshot() };
          const outcome = await applyChanges(ctx, { ...request, connector, changes: cutOff, deprovisions, deferEvents: rest.length > 0 }, signal);
          if (outcome.held) throw new HeldByGuard(outcome.message);
          if (plan.changes.length === 0) return observed;
          const cutOffMade = applied.slice();
          // The rest of the changes, then one read-back: the cache must hold what the system really has (ids, defaults).
          const finish = async (connector: Connector): Promise<ObservedAccount | undefined> => {
            if (rest.length) await applyChanges(ctx, { ...request, connector, changes: rest, deprovisions: false, earlier: cutOffMade }, signal);
            await yieldIfBusy();
            const after = await connector.getAccount(desired.userName, signal);
            ctx.observed.set(systemKey, desired.userName, after ?? null);
            // Ready means read back: what the system holds after the writes is what is declared, or the
            // pass failed (a server that answers 2xx and keeps nothing, a write lost to a concurrent one).
            const remaining = accountPlan(user, desired, after, connector.capabilities, options).changes;
            if (remaining.length > 0) {
              throw new PermanentError(
                `read back after writing, the account still differs from what is declared (${remaining.map(describeChange).join(', ')}): the system did not keep the write`,
                { scope: 'account' },
              );
            }
            return after;
          };
          if (!urgent) return finish(connector);
          followUp = { finish, eventWaits: rest.length > 0 ? { request, made: cutOffMade } : undefined };
          return FOLLOW_UP;
        };
        try {
          return await converge(before);
        } catch (error) {
          // Created unread because the listing saw no account of this name: one made since (by a person,
          // another tool, another system) fails the create, which never takes over what it does not
          // manage. Read it and decide as a read before the create would have: adopt, or a conflict.
          if (reread || before !== undefined || applied.length > 0 || failureScope(error) !== 'account') throw error;
          const found = await connector.getAccount(desired.userName, signal);
          if (found === undefined) throw error;
          // Until the next listing sees the name, this User's account is read first, not created again.
          ctx.observed.invalidate(systemKey, desired.userName);
          return await converge(found);
        }
      },
      { account: desired.userName, urgent },
    );
    const observed = first === FOLLOW_UP ? await followUpTurn(ctx, system, desired.userName, followUp!) : first;
    if (conflict !== undefined) {
      const message = `${system.metadata.name}: ${conflict}`;
      return { status: { system: system.metadata.name, state: 'error', message: conflict }, changes: applied, conflict: message, refused };
    }
    const drifted = driftCorrections(applied, previous, wanted, user);
    if (drifted.length > 0) {
      ctx.metrics?.driftCorrections.inc({ system: systemKey });
      await ctx.store.recordEvent('User', user, 'Normal', 'DriftCorrected', `${system.metadata.name}: ${drifted.map(describeChange).join(', ')}`);
    }
    const status = accountStatus(system.metadata.name, wanted, observed, previous, applied.length > 0, snapshot().now, capabilities);
    if (adopted && applied.some((c) => c.op === 'adopt')) {
      status.adopted = adopted;
      status.adoptedAt = snapshot().now.toISOString();
      // The system says what it took over too: a team bringing a directory under Rollcall watches there.
      await ctx.store.recordEvent(
        'ConnectedSystem',
        system,
        'Normal',
        'AccountAdopted',
        `${desired.userName} adopted for User ${user.metadata.name} (${adopted})`,
      );
    } else if (observed && previous?.adopted) {
      // One adopted by a pass whose status this one's cache has not seen yet is carried over when the status is written.
      status.adopted = previous.adopted;
      if (previous.adoptedAt) status.adoptedAt = previous.adoptedAt;
    }
    if (refused.length) {
      refused = withDeclarations(snapshot(), user, system.metadata.name, refused);
      status.message = refusalMessage(refused);
      if (previous?.message !== status.message) await ctx.store.recordEvent('User', user, 'Warning', 'Refused', `${system.metadata.name}: ${status.message}`);
    }
    return { status, changes: applied, refused, ...(delivery && { delivery }) };
  } catch (error) {
    if (error instanceof HeldByGuard) {
      const message = `deprovision held by the deletion guard: ${error.message}`;
      return { status: { ...(previous ?? { system: system.metadata.name, state: 'present' }), message }, changes: applied, held: message, refused };
    }
    const message = errorMessage(error);
    ctx.logger.warn({ user: user.metadata.name, system: systemKey, err: message }, 'account sync failed');
    if (previous?.message !== message) {
      await ctx.store.recordEvent('User', user, 'Warning', 'SyncFailed', `${system.metadata.name}: ${message}`);
    }
    // What the cache holds may be stale now: this account if the failure was its own (a change the
    // system refused), the whole system if it could not be reached (its next listing refreshes it).
    if (failureScope(error) === 'account') ctx.observed.invalidate(systemKey, desired.userName);
    else ctx.observed.forget(systemKey);
    // An adoption that went through before the failure stays on record: the next pass finds the account already ours.
    const adoptedNow = adopted !== undefined && applied.some((c) => c.op === 'adopt');
    const adoption: Pick<AccountStatus, 'adopted' | 'adoptedAt'> = {};
    if (adoptedNow) Object.assign(adoption, { adopted, adoptedAt: snapshot().now.toISOString() });
    else if (previous?.adopted) Object.assign(adoption, { adopted: previous.adopted }, previous.adoptedAt ? { adoptedAt: previous.adoptedAt } : {});
    return {
      status: { ...errorStatus(system.metadata.name, previous, message), ...adoption },
      changes: applied,
      error,
      refused,
      // A Secret written for a create that then failed is still recorded, so its ttl deletes it.
      ...(delivery && { delivery }),
    };
  }
}

/** What an urgent sync does in its second turn, and the cut-off's Event when it waits for the rest. */
interface FollowUp {
  finish: (connector: Connector) => Promise<ObservedAccount | undefined>;
  eventWaits: { request: Parameters<typeof recordEvents>[1]; made: readonly AccountChange[] } | undefined;
}

/** The first turn's answer when a second one follows. */
const FOLLOW_UP = Symbol('follow-up');

/**
 * The second turn of an urgent sync. The cut-off's Event was deferred to be recorded with the rest
 * of the changes; if the rest never got to be written (the system failed in between), it is recorded alone.
 */
async function followUpTurn(
  ctx: ApplyContext & Pick<ControllerContext, 'connections'>,
  system: ConnectedSystem,
  account: string,
  followUp: FollowUp,
): Promise<ObservedAccount | undefined> {
  let ran = false;
  try {
    return await ctx.connections.use(
      system,
      (connector) => {
        ran = true;
        return followUp.finish(connector);
      },
      { account, urgent: true, followUp: true },
    );
  } finally {
    if (!ran && followUp.eventWaits) await recordEvents(ctx, followUp.eventWaits.request, followUp.eventWaits.made);
  }
}

/**
 * The changes written in the first turn: a leaver's disable or delete alone (the account stops
 * opening; its revokes follow in the second turn). Any other sync that takes access away (an expiry's
 * revokes, a mover's grants and revokes) writes all its changes in the plan's order, grants before
 * revokes so a mover's access never dips, and only its read-back waits for the second turn.
 */
export function cutOffFirst(changes: readonly AccountChange[]): { cutOff: AccountChange[]; rest: AccountChange[] } {
  const ends = (change: AccountChange) => change.op === 'disable' || change.op === 'delete';
  if (!changes.some(ends)) return { cutOff: [...changes], rest: [] };
  return { cutOff: changes.filter(ends), rest: changes.filter((change) => !ends(change)) };
}

/** A leaver, or a grant that ended (an expiry, a mover's revoke): goes ahead of the system's other work. */
export function takesAccessAway(desired: DesiredAccount, previous: AccountStatus | undefined): boolean {
  if (desired.state !== 'present') return true;
  const kept = new Set(desired.entitlements);
  return (previous?.entitlements ?? []).some((entitlement) => !kept.has(entitlement));
}

/** The account in error: what the last successful sync recorded (id, entitlements, time), and why. */
export function errorStatus(system: string, previous: AccountStatus | undefined, message: string): AccountStatus {
  return { system, id: previous?.id, state: 'error', entitlements: previous?.entitlements, lastSyncTime: previous?.lastSyncTime, message };
}

/** What the User's status says of the entitlements the system refused. */
export function refusalMessage(refused: readonly Refusal[]): string {
  return `refused ${refused.map(refusalText).join('; ')}`;
}

/** `db-admin (AccessRole dba, AccessBinding dba-team): why`: what was refused, where it was declared, and why. */
export function refusalText(refusal: Refusal): string {
  return `${refusal.entitlement}${refusal.declaredBy ? ` (${refusal.declaredBy})` : ''}: ${refusal.reason}`;
}

/** Each refusal with the declarations that grant the entitlement, so a person knows what to edit. */
function withDeclarations(snapshot: Snapshot, user: User, system: string, refused: readonly Refusal[]): Refusal[] {
  return refused.map((refusal) => ({ ...refusal, declaredBy: entitlementSource(snapshot, user, system, refusal.entitlement) }));
}

/**
 * The applied changes that corrected drift: the system differed from what Rollcall last recorded
 * while the declaration had not changed. A change the declaration asked for (a mover's new roles or
 * department, a new e-mail address) is not drift. Access: the status already recorded the desired
 * state and entitlements. Attributes (not kept in the status): the User's spec is the one the last
 * pass saw (observedGeneration), so only the system can have changed.
 */
function driftCorrections(applied: readonly AccountChange[], previous: AccountStatus | undefined, desired: DesiredAccount, user: User): AccountChange[] {
  if (!previous || previous.state === 'error') return [];
  const accessRecorded = previous.state === desired.state && sameList(previous.entitlements ?? [], desired.entitlements);
  const specSeen = user.metadata.generation !== undefined && user.status?.observedGeneration === user.metadata.generation;
  return applied.filter((change) => (change.op === 'update' ? specSeen : accessRecorded));
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function accountStatus(
  system: string,
  desired: DesiredAccount,
  observed: ObservedAccount | undefined,
  previous: AccountStatus | undefined,
  changed: boolean,
  now: Date,
  capabilities: Capabilities | undefined,
): AccountStatus {
  const held = observed?.entitlements ?? [];
  const status: AccountStatus = {
    system,
    state: observed ? observed.state : 'absent',
    // As declared: the directory's `engineering` is the User's `Engineering` (Capabilities.comparison).
    entitlements: capabilities ? inDeclaredSpelling(held, desired.entitlements, capabilities) : held,
    lastSyncTime: changed || !previous?.lastSyncTime ? now.toISOString() : previous.lastSyncTime,
  };
  if (observed?.id) status.id = observed.id;
  if (status.state === 'disabled') status.disabledAt = previous?.state === 'disabled' && previous.disabledAt ? previous.disabledAt : now.toISOString();
  // An implicit account (Kubernetes RBAC) exists only through its grants.
  if (!observed && desired.state === 'present' && desired.entitlements.length === 0) status.state = 'present';
  return status;
}
