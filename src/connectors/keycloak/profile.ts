// Keycloak 24+ keeps only the user attributes its declarative user profile declares (unless the
// realm allows unmanaged attributes, which would let users edit them too). So the connector declares
// what it stores: the marker, viewable and editable only by admins, so a user can neither read nor
// change nor remove it through the account console or the account REST API; and the canonical
// attributes without a Keycloak field of their own (displayName, department, ...), which the user may
// view but only admins (Rollcall) edit. Declaring needs manage-realm once; after that (or when a realm
// admin declares them by hand) the connector needs only its user-management roles.
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import type { UserProfileAttribute, UserProfileConfig } from '@keycloak/keycloak-admin-client/lib/defs/userProfileMetadata.js';
import { PermanentError } from '../../api/index.ts';
import { httpStatus } from './errors.ts';
import { MARKER_ATTRIBUTE } from './marker.ts';
import { PROFILE_ATTRIBUTES } from './user.ts';

const ADMIN_ONLY = { view: ['admin'], edit: ['admin'] };
const USER_VIEWS = { view: ['admin', 'user'], edit: ['admin'] };

/** The declarations the connector needs, by attribute name. */
export function wantedDeclarations(): UserProfileAttribute[] {
  return [
    { name: MARKER_ATTRIBUTE, displayName: 'Rollcall ConnectedSystem', permissions: ADMIN_ONLY, multivalued: false },
    ...PROFILE_ATTRIBUTES.map((name) => ({ name, displayName: name, permissions: USER_VIEWS, multivalued: false })),
  ];
}

/** What is missing or wrong in `config`: undeclared attributes, or a marker a user could see or edit. */
export function profileGaps(config: UserProfileConfig): UserProfileAttribute[] {
  const declared = new Map((config.attributes ?? []).map((attribute) => [attribute.name, attribute]));
  return wantedDeclarations().filter((wanted) => {
    const existing = declared.get(wanted.name);
    if (!existing) return true;
    return wanted.name === MARKER_ATTRIBUTE && !isAdminOnly(existing);
  });
}

function isAdminOnly(attribute: UserProfileAttribute): boolean {
  const roles = [...(attribute.permissions?.view ?? []), ...(attribute.permissions?.edit ?? [])];
  return roles.every((role) => role === 'admin');
}

/** Declares what profileGaps finds; a client without manage-realm gets a message saying what to declare. */
export async function ensureProfile(client: KcAdminClient, system: string, realm: string): Promise<void> {
  const config = await client.users.getProfile({ realm });
  const gaps = profileGaps(config);
  if (gaps.length === 0) return;
  const fixed = new Map(gaps.map((attribute) => [attribute.name, attribute]));
  const attributes = (config.attributes ?? []).map((attribute) => fixed.get(attribute.name) ?? attribute);
  for (const gap of gaps) if (!attributes.some((attribute) => attribute.name === gap.name)) attributes.push(gap);
  try {
    await client.users.updateProfile({ ...config, attributes, realm });
  } catch (error) {
    if (httpStatus(error) !== 403) throw error;
    const names = gaps.map((gap) => gap.name).join(', ');
    throw new PermanentError(
      `Keycloak realm ${realm} of ${system}: its user profile must declare ${names} (${MARKER_ATTRIBUTE} with view and edit for admin only), ` +
        'and the admin client may not change the profile (it lacks manage-realm): declare them in Realm settings > User profile, or grant manage-realm once',
      { scope: 'system' },
    );
  }
}
