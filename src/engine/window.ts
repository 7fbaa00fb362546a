// accessWindow(): when a User's access ends, and when the controller must look at it again.
import type { AccessBinding, AccessReview, AccessRole, ConnectedSystem, User } from '../api/index.ts';
import { applicableBindings, inForce, type ApplicableBinding } from './binding.ts';
import { deleteAfterRetentionAt, disabledAt } from './deprovision.ts';
import { activeSystems } from './desired.ts';
import { instant } from './instant.ts';
import { sameTenant } from './tenant.ts';
import { userEntitled } from './user.ts';

export interface AccessWindow {
  /** When the user's current access ends; undefined when it has no end, or there is no access now. */
  accessEndsAt?: Date;
  /** The earliest instant strictly after now at which desiredAccounts could give another answer. */
  nextWakeAt?: Date;
}

function reachesSystem(applicable: ApplicableBinding, systemNames: Set<string>): boolean {
  return [...applicable.role.grants.keys()].some((system) => systemNames.has(system));
}

function earliest(instants: Array<number | undefined>): number | undefined {
  const defined = instants.filter((value) => value !== undefined);
  return defined.length === 0 ? undefined : Math.min(...defined);
}

/** The latest end among the bindings, undefined if any of them has none; the user's own end caps it. */
function accessEnd(user: User, reaching: ApplicableBinding[]): number | undefined {
  if (reaching.length === 0) return undefined;
  const bindingEnd = reaching.some((applicable) => applicable.endsAt === undefined) ? undefined : Math.max(...reaching.map((applicable) => applicable.endsAt!));
  return earliest([instant(user.spec.validUntil), bindingEnd]);
}

export function accessWindow(
  user: User,
  bindings: readonly AccessBinding[],
  roles: readonly AccessRole[],
  systems: readonly ConnectedSystem[],
  now: Date,
  reviews: readonly AccessReview[] = [],
  users: readonly User[] = [user],
): AccessWindow {
  const at = now.getTime();
  const active = activeSystems(user, systems);
  const systemNames = new Set(active.map((system) => system.metadata.name));
  const applicable = applicableBindings(user, sameTenant(user, bindings), sameTenant(user, roles), reviews, users);

  const reaching = userEntitled(user, at) ? applicable.filter((binding) => inForce(binding, at) && reachesSystem(binding, systemNames)) : [];
  const endsAt = accessEnd(user, reaching);

  // Every instant at which an input of desiredAccounts flips. Extra wake-ups are harmless; missed ones are not.
  const candidates = [
    instant(user.spec.validFrom),
    instant(user.spec.validUntil),
    ...applicable.flatMap((binding) => [binding.startsAt, binding.endsAt]),
    ...active
      .filter((system) => user.status?.deprovisionStartedAt !== undefined || disabledAt(user, system) !== undefined)
      .map((system) => deleteAfterRetentionAt(user, system, at)),
  ];
  const wakeAt = earliest(candidates.filter((candidate) => candidate !== undefined && candidate > at));

  return {
    ...(endsAt !== undefined ? { accessEndsAt: new Date(endsAt) } : {}),
    ...(wakeAt !== undefined ? { nextWakeAt: new Date(wakeAt) } : {}),
  };
}
