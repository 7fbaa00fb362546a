// The access audit of one connected system, read off the engine's one plan (planSystemPass): what
// the system holds against what is declared, plus the governance facts about the declarations
// (expiring grants, separation-of-duties conflicts, approvals still pending). Pure: no I/O.
import type { AccessBinding, AccessRole, Capabilities, User } from '../api/index.ts';
import { approvalState } from './approval.ts';
import { applicableBindings, inForce, type ApplicableBinding } from './binding.ts';
import { holdsEntitlement } from './comparison.ts';
import { resolveRole } from './roles.ts';
import type { SystemPass, World } from './pass.ts';
import { sameTenant } from './tenant.ts';
import { userEntitled } from './user.ts';

export type FindingKind = 'orphan' | 'creep' | 'missing' | 'expired' | 'expiring' | 'conflict' | 'pendingApproval';
export const FINDING_KINDS: readonly FindingKind[] = ['orphan', 'creep', 'missing', 'expired', 'expiring', 'conflict', 'pendingApproval'];

export interface Finding {
  kind: FindingKind;
  /** The account's userName (absent for a pending approval). */
  userName?: string;
  /** One entitlement, or undefined when the finding is about the whole account. */
  entitlement?: string;
  /** The binding(s) or role(s) concerned. */
  binding?: string;
  role?: string;
  /** RFC 3339: when the access ends (expiring) or ended (expired). */
  at?: string;
  detail: string;
}

export interface AuditInput {
  pass: SystemPass;
  users: readonly User[];
  world: World;
  now: Date;
  /** Grants ending within this many milliseconds are reported as expiring. */
  expiringWithinMs: number;
}

/** Every finding for one system, in a stable order (kind, then userName, then entitlement). */
export function auditSystem({ pass, users, world, now, expiringWithinMs }: AuditInput): Finding[] {
  const at = now.getTime();
  const systemName = pass.system.metadata.name;
  const findings: Finding[] = [];
  for (const orphan of pass.orphans.orphans) {
    findings.push({
      kind: 'orphan',
      userName: orphan.userName,
      detail: `${orphan.state} account that no User declares (orphan policy: ${pass.system.spec.orphans})`,
    });
  }

  const tenantUsers = sameTenant(pass.system, users);
  const planned = new Set(pass.accounts.map((a) => a.desired.userName));
  const byUserName = new Map(tenantUsers.map((user) => [user.spec.userName, user]));
  const bindingsOf = (user: User) => applicableBindings(user, sameTenant(user, world.bindings), sameTenant(user, world.roles), world.reviews, tenantUsers);

  for (const account of pass.accounts) {
    const { desired, observed, user } = account;
    const applicable = bindingsOf(user);
    if (desired.state === 'present' && observed === undefined) {
      findings.push({ kind: 'missing', userName: desired.userName, detail: 'declared account not present in the system' });
    }
    if (desired.state === 'present' && observed !== undefined) {
      for (const entitlement of desired.entitlements) {
        if (!holdsEntitlement(observed.entitlements, entitlement, pass.capabilities))
          findings.push({ kind: 'missing', userName: desired.userName, entitlement, detail: 'declared entitlement not held' });
      }
      if (observed.state === 'disabled') findings.push({ kind: 'missing', userName: desired.userName, detail: 'declared account is disabled' });
    }
    if (observed === undefined) continue;
    for (const entitlement of observed.entitlements) {
      if (holdsEntitlement(desired.entitlements, entitlement, pass.capabilities)) continue;
      findings.push(extraEntitlement(user, applicable, systemName, entitlement, at, pass.capabilities));
    }
    if (desired.state !== 'present' && observed.state === 'present' && observed.entitlements.length === 0) {
      findings.push({ kind: userEntitled(user, at) ? 'creep' : 'expired', userName: desired.userName, detail: `account present, declared ${desired.state}` });
    }
  }
  // Accounts of declared Users that nothing grants and whose status never recorded them.
  for (const observed of pass.listing) {
    const user = byUserName.get(observed.userName);
    if (!user || planned.has(observed.userName)) continue;
    findings.push({
      kind: 'creep',
      userName: observed.userName,
      detail: `account not granted by any binding${observed.entitlements.length ? ` (holds ${observed.entitlements.join(', ')})` : ''}`,
    });
  }

  for (const user of tenantUsers) {
    const applicable = bindingsOf(user).filter((a) => a.role.grants.has(systemName));
    for (const grant of applicable) {
      if (!inForce(grant, at) || grant.endsAt === undefined || grant.endsAt - at > expiringWithinMs) continue;
      const entitlements = [...(grant.role.grants.get(systemName) ?? [])].sort().join(', ');
      findings.push({
        kind: 'expiring',
        userName: user.spec.userName,
        binding: grant.binding.metadata.name,
        role: grant.binding.spec.role,
        at: new Date(grant.endsAt).toISOString(),
        detail: `${entitlements || 'the account'} ends`,
      });
    }
    findings.push(...conflicts(user, bindingsOf(user), world.roles, systemName, at));
  }

  for (const binding of sameTenant(pass.system, world.bindings)) {
    const pending = pendingApproval(binding, world.roles, users, systemName);
    if (pending) findings.push(pending);
  }
  return findings.sort(compareFindings);
}

/** An entitlement held that nothing declares: expired when a binding granted it and has ended (or the User has), else creep. */
function extraEntitlement(user: User, applicable: ApplicableBinding[], system: string, entitlement: string, at: number, capabilities: Capabilities): Finding {
  const granting = applicable.filter((a) => holdsEntitlement([...(a.role.grants.get(system) ?? [])], entitlement, capabilities));
  const ended = granting.find((a) => a.endsAt !== undefined && a.endsAt <= at);
  if (ended?.revokedBy) {
    return {
      kind: 'expired',
      userName: user.spec.userName,
      entitlement,
      binding: ended.binding.metadata.name,
      role: ended.binding.spec.role,
      detail: `revoked by access review ${ended.revokedBy.review} (${ended.revokedBy.decidedBy})`,
    };
  }
  if (ended) {
    return {
      kind: 'expired',
      userName: user.spec.userName,
      entitlement,
      binding: ended.binding.metadata.name,
      role: ended.binding.spec.role,
      at: new Date(ended.endsAt!).toISOString(),
      detail: 'granted by a binding that has ended',
    };
  }
  if (granting.length > 0 && !userEntitled(user, at)) {
    return { kind: 'expired', userName: user.spec.userName, entitlement, detail: `the User is ${user.spec.state} or outside its validity` };
  }
  const unapproved = granting.find((a) => !a.approved);
  if (unapproved)
    return {
      kind: 'creep',
      userName: user.spec.userName,
      entitlement,
      binding: unapproved.binding.metadata.name,
      detail: `held without the approval the binding needs (${unapproved.approval.state})`,
    };
  return { kind: 'creep', userName: user.spec.userName, entitlement, detail: 'held but not declared' };
}

/** Pairs of roles in force for the user that one of them declares in conflictsWith, reported where either grants. */
function conflicts(user: User, applicable: ApplicableBinding[], roles: readonly AccessRole[], system: string, at: number): Finding[] {
  const inForceRoles = new Map<string, ApplicableBinding>();
  for (const grant of applicable) if (inForce(grant, at)) inForceRoles.set(grant.binding.spec.role, grant);
  const byName = new Map(sameTenant(user, roles).map((role) => [role.metadata.name, role]));
  const found: Finding[] = [];
  const seen = new Set<string>();
  for (const [name, grant] of inForceRoles) {
    for (const other of byName.get(name)?.spec.conflictsWith ?? []) {
      const otherGrant = inForceRoles.get(other);
      if (!otherGrant || other === name) continue;
      const pair = [name, other].sort().join(' + ');
      if (seen.has(pair)) continue;
      seen.add(pair);
      if (!grant.role.grants.has(system) && !otherGrant.role.grants.has(system)) continue;
      found.push({
        kind: 'conflict',
        userName: user.spec.userName,
        role: pair,
        binding: [grant.binding.metadata.name, otherGrant.binding.metadata.name].sort().join(', '),
        detail: `separation of duties: ${name} conflicts with ${other}`,
      });
    }
  }
  return found;
}

function pendingApproval(binding: AccessBinding, roles: readonly AccessRole[], users: readonly User[], system: string): Finding | undefined {
  const tenantRoles = sameTenant(binding, roles);
  const role = resolveRole(binding.spec.role, tenantRoles);
  if (!role || !role.grants.has(system)) return undefined;
  const { state, message } = approvalState(binding, tenantRoles, sameTenant(binding, users));
  if (state !== 'Pending' && state !== 'Voided') return undefined;
  const requester = binding.spec.requestedBy ? `requested by ${binding.spec.requestedBy}; ` : '';
  return {
    kind: 'pendingApproval',
    binding: binding.metadata.name,
    role: binding.spec.role,
    detail: `${state === 'Voided' ? 'approval voided' : 'awaiting approval'}: ${requester}${message}`,
  };
}

function compareFindings(a: Finding, b: Finding): number {
  const byKind = FINDING_KINDS.indexOf(a.kind) - FINDING_KINDS.indexOf(b.kind);
  if (byKind !== 0) return byKind;
  return (
    (a.userName ?? '').localeCompare(b.userName ?? '') ||
    (a.entitlement ?? '').localeCompare(b.entitlement ?? '') ||
    (a.binding ?? '').localeCompare(b.binding ?? '')
  );
}
