// The words for objects every layer uses: an object of any kind, its key, a User patch.
import type { AccessBinding } from './access-binding.ts';
import type { AccessReview } from './access-review.ts';
import type { AccessRole } from './access-role.ts';
import type { ConnectedSystem } from './connected-system.ts';
import type { IdentitySource } from './identity-source.ts';
import type { KindName } from './kinds.ts';
import type { User, UserSpec } from './user.ts';

export interface ResourceByKind {
  ConnectedSystem: ConnectedSystem;
  User: User;
  AccessRole: AccessRole;
  AccessBinding: AccessBinding;
  IdentitySource: IdentitySource;
  AccessReview: AccessReview;
}
export type AnyResource = ResourceByKind[KindName];

export interface ObjectKey {
  namespace: string;
  name: string;
}

/**
 * A JSON merge patch of one User, limited to what an identity source manages: the spec fields it
 * maps (null removes one; attributes merge key by key) and its labels (null removes one).
 */
export interface UserPatch {
  spec?: { [F in keyof UserSpec]?: F extends 'attributes' ? Record<string, string | null> : UserSpec[F] | null };
  labels?: Record<string, string | null>;
}

export function keyOf(object: { metadata: { namespace?: string; name: string } }): ObjectKey {
  return { namespace: object.metadata.namespace ?? 'default', name: object.metadata.name };
}

export function keyString(key: ObjectKey): string {
  return `${key.namespace}/${key.name}`;
}
