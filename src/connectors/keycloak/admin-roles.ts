// Administrative roles are never entitlements unless spec.allowedEntitlements names them exactly (a
// glob does not count): the roles of the `realm-management` client (manage-users, realm-admin, ...),
// in the master realm the roles of every `<realm>-realm` client (master-realm, ...) and the realm
// roles `admin` and `create-realm`, and any role or group that reaches one of them through composites
// or group inheritance. Granted, they would let a person administer the realm (or every realm), and
// Rollcall itself with it. Keycloak also refuses to map an admin role the caller does not hold, so
// a least-privilege admin client (manage-users) could not grant them anyway; this refusal says why
// before trying, and revokes one held from before.
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import type RoleRepresentation from '@keycloak/keycloak-admin-client/lib/defs/roleRepresentation.js';
import type { RefusedEntitlement } from '../../api/index.ts';
import { parseEntitlement } from './entitlements.ts';
import { findTarget, type Target } from './grants.ts';

const MASTER = 'master';
const MASTER_ADMIN_ROLES = new Set(['admin', 'create-realm']);
/** Composite chains are short; the bound only stops a pathological graph from running long. */
const MAX_ROLES_VISITED = 500;

/** Whether a client's roles are administrative: realm-management anywhere, `<realm>-realm` in master. */
export function isAdminClient(realm: string, clientId: string): boolean {
  return clientId === 'realm-management' || (realm === MASTER && clientId.endsWith('-realm'));
}

interface Reached {
  role: RoleRepresentation;
  /** The name of the admin role as a person reads it: "realm-management/manage-users", "realm role admin". */
  label: string;
}

/** The entitlements among `names` that reach an administrative role and are not named in `allowed`. */
export async function refusedAdminEntitlements(
  client: KcAdminClient,
  realm: string,
  names: readonly string[],
  allowed: readonly string[],
): Promise<RefusedEntitlement[]> {
  const clientIds = new Map<string, string | undefined>();
  const clientIdOf = async (uuid: string) => {
    if (!clientIds.has(uuid)) clientIds.set(uuid, (await client.clients.findOne({ id: uuid }))?.clientId);
    return clientIds.get(uuid);
  };
  const refused: RefusedEntitlement[] = [];
  for (const name of names) {
    if (allowed.includes(name)) continue;
    const entitlement = parseEntitlement(name);
    if (typeof entitlement === 'string') continue; // refusal() reports the spelling
    const target = await findTarget(client, entitlement);
    if (!target) continue; // the grant reports that it names nothing
    const reached = await firstAdminRole(client, realm, target, clientIdOf);
    if (reached) refused.push({ entitlement: name, reason: reason(name, reached) });
  }
  return refused;
}

function reason(name: string, reached: Reached & { via?: string }): string {
  const what = reached.via
    ? `reaches the Keycloak administrative role ${reached.label} (through ${reached.via})`
    : `is the Keycloak administrative role ${reached.label}`;
  return `${JSON.stringify(name)} ${what}; never granted unless spec.allowedEntitlements names ${JSON.stringify(name)} exactly`;
}

/** The first administrative role `target` is or reaches, breadth first, with the role or group it came through. */
async function firstAdminRole(
  client: KcAdminClient,
  realm: string,
  target: Target,
  clientIdOf: (uuid: string) => Promise<string | undefined>,
): Promise<(Reached & { via?: string }) | undefined> {
  const queue: { role: RoleRepresentation; via?: string }[] = [];
  if (target.kind === 'group') {
    // A member holds the roles of the group and of every group above it.
    for (const path of ancestry(target.group.path ?? '')) {
      const group = await client.realms.getGroupByPath({ realm, path: path.slice(1) });
      if (!group?.id) continue;
      const mappings = await client.groups.listRoleMappings({ id: group.id });
      for (const role of mappings.realmMappings ?? []) queue.push({ role, via: `group ${path}` });
      for (const mapped of Object.values(mappings.clientMappings ?? {}) as { mappings?: RoleRepresentation[] }[]) {
        for (const role of mapped.mappings ?? []) queue.push({ role, via: `group ${path}` });
      }
    }
  } else {
    queue.push({ role: target.role });
  }
  const seen = new Set<string>();
  while (queue.length > 0 && seen.size < MAX_ROLES_VISITED) {
    const { role, via } = queue.shift()!;
    if (!role.id || seen.has(role.id)) continue;
    seen.add(role.id);
    const label = await adminLabel(realm, role, clientIdOf);
    if (label) return { role, label, ...(via ? { via } : {}) };
    if (!role.composite) continue;
    const through = via ?? `composite role ${role.name}`;
    for (const inner of await client.roles.getCompositeRoles({ id: role.id })) queue.push({ role: inner, via: through });
  }
  return undefined;
}

async function adminLabel(realm: string, role: RoleRepresentation, clientIdOf: (uuid: string) => Promise<string | undefined>): Promise<string | undefined> {
  if (!role.clientRole) return realm === MASTER && role.name && MASTER_ADMIN_ROLES.has(role.name) ? `realm role ${role.name}` : undefined;
  const clientId = role.containerId ? await clientIdOf(role.containerId) : undefined;
  return clientId && isAdminClient(realm, clientId) ? `${clientId}/${role.name}` : undefined;
}

/** "/a/b/c" → ["/a", "/a/b", "/a/b/c"]. */
function ancestry(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  return parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
}
