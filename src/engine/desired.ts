// desiredAccounts(): which account each connected system should hold for one User, right now.
import type { AccessBinding, AccessReview, AccessRole, ConnectedSystem, DesiredAccount, User } from '../api/index.ts';
import { accountAttributes } from './attributes.ts';
import { applicableBindings, inForce } from './binding.ts';
import { deprovisionedState } from './deprovision.ts';
import { sameTenant } from './tenant.ts';
import { heldSystems, userEntitled, userNotYetValid } from './user.ts';

/** Systems of the user's namespace that are not suspended: a suspended system gets no changes at all. */
export function activeSystems(user: User, systems: readonly ConnectedSystem[]): ConnectedSystem[] {
  return sameTenant(user, systems).filter((system) => !system.spec.suspend);
}

/** System name → entitlements granted by the bindings in force at `now`, ignoring the user's own state. */
export function grantsInForce(
  user: User,
  bindings: readonly AccessBinding[],
  roles: readonly AccessRole[],
  now: number,
  reviews: readonly AccessReview[] = [],
  users: readonly User[] = [user],
): Map<string, Set<string>> {
  const grants = new Map<string, Set<string>>();
  for (const applicable of applicableBindings(user, sameTenant(user, bindings), sameTenant(user, roles), reviews, users)) {
    if (!inForce(applicable, now)) continue;
    for (const [system, entitlements] of applicable.role.grants) {
      const union = grants.get(system) ?? new Set<string>();
      for (const entitlement of entitlements) union.add(entitlement);
      grants.set(system, union);
    }
  }
  return grants;
}

/**
 * One entry per active system that the user is bound to or holds an account in. Systems that
 * are bound but where the user holds nothing still get an entry when deprovisioning, because the
 * status may have missed an account; a joiner before its start date gets none until it starts.
 */
export function desiredAccounts(
  user: User,
  bindings: readonly AccessBinding[],
  roles: readonly AccessRole[],
  systems: readonly ConnectedSystem[],
  now: Date,
  reviews: readonly AccessReview[] = [],
  users: readonly User[] = [user],
): DesiredAccount[] {
  const at = now.getTime();
  const entitled = userEntitled(user, at);
  const notYetValid = userNotYetValid(user, at);
  const grants = grantsInForce(user, bindings, roles, at, reviews, users);
  const held = heldSystems(user);
  const attributes = accountAttributes(user);

  const desired: DesiredAccount[] = [];
  for (const system of activeSystems(user, systems)) {
    const name = system.metadata.name;
    const granted = grants.get(name);
    const holds = held.has(name);
    if (granted === undefined && !holds) continue;
    if (!holds && notYetValid) continue;

    const base = { system: name, userName: user.spec.userName, attributes: { ...attributes } };
    if (entitled && granted !== undefined) {
      // spec.allowedEntitlements is applied by accountPlan, which knows how the system compares names.
      desired.push({ ...base, state: 'present', entitlements: [...granted].sort() });
    } else {
      desired.push({ ...base, state: deprovisionedState(user, system, at), entitlements: [] });
    }
  }
  return desired;
}
