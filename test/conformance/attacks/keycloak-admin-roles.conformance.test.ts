// Attack: a tenant who may write AccessRoles for a keycloak ConnectedSystem names Keycloak's
// administrative roles as entitlements, hoping Rollcall hands its Users the realm: the
// realm-management roles themselves (manage-users, realm-admin), a harmless-looking composite realm
// role that contains manage-users, a client role that contains realm-admin, and a group whose
// parent group maps view-users. Even with an admin client powerful enough to grant them
// (realm-admin), each is refused with a reason, never granted, and revoked if held from before. A
// system whose spec.allowedEntitlements names one exactly lets that one through (a glob does not).
// Planned the way the controllers plan (systemRefusal, accountPlan); asserted on Keycloak's own role
// mappings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, type DesiredAccount } from '../../../src/api/index.ts';
import type { Connector } from '../../../src/connectors/types.ts';
import { systemRefusal } from '../../../src/connections/refusal.ts';
import { accountPlan } from '../../../src/engine/index.ts';
import { capturedLogger } from '../../helpers/captured-logger.ts';
import { user } from '../../unit/engine/fixtures.ts';
import { sharedKeycloak } from '../../servers/keycloak.ts';
import { SYSTEM, startKeycloakTarget, type KeycloakTarget } from '../keycloak.target.ts';

const signal = () => AbortSignal.timeout(30_000);
const ADMIN_ENTITLEMENTS = [
  'client:realm-management/manage-users',
  'client:realm-management/realm-admin',
  'realm:helpdesk', // a composite realm role containing realm-management/manage-users
  'client:portal/operator', // a client role containing realm-management/realm-admin
  'group:/support/tier1', // its parent group /support maps realm-management/view-users
];
const PLAIN = 'realm:vpn-users';

beforeAll(() => sharedKeycloak().then(() => undefined), 600_000);

describe('keycloak: administrative roles are never entitlements unless allowedEntitlements names them', () => {
  let target: KeycloakTarget;
  let connector: Connector;
  let powerfulSecret = '';
  const { logger } = capturedLogger('warn');

  beforeAll(async () => {
    target = await startKeycloakTarget('attack');
    const admin = await target.admin();
    const [management] = await admin.clients.find({ clientId: 'realm-management' });
    const role = async (name: string) => {
      const found = await admin.clients.findRole({ id: management!.id!, roleName: name });
      return { id: found!.id!, name: found!.name! };
    };
    await admin.roles.create({ name: 'helpdesk' });
    const helpdesk = await admin.roles.findOneByName({ name: 'helpdesk' });
    await admin.roles.createComposite({ roleId: helpdesk!.id! }, [await role('manage-users')]);
    const { id: portal } = await admin.clients.create({ clientId: 'portal', publicClient: true });
    await admin.clients.createRole({ id: portal, name: 'operator' });
    const operator = await admin.clients.findRole({ id: portal, roleName: 'operator' });
    await admin.roles.createComposite({ roleId: operator!.id! }, [await role('realm-admin')]);
    const support = await admin.groups.create({ name: 'support' });
    await admin.groups.createChildGroup({ id: support.id }, { name: 'tier1' });
    await admin.groups.addClientRoleMappings({ id: support.id, clientUniqueId: management!.id!, roles: [await role('view-users')] });
    // An admin client that could grant every one of them: only Rollcall's refusal stands in the way.
    powerfulSecret = await target.serviceAccount('rollcall-powerful', ['realm-admin']);
    connector = await target.connectWith({
      logger,
      spec: { keycloak: { url: target.keycloak.url, realm: target.realm, clientId: 'rollcall-powerful' } },
      credentials: { clientSecret: powerfulSecret },
    });
    await connector.apply({ op: 'create', account: desired('mallory', []) }, signal());
  }, 180_000);

  afterAll(async () => {
    await connector?.close();
    await target?.close();
  }, 60_000);

  /** One pass as the User reconciler runs it: ask the system what it refuses, plan, apply. */
  async function pass(entitlements: string[], allowedEntitlements?: string[]) {
    const refusal = await systemRefusal(connector, entitlements, signal());
    const observed = await connector.getAccount('mallory', signal());
    const plan = accountPlan(user('mallory'), desired('mallory', entitlements), observed, connector.capabilities, {
      refusal,
      ...(allowedEntitlements ? { allowedEntitlements } : {}),
    });
    for (const change of plan.changes) await connector.apply(change, signal());
    return plan;
  }

  it('refuses each administrative role, composite and group with a reason, and grants only the plain role', async () => {
    const plan = await pass([...ADMIN_ENTITLEMENTS, PLAIN].sort());
    const reasons = Object.fromEntries(plan.refused.map((r) => [r.entitlement, r.reason]));
    expect(Object.keys(reasons).sort()).toEqual([...ADMIN_ENTITLEMENTS].sort());
    expect(reasons['client:realm-management/manage-users']).toContain('is the Keycloak administrative role realm-management/manage-users');
    expect(reasons['realm:helpdesk']).toContain('reaches the Keycloak administrative role realm-management/manage-users (through composite role helpdesk)');
    expect(reasons['client:portal/operator']).toContain('realm-management/realm-admin');
    expect(reasons['group:/support/tier1']).toContain('realm-management/view-users (through group /support)');
    for (const reason of Object.values(reasons)) expect(reason).toContain('spec.allowedEntitlements');
    expect(await heldByMallory()).toEqual([PLAIN]);
  });

  it('a grant that reaches the connector all the same is refused there too', async () => {
    for (const entitlement of ADMIN_ENTITLEMENTS) {
      const error = await connector.apply({ op: 'grant', userName: 'mallory', entitlement }, signal()).catch((e: unknown) => e);
      expect(error, entitlement).toBeInstanceOf(PermanentError);
      expect((error as Error).message).toContain('administrative role');
    }
    expect(await heldByMallory()).toEqual([PLAIN]);
  });

  it('an administrative role held from before is revoked', async () => {
    const admin = await target.admin();
    const [management] = await admin.clients.find({ clientId: 'realm-management' });
    const manageUsers = await admin.clients.findRole({ id: management!.id!, roleName: 'manage-users' });
    const id = (await target.userId('mallory'))!;
    await admin.users.addClientRoleMappings({ id, clientUniqueId: management!.id!, roles: [{ id: manageUsers!.id!, name: 'manage-users' }] });
    const plan = await pass(['client:realm-management/manage-users', PLAIN]);
    expect(plan.changes).toContainEqual({ op: 'revoke', userName: 'mallory', entitlement: 'client:realm-management/manage-users' });
    expect(await heldByMallory()).toEqual([PLAIN]);
  });

  it('allowedEntitlements naming one exactly lets that one through; a glob does not', async () => {
    const glob = await pass(['client:realm-management/manage-users', PLAIN], ['client:realm-management/*', PLAIN]);
    expect(glob.refused.map((r) => r.entitlement)).toEqual(['client:realm-management/manage-users']);
    expect(await heldByMallory()).toEqual([PLAIN]);

    const own = await target.connectWith({
      logger,
      spec: {
        keycloak: { url: target.keycloak.url, realm: target.realm, clientId: 'rollcall-powerful' },
        allowedEntitlements: ['client:realm-management/manage-users', PLAIN],
      },
      credentials: { clientSecret: powerfulSecret },
    });
    const previous = connector;
    connector = own;
    try {
      const named = await pass(['client:realm-management/manage-users', PLAIN], ['client:realm-management/manage-users', PLAIN]);
      expect(named.refused).toEqual([]);
      expect(await heldByMallory()).toEqual(['client:realm-management/manage-users', PLAIN]);
    } finally {
      connector = previous;
      await own.close();
    }
  });

  /** Mallory's direct role mappings and groups, read as the master admin. */
  async function heldByMallory(): Promise<string[]> {
    const admin = await target.admin();
    const id = (await target.userId('mallory'))!;
    const mappings = await admin.users.listRoleMappings({ id });
    const held = [
      ...(mappings.realmMappings ?? []).map((role) => `realm:${role.name}`).filter((name) => !name.startsWith('realm:default-roles-')),
      ...Object.entries(mappings.clientMappings ?? {}).flatMap(([clientId, client]) =>
        ((client as { mappings?: { name?: string }[] }).mappings ?? []).map((role) => `client:${clientId}/${role.name}`),
      ),
      ...(await admin.users.listGroups({ id })).map((group) => `group:${group.path}`),
    ];
    return held.sort();
  }

  function desired(userName: string, entitlements: string[]): DesiredAccount {
    return { system: SYSTEM, userName, state: 'present', attributes: {}, entitlements };
  }
});
