// The one plan: everything a connected system will undergo in one pass, decided in one place.
// The reconcile loop applies it account by account (planAccountFor, decideSystemGuard), `rollcall plan`
// prints it whole (planSystemPass), and an audit reads it: all three call these functions, so
// what `plan` predicts is what `run` does.
import type {
  AccountChange,
  AdoptionPolicy,
  Capabilities,
  ConnectedSystem,
  DesiredAccount,
  ObservedAccount,
  RefusedEntitlement,
  User,
  World,
} from '../api/index.ts';

export type { World } from '../api/index.ts';
import { splitAllowed } from './allowed.ts';
import { ambiguousEntitlements } from './comparison.ts';
import { desiredAccounts } from './desired.ts';
import { deprovisionedUserNames, takesAccess } from './guard.ts';
import { isRestoringDeprovision, isRevertingHandGrant, withDeprovisionClock } from './leaving.ts';
import { passOrphans, type OrphanPlan } from './orphans.ts';
import { decideOwnership } from './ownership.ts';
import { planAccount } from './plan.ts';
import { planRetention, type RetainedAccount } from './retention.ts';
import { deprovisionsOnDeletion, planSystemDeletion, type DeletionAccountPlan } from './system-deletion.ts';
import { decideSystemGuard, type GuardDecision, type RecentDeprovision } from './system-guard.ts';
import { holdingUsers } from './username-claims.ts';

/** One User's account in one system: what it should be, what it is, and the steps between. */
export interface AccountPlan {
  /** The User as the engine saw it (with its deprovision clock started or stopped). */
  user: User;
  desired: DesiredAccount;
  observed: ObservedAccount | undefined;
  changes: AccountChange[];
  /** Entitlements the system will not grant (the connector's refusal), left out of `desired` and `changes`. */
  refused: Refusal[];
  /**
   * The changes disable, delete or revoke an entitlement from the account as a new loss of access
   * (not drift being restored): the guard counts it.
   */
  deprovisions: boolean;
  /** The account is not this system's and may not be taken over: nothing is changed (the User shows a Conflict). */
  conflict?: string;
  /** The first change adopts the account into this system's managed scope, for this reason. */
  adopts?: 'legacyMarker' | 'matchUserName' | 'matchEmail';
}

/** An entitlement a system will not grant, and why (reason `Refused` in the User's status). */
export type Refusal = RefusedEntitlement;

/** Why the system will not grant an entitlement (Connector.refusal), or undefined when it will. */
export type EntitlementRefusal = (entitlement: string) => string | undefined;

/**
 * The plan for one User in one system, or undefined when the system has nothing to do with it
 * (not bound, holds no account, or suspended). `observed`: the account as the system holds it.
 */
export function planAccountFor(
  user: User,
  world: World,
  system: ConnectedSystem,
  observed: ObservedAccount | undefined,
  capabilities: Capabilities,
  now: Date,
  refusal?: EntitlementRefusal,
): AccountPlan | undefined {
  const seen = withDeprovisionClock(user, now);
  const desired = desiredAccounts(seen, world.bindings, world.roles, [system], now, world.reviews, world.users ?? [seen])[0];
  return desired && accountPlan(seen, desired, observed, capabilities, planOptions(system, refusal));
}

/** The options of accountPlan that come from the system's spec. */
export function planOptions(system: ConnectedSystem, refusal: EntitlementRefusal | undefined): AccountPlanOptions {
  return { adoption: system.spec.adoption, allowedEntitlements: system.spec.allowedEntitlements, refusal };
}

export interface AccountPlanOptions {
  /** What to do with an account of this userName that is not this system's (spec.adoption). */
  adoption?: AdoptionPolicy;
  /** Why the system would not grant an entitlement, if it would not. */
  refusal?: EntitlementRefusal;
  /** spec.allowedEntitlements: matched in the system's terms (capabilities.comparison.entitlementKey). */
  allowedEntitlements?: readonly string[];
}

/**
 * The plan for an account whose desired state is known (the User reconcile computes all systems' at once).
 * A refused entitlement is not wanted: it is never granted, and one held from before is revoked.
 * An account this system does not own is adopted, or is a conflict, as spec.adoption says.
 */
export function accountPlan(
  user: User,
  declared: DesiredAccount,
  observed: ObservedAccount | undefined,
  capabilities: Capabilities,
  options: AccountPlanOptions = {},
): AccountPlan {
  const { adoption = 'never', refusal } = options;
  // Outside spec.allowedEntitlements, in the system's terms: never granted, and revoked if held.
  const listed = splitAllowed(options.allowedEntitlements, declared.entitlements, capabilities.comparison?.entitlementKey);
  const inList = listed.refused.length ? { ...declared, entitlements: listed.allowed } : declared;
  // Two names the system treats as one would be granted as one and seen as the other: refuse both.
  const ambiguous = ambiguousEntitlements(inList.entitlements, capabilities).flatMap(({ entitlements, reason }) =>
    entitlements.map((entitlement) => ({ entitlement, reason })),
  );
  const unambiguous = inList.entitlements.filter((e) => !ambiguous.some((r) => r.entitlement === e));
  const refused = [...listed.refused, ...ambiguous, ...(refusal ? unambiguous.flatMap((entitlement) => refusedOne(entitlement, refusal)) : [])];
  const desired = refused.length === 0 ? inList : { ...inList, entitlements: inList.entitlements.filter((e) => !refused.some((r) => r.entitlement === e)) };
  const ownership = decideOwnership(desired, observed, adoption);
  if (ownership.kind === 'conflict') return { user, desired, observed, changes: [], refused, deprovisions: false, conflict: ownership.message };
  if (ownership.kind === 'notOurs') return { user, desired, observed: undefined, changes: [], refused, deprovisions: false };
  const adopted: ObservedAccount | undefined = observed && { ...observed };
  if (adopted) delete adopted.owner;
  const changes: AccountChange[] = ownership.kind === 'adopt' ? [{ op: 'adopt', userName: desired.userName }] : [];
  changes.push(...planAccount(desired, adopted, capabilities));
  const recorded = user.status?.accounts?.find((a) => a.system === desired.system);
  // Revoking a grant someone made by hand since the last sync takes nothing Rollcall gave: drift.
  const losesAccess = changes.some(
    (change) => takesAccess(change) && !(change.op === 'revoke' && isRevertingHandGrant(recorded, change.entitlement, capabilities)),
  );
  // An adopted account's existing access is not a loss Rollcall caused before, so its revokes and
  // disables count like any other; restoring a deprovision someone undid is drift only for our own.
  const deprovisions = losesAccess && (ownership.kind === 'adopt' || !isRestoringDeprovision(recorded, desired));
  const plan: AccountPlan = { user, desired, observed: adopted, changes, refused, deprovisions };
  if (ownership.kind === 'adopt') plan.adopts = ownership.reason;
  return plan;
}

function refusedOne(entitlement: string, refusal: EntitlementRefusal): Refusal[] {
  const reason = refusal(entitlement);
  return reason === undefined ? [] : [{ entitlement, reason }];
}

export interface SystemPassInput {
  system: ConnectedSystem;
  /** The Users of the system's namespace. */
  users: readonly User[];
  world: World;
  /** Every account in the system's managed scope (a full listing). */
  listing: readonly ObservedAccount[];
  /** Accounts of declared userNames outside the managed scope (getAccount, `owner` set): adopted or in conflict. */
  others?: readonly ObservedAccount[];
  capabilities: Capabilities;
  /** The connector's refusal of entitlements it will not grant (Connector.refusal). */
  refusal?: EntitlementRefusal;
  /** status.retainedAccounts: accounts kept for deleted Users (not orphans), deleted once their retention ends. */
  retained?: readonly RetainedAccount[];
  recent: readonly RecentDeprovision[];
  now: Date;
}

export interface SystemPass {
  system: ConnectedSystem;
  /** The connector's capabilities the pass was planned with: the audit compares in the system's terms too. */
  capabilities: Capabilities;
  /** The listing the pass was planned from, for the audit (accounts of declared Users that nothing grants). */
  listing: readonly ObservedAccount[];
  accounts: AccountPlan[];
  orphans: OrphanPlan;
  guard: GuardDecision;
  /** What the pass applies, in order: every account's changes, then the orphan policy's, then the retention ends'. */
  changes: AccountChange[];
  /** What the tripped guard holds back: every deprovisioning account's changes, the orphans' and the retention ends'. */
  held: AccountChange[];
  /** Set while the system is deleted under deletionPolicy deprovision: its last pass, instead of the Users' and the orphans'. */
  deletion?: DeletionAccountPlan[];
}

/** The whole pass for one system, as `rollcall plan` shows it and the controllers carry it out. */
export function planSystemPass(input: SystemPassInput): SystemPass {
  const { system, users, listing, others = [], capabilities, refusal, retained = [], recent, now } = input;
  const byName = new Map([...others, ...listing].map((account) => [account.userName, account]));
  // Approvals cover the Users a binding selects: they are the namespace's Users of this pass.
  const world = input.world.users === undefined ? { ...input.world, users } : input.world;
  // A User whose userName an older User holds gets nothing (Conflict); the holder's plan stands.
  const accounts = holdingUsers(users).flatMap((user) => planAccountFor(user, world, system, byName.get(user.spec.userName), capabilities, now, refusal) ?? []);
  // Accounts kept for deleted Users are not orphans; those whose retention ended are deleted now.
  const retention = planRetention(retained, listing, users, capabilities, now.getTime());
  const orphans = passOrphans(system, listing, users, retention.kept, capabilities);
  // A system deleted under deletionPolicy deprovision has one pass left: every account it manages
  // goes, behind the same guard (the controller's finalizer runs it; orphans wait for no policy).
  const deletion = deprovisionsOnDeletion(system) ? planSystemDeletion(system, listing, capabilities) : undefined;
  const pending = accounts.filter((a) => a.deprovisions).map((a) => a.desired.userName);
  const also = deletion ? deletion.filter((d) => d.deprovisions).map((d) => d.userName) : retention.due.map((d) => d.entry.userName);
  const guard = decideSystemGuard({
    system,
    users,
    accounts: listing.map((account) => account.userName),
    pending: [...pending, ...also],
    orphans: deletion ? [] : deprovisionedUserNames(orphans.changes),
    recent,
    now,
  });
  const changes: AccountChange[] = [];
  const held: AccountChange[] = [];
  if (deletion) {
    for (const account of deletion) (guard.verdict.tripped && account.deprovisions ? held : changes).push(...account.changes);
  } else {
    for (const account of accounts) (guard.verdict.tripped && account.deprovisions ? held : changes).push(...account.changes);
    (guard.verdict.tripped ? held : changes).push(...orphans.changes, ...retention.due.flatMap((d) => d.changes));
  }
  return { system, capabilities, listing, accounts, orphans, guard, changes, held, ...(deletion && { deletion }) };
}
