// The declared objects of one namespace that decide access: what the engine decides from, and what
// a reconcile reads from the store's cache (store/world.ts).
import type { AccessBinding } from './access-binding.ts';
import type { AccessReview } from './access-review.ts';
import type { AccessRole } from './access-role.ts';
import type { ConnectedSystem } from './connected-system.ts';
import type { User } from './user.ts';

export interface World {
  bindings: readonly AccessBinding[];
  roles: readonly AccessRole[];
  systems: readonly ConnectedSystem[];
  /** Access reviews: a revoked grant ends like an expired one. */
  reviews?: readonly AccessReview[];
  /** The namespace's Users: an approval covers the Users a binding selects (src/engine/approval-content.ts). */
  users?: readonly User[];
}

/**
 * What one reconcile reads once and hands down: the namespace's declared objects and the instant.
 * Every decision of the pass (the plan, the guard, the audit line's cause) sees the same ones, so a
 * pass cannot straddle a validUntil, nor plan from one set of objects and explain from another.
 */
export interface Snapshot {
  /** As readWorld gives it: every field read. */
  world: Required<World>;
  now: Date;
}
