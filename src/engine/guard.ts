// The deletion guard: a pass that would deprovision too many accounts at once waits for a person.
import type { AccountChange, ConnectedSystemSpec } from '../api/index.ts';
import { changeUserName } from '../api/index.ts';

/** Releases a tripped guard for one pass when its value equals the count shown in the condition. */
export const APPROVE_DEPROVISION_ANNOTATION = 'rollcall.dev/approve-deprovision';

export type DeletionGuard = ConnectedSystemSpec['deletionGuard'];

export type GuardVerdict = { tripped: false } | { tripped: true; count: number; limit: number; message: string };

/** Distinct users that the changes disable or delete. */
export function deprovisionCount(changes: AccountChange[]): number {
  const users = new Set<string>();
  for (const change of changes) {
    if (change.op === 'disable' || change.op === 'delete') users.add(changeUserName(change));
  }
  return users.size;
}

/** The approved count in the annotation, or undefined when it is missing or not a whole number. */
export function approvedDeprovisionCount(annotations: Record<string, string> | undefined): number | undefined {
  const value = annotations?.[APPROVE_DEPROVISION_ANNOTATION]?.trim();
  return value !== undefined && /^[0-9]+$/.test(value) ? Number(value) : undefined;
}

export interface GuardInput {
  /** Accounts this pass would deprovision (deprovisionCount). */
  count: number;
  /** Accounts in the managed scope, the base of maxPercent. */
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

/** The strictest of maxCount and maxPercent of managed; undefined when neither is set. */
export function deletionLimit(guard: DeletionGuard | undefined, managed: number): number | undefined {
  const limits: number[] = [];
  if (guard?.maxCount !== undefined) limits.push(guard.maxCount);
  if (guard?.maxPercent !== undefined) limits.push(Math.floor((managed * guard.maxPercent) / 100));
  return limits.length === 0 ? undefined : Math.min(...limits);
}

export function checkDeletionGuard({ count, managed, guard, approvedCount, latched = false }: GuardInput): GuardVerdict {
  const limit = deletionLimit(guard, managed);
  if (limit === undefined || (count <= limit && !latched) || approvedCount === count) return { tripped: false };
  const rules = [
    guard?.maxCount !== undefined ? `maxCount ${guard.maxCount}` : undefined,
    guard?.maxPercent !== undefined ? `maxPercent ${guard.maxPercent}% of ${managed} managed accounts` : undefined,
  ].filter((rule) => rule !== undefined);
  const what =
    count > limit
      ? `This pass would disable or delete ${count} accounts, more than the deletion guard allows (${limit}: ${rules.join(', ')}). `
      : `The deletion guard tripped on this pass (limit ${limit}: ${rules.join(', ')}) and still counts ${count} accounts disabled, deleted or pending. `;
  const message =
    what +
    `These deprovisions are held back. If they are intended, raise spec.deletionGuard, or annotate the ConnectedSystem with ` +
    `${APPROVE_DEPROVISION_ANNOTATION}="${count}" to let this pass proceed once.`;
  return { tripped: true, count, limit, message };
}
