// Granting and revoking one entitlement: the role or group it names is looked up first, so a name
// that names nothing is refused with that reason instead of a bare 404.
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import type GroupRepresentation from '@keycloak/keycloak-admin-client/lib/defs/groupRepresentation.js';
import type RoleRepresentation from '@keycloak/keycloak-admin-client/lib/defs/roleRepresentation.js';
import { PermanentError } from '../../api/index.ts';
import { httpStatus } from './errors.ts';
import type { Entitlement } from './entitlements.ts';

/** `call`'s answer, or undefined when Keycloak answers 404. */
export async function unless404<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return (await call) ?? undefined;
  } catch (error) {
    if (httpStatus(error) === 404) return undefined;
    throw error;
  }
}

export type Target =
  | { kind: 'realm'; role: RoleRepresentation & { id: string; name: string } }
  | { kind: 'client'; clientUuid: string; clientId: string; role: RoleRepresentation & { id: string; name: string } }
  | { kind: 'group'; group: GroupRepresentation & { id: string } };

/** What `entitlement` names in the realm, or undefined when it names nothing there. */
export async function findTarget(client: KcAdminClient, entitlement: Entitlement): Promise<Target | undefined> {
  switch (entitlement.kind) {
    case 'realm': {
      const role = await unless404(client.roles.findOneByName({ name: entitlement.role }));
      return role?.id && role.name ? { kind: 'realm', role: { ...role, id: role.id, name: role.name } } : undefined;
    }
    case 'client': {
      const clients = await client.clients.find({ clientId: entitlement.clientId, search: false });
      const found = clients.find((candidate) => candidate.clientId === entitlement.clientId);
      if (!found?.id) return undefined;
      const role = await unless404(client.clients.findRole({ id: found.id, roleName: entitlement.role }));
      return role?.id && role.name
        ? { kind: 'client', clientUuid: found.id, clientId: entitlement.clientId, role: { ...role, id: role.id, name: role.name } }
        : undefined;
    }
    case 'group': {
      const group = await unless404(client.realms.getGroupByPath({ realm: realmOf(client), path: entitlement.path.slice(1) }));
      return group?.id && group.path === entitlement.path ? { kind: 'group', group: { ...group, id: group.id } } : undefined;
    }
  }
}

export async function grant(client: KcAdminClient, userId: string, target: Target): Promise<void> {
  switch (target.kind) {
    case 'realm':
      return client.users.addRealmRoleMappings({ id: userId, roles: [{ id: target.role.id, name: target.role.name }] });
    case 'client':
      return client.users.addClientRoleMappings({ id: userId, clientUniqueId: target.clientUuid, roles: [{ id: target.role.id, name: target.role.name }] });
    case 'group':
      return void (await client.users.addToGroup({ id: userId, groupId: target.group.id }));
  }
}

export async function revoke(client: KcAdminClient, userId: string, target: Target): Promise<void> {
  switch (target.kind) {
    case 'realm':
      return client.users.delRealmRoleMappings({ id: userId, roles: [{ id: target.role.id, name: target.role.name }] });
    case 'client':
      return client.users.delClientRoleMappings({ id: userId, clientUniqueId: target.clientUuid, roles: [{ id: target.role.id, name: target.role.name }] });
    case 'group':
      return void (await client.users.delFromGroup({ id: userId, groupId: target.group.id }));
  }
}

export function missingTarget(system: string, entitlement: string): PermanentError {
  return new PermanentError(
    `Keycloak entitlement ${JSON.stringify(entitlement)} names no role or group in ${system}: create it in Keycloak, or fix the AccessRole`,
    { scope: 'account' },
  );
}

function realmOf(client: KcAdminClient): string {
  return client.realmName;
}
