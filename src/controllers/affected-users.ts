// Which Users a change to a binding or role can affect, so only those are re-queued.
import type { AccessBinding, AccessRole, User } from '../api/index.ts';
import { bindingSelectsUser } from '../engine/index.ts';

/** Users a binding selects (by name or label), in its namespace. */
export function usersOfBinding(binding: AccessBinding, users: User[]): User[] {
  return users.filter((user) => bindingSelectsUser(binding, user));
}

/** Names of the roles whose grants include `role`, itself included (follows `includes` backwards). */
export function rolesIncluding(role: string, roles: AccessRole[]): Set<string> {
  const found = new Set([role]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const candidate of roles) {
      if (found.has(candidate.metadata.name)) continue;
      if (candidate.spec.includes?.some((included) => found.has(included))) {
        found.add(candidate.metadata.name);
        grew = true;
      }
    }
  }
  return found;
}
