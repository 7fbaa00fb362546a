// Where a change to an account came from, in the words of the manifests: so a failed change names
// the User, and the field or declaration a person would edit to fix it, beside the system's refusal.
import type { AccountChange, Snapshot, User } from '../api/index.ts';
import { attributeFields, changeCause } from '../engine/index.ts';
import { describeChange } from '../api/describe-change.ts';

/**
 * e.g. `User bob: grant db-admin (AccessRole dba, AccessBinding dba-team)`, `User bob: create account
 * (spec.attributes.email)`. `refused`: the attributes the system named in its refusal, if it did
 * (`userName` when it refused the name itself); otherwise every field the change sends is named.
 */
export function changeSource(snapshot: Snapshot, user: User, system: string, change: AccountChange, refused?: readonly string[]): string {
  return `User ${user.metadata.name}: ${describeChange(change)} (${declarationOf(snapshot, user, system, change, refused)})`;
}

/** The declarations that grant `entitlement` to the User in this system: `AccessRole dba, AccessBinding dba-team`. */
export function entitlementSource(snapshot: Snapshot, user: User, system: string, entitlement: string): string {
  return declarationOf(snapshot, user, system, { op: 'grant', userName: user.spec.userName, entitlement }, undefined);
}

function declarationOf({ world, now }: Snapshot, user: User, system: string, change: AccountChange, refused: readonly string[] | undefined): string {
  if (refused?.includes('userName')) return 'spec.userName';
  if (change.op === 'create' || change.op === 'update') {
    const sent = Object.keys(change.op === 'create' ? change.account.attributes : change.attributes);
    const named = sent.filter((attribute) => refused?.includes(attribute));
    const attributes = named.length ? named : sent;
    const fields = [...new Set(attributes.flatMap((attribute) => attributeFields(user, attribute)))];
    return fields.length ? fields.join(', ') : `spec.userName ${user.spec.userName}`;
  }
  const cause = changeCause(change, user, system, world, now);
  if (cause.kind === 'AccessBinding') {
    const role = world.bindings.find((b) => b.metadata.name === cause.name)?.spec.role;
    return role === undefined ? `AccessBinding ${cause.name}` : `AccessRole ${role}, AccessBinding ${cause.name}`;
  }
  return `${cause.kind} ${cause.name}${cause.reason ? `: ${cause.reason}` : ''}`;
}
