// Which roles a change to one role reaches, so only their bindings are re-queued.
import type { AccessRole } from '../api/index.ts';

/** Names of the roles whose grants include `role`, itself included (follows `includes` backwards). */
export function rolesIncluding(role: string, roles: readonly AccessRole[]): Set<string> {
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
