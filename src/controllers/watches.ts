// Which objects to reconcile when something changes: every watch → key mapping, in one place.
// A change is only what a reconcile acts on (spec, labels, annotations, finalizers, deletion);
// Rollcall's own status writes come back as watch events and map to nothing, so they never
// re-queue anything. Only the objects a change can affect are queued: a User's labels re-count
// only the bindings whose selection of it changed, a binding queues the Users it selects(ed).
import { FINALIZER, type AccessBinding, type AccessRole, type KindName, type User } from '../api/index.ts';
import { bindingSelectsUser, resolveRole } from '../engine/index.ts';
import { keyOf, type AnyResource, type ObjectKey, type Store } from '../store/store.ts';
import { rolesIncluding } from './roles-including.ts';
import type { ControlledKind } from './reconciler.ts';
import type { UserNameIndex } from './user-name-index.ts';

export interface Request {
  kind: ControlledKind;
  key: ObjectKey;
}

type Mapping = (object: AnyResource, old: AnyResource | undefined, store: Store, userNames: UserNameIndex) => Request[];

export const WATCHES: Partial<Record<KindName, Mapping>> = {
  ConnectedSystem: (system) => [{ kind: 'ConnectedSystem', key: keyOf(system) }],
  IdentitySource: (source) => [{ kind: 'IdentitySource', key: keyOf(source) }],
  User: (user, old, store, userNames) => [
    { kind: 'User', key: keyOf(user) },
    ...bindingsWhoseSelectionChanged(user as User, old as User | undefined, store),
    // An approval covers the Users its binding selects: one labelled in, recreated or renamed voids it for all of them.
    ...bindingsWhoseSubjectsChanged(user as User, old as User | undefined, store).flatMap((binding) => [
      { kind: 'AccessBinding' as const, key: keyOf(binding) },
      ...usersOf(binding, undefined, store),
    ]),
    // Another User with the same userName may hold it now, or no longer (oldest wins).
    ...[...new Set([(user as User).spec.userName, (old as User | undefined)?.spec.userName])]
      .flatMap((userName) => (userName === undefined ? [] : userNames.usersNaming(store, keyOf(user).namespace, userName)))
      .filter((other) => other.metadata.name !== user.metadata.name)
      .map((other) => ({ kind: 'User' as const, key: keyOf(other) })),
    // A ConnectedSystem being deleted waits for the leavers of its namespace: each one done may release it.
    ...systemsWaitingFor(user as User, store),
  ],
  AccessBinding: (binding, old, store) => [
    { kind: 'AccessBinding', key: keyOf(binding) },
    ...usersOf(binding as AccessBinding, old as AccessBinding | undefined, store),
    ...store.list('AccessReview', keyOf(binding).namespace).map((review) => ({ kind: 'AccessReview' as const, key: keyOf(review) })),
  ],
  AccessRole: (role, _old, store) => {
    const { namespace } = keyOf(role);
    const roles = rolesIncluding((role as AccessRole).metadata.name, store.list('AccessRole', namespace));
    return store
      .list('AccessBinding', namespace)
      .filter((binding) => roles.has(binding.spec.role))
      .flatMap((binding) => [{ kind: 'AccessBinding' as const, key: keyOf(binding) }, ...usersOf(binding, undefined, store)]);
  },
  // A decision or the scope of a review can end a grant of any User of the namespace.
  AccessReview: (review, _old, store) => [
    { kind: 'AccessReview', key: keyOf(review) },
    ...store.list('User', keyOf(review).namespace).map((user) => ({ kind: 'User' as const, key: keyOf(user) })),
  ],
};

/**
 * Spec, labels, annotations, others' finalizers or deletion changed: not just status, and not our
 * own finalizer (its add would otherwise reconcile every new object twice).
 */
export function isMeaningfulChange(old: AnyResource | undefined, next: AnyResource): boolean {
  if (!old) return true;
  const pick = (o: AnyResource) =>
    JSON.stringify([
      o.metadata.generation,
      o.spec,
      o.metadata.labels,
      o.metadata.annotations,
      (o.metadata.finalizers ?? []).filter((f) => f !== FINALIZER),
      o.metadata.deletionTimestamp,
    ]);
  return pick(old) !== pick(next);
}

function bindingsWhoseSelectionChanged(user: User, old: User | undefined, store: Store): Request[] {
  const gone = store.get('User', keyOf(user)) === undefined;
  return store
    .list('AccessBinding', keyOf(user).namespace)
    .filter((binding) => (gone ? false : bindingSelectsUser(binding, user)) !== (old ? bindingSelectsUser(binding, old) : false))
    .map((binding) => ({ kind: 'AccessBinding', key: keyOf(binding) }));
}

/**
 * Bindings requiring approval whose approved content this User's change may alter: it entered or left the selection,
 * or, selected, it changed its uid (recreated), userName or e-mail (approver checks compare it).
 */
function bindingsWhoseSubjectsChanged(user: User, old: User | undefined, store: Store): AccessBinding[] {
  const gone = store.get('User', keyOf(user)) === undefined;
  const identity = (u: User | undefined) => (u ? JSON.stringify([u.metadata.uid, u.spec.userName, u.spec.email, u.spec.attributes?.email]) : '');
  const sameIdentity = identity(user) === identity(old);
  const roles = store.list('AccessRole', keyOf(user).namespace);
  // Only approvals cover the selection: a large selector binding without one does not fan out.
  return store.list('AccessBinding', keyOf(user).namespace).filter((binding) => {
    if (!resolveRole(binding.spec.role, roles)?.requiresApproval) return false;
    const now = gone ? false : bindingSelectsUser(binding, user);
    const before = old ? bindingSelectsUser(binding, old) : false;
    return now !== before || (now && !sameIdentity);
  });
}

function usersOf(binding: AccessBinding, old: AccessBinding | undefined, store: Store): Request[] {
  return store
    .list('User', keyOf(binding).namespace)
    .filter((user) => bindingSelectsUser(binding, user) || (old !== undefined && bindingSelectsUser(old, user)))
    .map((user) => ({ kind: 'User', key: keyOf(user) }));
}

function systemsWaitingFor(user: User, store: Store): Request[] {
  const leaving = user.metadata.deletionTimestamp !== undefined || store.get('User', keyOf(user)) === undefined;
  if (!leaving) return [];
  return store
    .list('ConnectedSystem', keyOf(user).namespace)
    .filter((system) => system.metadata.deletionTimestamp !== undefined)
    .map((system) => ({ kind: 'ConnectedSystem', key: keyOf(system) }));
}
