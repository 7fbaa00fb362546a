// What an approval approves, beyond the binding's own fields: the role's effective entitlements
// (its includes flattened, per system) and maxDuration, the binding's window, and the Users it
// selects by uid and userName. An approval carries the digest of this content as the approver saw
// it (kubectl rollcall approve computes it from what it shows); the engine recomputes it on every
// read, so a role edited, a User labelled in, or a User recreated under the approved name voids
// the approval. The content itself is kept in the binding's status to name what changed.
import type { AccessBinding, AccessRole, User } from '../api/index.ts';
import { sha256Digest } from '../api/digest.ts';
import { bindingSelectsUser } from './binding.ts';
import { instant } from './instant.ts';
import { resolveRole } from './roles.ts';

export interface ApprovedUser {
  name: string;
  /** metadata.uid: a User deleted and created again under the same name has another one. */
  uid?: string;
  userName: string;
}

export interface ApprovalContent {
  role: string;
  /** `system:entitlement`, sorted: what the role grants with everything it includes. */
  entitlements: string[];
  /** The shortest maxDuration over the role and its includes; absent when none caps it. */
  maxDuration?: string;
  validFrom?: string;
  validUntil?: string;
  /** Sorted by name. */
  users: ApprovedUser[];
}

/** The content of `binding` as it stands; undefined when its role does not exist. */
export function approvalContent(binding: AccessBinding, roles: readonly AccessRole[], users: readonly User[]): ApprovalContent | undefined {
  const role = resolveRole(binding.spec.role, roles);
  if (!role) return undefined;
  const entitlements = [...role.grants].flatMap(([system, granted]) => [...granted].map((entitlement) => `${system}:${entitlement}`)).sort();
  const selected = users
    .filter((user) => bindingSelectsUser(binding, user))
    .map((user): ApprovedUser => ({ name: user.metadata.name, ...(user.metadata.uid ? { uid: user.metadata.uid } : {}), userName: user.spec.userName }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const content: ApprovalContent = { role: binding.spec.role, entitlements, users: selected };
  if (role.maxDuration !== undefined) content.maxDuration = role.maxDuration;
  if (binding.spec.validFrom !== undefined) content.validFrom = binding.spec.validFrom;
  if (binding.spec.validUntil !== undefined) content.validUntil = binding.spec.validUntil;
  return content;
}

/**
 * `sha256:<hex>` over a canonical form: fixed key order, sorted lists, absent fields left out, and
 * the window's instants normalised (two spellings of one instant are one content).
 */
export function contentDigest(content: ApprovalContent): string {
  const canonical = JSON.stringify([
    content.role,
    content.entitlements,
    content.maxDuration === undefined ? null : content.maxDuration,
    normalInstant(content.validFrom),
    normalInstant(content.validUntil),
    content.users.map((user) => [user.name, user.uid ?? null, user.userName]),
  ]);
  return sha256Digest(canonical);
}

/** The content in a line, for the approver and the ApprovalGranted Event (at most 20 Users named). */
export function describeContent(content: ApprovalContent): string {
  const users = content.users.slice(0, 20).map((user) => `${user.name} (userName ${user.userName}${user.uid ? `, uid ${user.uid}` : ''})`);
  if (content.users.length > 20) users.push(`and ${content.users.length - 20} more`);
  const window = [content.validFrom && `from ${content.validFrom}`, content.validUntil && `until ${content.validUntil}`].filter(Boolean).join(' ');
  return [
    `role ${content.role}: ${content.entitlements.join(', ') || 'an account, no entitlements'}`,
    `maxDuration ${content.maxDuration ?? 'none'}`,
    ...(window ? [window] : []),
    `Users ${users.join(', ') || 'none'}`,
  ].join('; ');
}

/**
 * What differs between the approved content and the content now, in words, for the condition and
 * the ApprovalVoided Event: "AccessRole team-a/db-admin gained entitlement analytics:pg_write",
 * "User dave (uid 1f…) newly selected", "User carol was recreated (uid changed)".
 */
export function contentChanges(approved: ApprovalContent, current: ApprovalContent, namespace: string): string[] {
  const role = `AccessRole ${namespace}/${current.role}`;
  const changes: string[] = [];
  if (approved.role !== current.role) changes.push(`the role changed from ${approved.role} to ${current.role}`);
  const before = new Set(approved.entitlements);
  const after = new Set(current.entitlements);
  for (const entitlement of current.entitlements) if (!before.has(entitlement)) changes.push(`${role} gained entitlement ${entitlement}`);
  for (const entitlement of approved.entitlements) if (!after.has(entitlement)) changes.push(`${role} lost entitlement ${entitlement}`);
  if (approved.maxDuration !== current.maxDuration) {
    if (current.maxDuration === undefined) changes.push(`${role} dropped maxDuration ${approved.maxDuration}`);
    else if (approved.maxDuration === undefined) changes.push(`${role} gained maxDuration ${current.maxDuration}`);
    else changes.push(`${role} changed maxDuration from ${approved.maxDuration} to ${current.maxDuration}`);
  }
  for (const field of ['validFrom', 'validUntil'] as const) {
    if (normalInstant(approved[field]) !== normalInstant(current[field]))
      changes.push(`spec.${field} changed from ${approved[field] ?? 'none'} to ${current[field] ?? 'none'}`);
  }
  const approvedUsers = new Map(approved.users.map((user) => [user.name, user]));
  const currentUsers = new Map(current.users.map((user) => [user.name, user]));
  for (const user of current.users) {
    const was = approvedUsers.get(user.name);
    if (!was) {
      changes.push(`User ${user.name} (${user.uid ? `uid ${user.uid}, ` : ''}userName ${user.userName}) newly selected`);
      continue;
    }
    if (was.uid !== user.uid) changes.push(`User ${user.name} was recreated (uid changed from ${was.uid ?? 'none'} to ${user.uid ?? 'none'})`);
    if (was.userName !== user.userName) changes.push(`User ${user.name}'s userName changed from ${was.userName} to ${user.userName}`);
  }
  for (const user of approved.users) if (!currentUsers.has(user.name)) changes.push(`User ${user.name} is no longer selected`);
  return changes;
}

/** Epoch ms, so that two spellings of one instant compare equal; null when unset. */
function normalInstant(text: string | undefined): number | null {
  return instant(text) ?? null;
}
