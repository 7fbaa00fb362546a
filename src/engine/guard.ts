// The deletion guard: a pass that would take access from too many accounts at once waits for a person.
// It is always on: a system without spec.deletionGuard gets DEFAULT_DELETION_GUARD.
import type { AccountChange, ConnectedSystemSpec } from '../api/index.ts';
import { changeUserName } from '../api/index.ts';

/** Releases a tripped guard for one pass when its value equals the count shown in the condition. */
export const APPROVE_DEPROVISION_ANNOTATION = 'rollcall.dev/approve-deprovision';

export type DeletionGuard = ConnectedSystemSpec['deletionGuard'];

export type GuardVerdict = { tripped: false } | { tripped: true; count: number; limit: number; message: string };

/**
 * Without spec.deletionGuard, a pass may take access from at most 10 accounts or 20 % of the managed
 * accounts, whichever is larger: a single leaver (or a handful) is never held, a role deleted by
 * mistake that revokes everyone's group is. Documented in the README and on the API field.
 */
export const DEFAULT_DELETION_GUARD = { maxCount: 10, maxPercent: 20 } as const;

/** A change that takes access away: the guard counts the accounts it touches. */
export function takesAccess(change: AccountChange): boolean {
  return change.op === 'disable' || change.op === 'delete' || change.op === 'revoke';
}

/** Distinct users that the changes disable, delete or revoke an entitlement from. */
export function deprovisionCount(changes: readonly AccountChange[]): number {
  return deprovisionedUserNames(changes).size;
}

/** The userNames that the changes disable, delete or revoke an entitlement from. */
export function deprovisionedUserNames(changes: readonly AccountChange[]): Set<string> {
  const users = new Set<string>();
  for (const change of changes) {
    if (takesAccess(change)) users.add(changeUserName(change));
  }
  return users;
}

/** The approved count in the annotation, or undefined when it is missing or not a whole number. */
export function approvedDeprovisionCount(annotations: Record<string, string> | undefined): number | undefined {
  const value = annotations?.[APPROVE_DEPROVISION_ANNOTATION]?.trim();
  return value !== undefined && /^[0-9]+$/.test(value) ? Number(value) : undefined;
}

/** What checkDeletionGuard weighs: a count against the limit (decideGuard in pass.ts gathers it). */
export interface LimitInput {
  /** Accounts this pass would take access from (deprovisionCount). */
  count: number;
  /** Accounts in the managed scope that the percentage counts (guardBase), the base of maxPercent. */
  managed: number;
  guard: DeletionGuard | undefined;
  approvedCount: number | undefined;
  /**
   * The guard tripped earlier in this pass and deprovisions are still pending: it keeps holding
   * them even once the count is back within the limit (the first ones went, the rest wait for a
   * person), so a slow mass change is not let through a few at a time as the window moves on.
   */
  latched?: boolean;
}

function percentOf(managed: number, percent: number): number {
  return Math.floor((managed * percent) / 100);
}

/** The guard set in spec, or the default when spec sets neither maxCount nor maxPercent. */
function configured(guard: DeletionGuard | undefined): guard is NonNullable<DeletionGuard> {
  return guard?.maxCount !== undefined || guard?.maxPercent !== undefined;
}

/**
 * The most accounts a pass may take access from: the strictest of the maxCount and maxPercent that
 * spec sets, else the default's larger (DEFAULT_DELETION_GUARD).
 */
export function deletionLimit(guard: DeletionGuard | undefined, managed: number): number {
  if (!configured(guard)) return Math.max(DEFAULT_DELETION_GUARD.maxCount, percentOf(managed, DEFAULT_DELETION_GUARD.maxPercent));
  const limits: number[] = [];
  if (guard.maxCount !== undefined) limits.push(guard.maxCount);
  // 100 % is the documented way to switch the percentage off: it must not become 0 when the base is
  // empty (every User created within the window, which guardBase leaves out of the base).
  if (guard.maxPercent !== undefined) limits.push(guard.maxPercent >= 100 ? Infinity : percentOf(managed, guard.maxPercent));
  return Math.min(...limits);
}

function describeRules(guard: DeletionGuard | undefined, managed: number): string {
  if (!configured(guard)) {
    return `the default when spec.deletionGuard is not set: ${DEFAULT_DELETION_GUARD.maxCount} accounts or ${DEFAULT_DELETION_GUARD.maxPercent}% of ${managed} managed accounts, whichever is larger`;
  }
  return [
    guard.maxCount !== undefined ? `maxCount ${guard.maxCount}` : undefined,
    guard.maxPercent !== undefined ? `maxPercent ${guard.maxPercent}% of ${managed} managed accounts` : undefined,
  ]
    .filter((rule) => rule !== undefined)
    .join(', ');
}

export function checkDeletionGuard({ count, managed, guard, approvedCount, latched = false }: LimitInput): GuardVerdict {
  const limit = deletionLimit(guard, managed);
  if ((count <= limit && !latched) || approvedCount === count) return { tripped: false };
  const rules = describeRules(guard, managed);
  const what =
    count > limit
      ? `This pass would disable, delete or revoke entitlements of ${count} accounts, more than the deletion guard allows (${limit}: ${rules}). `
      : `The deletion guard tripped on this pass (limit ${limit}: ${rules}) and still counts ${count} accounts disabled, deleted, revoked or pending. `;
  const message =
    what +
    `These deprovisions are held back. If they are intended, raise spec.deletionGuard, or annotate the ConnectedSystem with ` +
    `${APPROVE_DEPROVISION_ANNOTATION}="${count}" to let this pass proceed once.`;
  return { tripped: true, count, limit, message };
}
