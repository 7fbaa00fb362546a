// Entitlements are spelled `realm:ROLE` (a realm role), `client:CLIENT/ROLE` (a role of the client
// whose clientId is CLIENT; split at the last "/", since clientIds are often URLs) and
// `group:/path/to/group` (membership of a group, by its full path). A user's entitlements are its
// direct role mappings and group memberships, never the composite or inherited ones.
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import type MappingsRepresentation from '@keycloak/keycloak-admin-client/lib/defs/mappingsRepresentation.js';

export type Entitlement = { kind: 'realm'; role: string } | { kind: 'client'; clientId: string; role: string } | { kind: 'group'; path: string };

const SPELLING = 'spell it realm:ROLE, client:CLIENT/ROLE or group:/path/to/group';

/** The entitlement `name` spells, or why it spells none. */
export function parseEntitlement(name: string): Entitlement | string {
  const colon = name.indexOf(':');
  const kind = name.slice(0, colon);
  const rest = name.slice(colon + 1);
  if (colon < 0) return `${JSON.stringify(name)} names no kind of Keycloak entitlement: ${SPELLING}`;
  if (kind === 'realm' && rest !== '') return { kind, role: rest };
  if (kind === 'client') {
    const slash = rest.lastIndexOf('/');
    if (slash > 0 && slash < rest.length - 1) return { kind, clientId: rest.slice(0, slash), role: rest.slice(slash + 1) };
  }
  if (kind === 'group' && rest.startsWith('/') && rest.length > 1 && !rest.endsWith('/') && !rest.includes('//')) return { kind, path: rest };
  return `${JSON.stringify(name)} is not a Keycloak entitlement: ${SPELLING}`;
}

/** Every realm gets a default role that each new user holds: `default-roles-<realm>` (lower case). */
export function defaultRoleName(realm: string): string {
  return `default-roles-${realm.toLowerCase()}`;
}

/** The entitlements `mappings` and `groupPaths` spell, sorted, without the realm's default role. */
export function spelledEntitlements(realm: string, mappings: MappingsRepresentation, groupPaths: readonly string[]): string[] {
  const names = new Set<string>();
  for (const role of mappings.realmMappings ?? []) if (role.name && role.name !== defaultRoleName(realm)) names.add(`realm:${role.name}`);
  for (const [clientId, client] of Object.entries(mappings.clientMappings ?? {})) {
    for (const role of (client as { mappings?: { name?: string }[] }).mappings ?? []) if (role.name) names.add(`client:${clientId}/${role.name}`);
  }
  for (const path of groupPaths) names.add(`group:${path}`);
  return [...names].sort();
}

const GROUP_PAGE = 100;

/** The full paths of the groups `userId` is a direct member of. */
export async function groupPathsOf(client: KcAdminClient, userId: string): Promise<string[]> {
  const paths: string[] = [];
  for (let first = 0; ; first += GROUP_PAGE) {
    const page = await client.users.listGroups({ id: userId, first, max: GROUP_PAGE, briefRepresentation: true });
    for (const group of page) if (group.path) paths.push(group.path);
    if (page.length < GROUP_PAGE) return paths;
  }
}
