// What the Keycloak connector promises beyond the shared suite, proven against the real Keycloak:
// a leaver's sessions and offline tokens end, an initial password only opens the forced password
// change, the marker is out of the user's reach, the user profile is declared (or the message says
// what to declare), and client roles are entitlements like realm roles and groups.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError } from '../../src/api/index.ts';
import { MARKER_ATTRIBUTE } from '../../src/connectors/keycloak/index.ts';
import type { Connector } from '../../src/connectors/types.ts';
import { capturedLogger } from '../helpers/captured-logger.ts';
import { createRealm, masterAdmin, sharedKeycloak } from '../servers/keycloak.ts';
import { ADMIN_CLIENT_ROLES, SYSTEM, startKeycloakTarget, type KeycloakTarget } from './keycloak.target.ts';

const signal = () => AbortSignal.timeout(30_000);
const present = (userName: string, attributes: Record<string, string> = {}) => ({
  system: SYSTEM,
  userName,
  state: 'present' as const,
  attributes,
  entitlements: [],
});

beforeAll(() => sharedKeycloak().then(() => undefined), 600_000);

describe('keycloak connector behaviour', () => {
  let target: KeycloakTarget;
  let connector: Connector;
  const { logger, lines } = capturedLogger('trace');

  beforeAll(async () => {
    target = await startKeycloakTarget('behaviour');
    connector = await target.connect({ logger });
  }, 120_000);

  afterAll(async () => {
    await connector?.close();
    await target?.close();
  }, 60_000);

  it('declares that it ends sessions and sets initial passwords', () => {
    expect(connector.capabilities.endsSessions).toBe(true);
    expect(connector.capabilities.initialPassword).toBe(true);
  });

  it('a token obtained before the disable fails introspection and refresh after it, and stays dead after an enable', async () => {
    await connector.apply({ op: 'create', account: present('leaver') }, signal());
    await target.setPassword('leaver', 'Leaver-pass-1');
    const online = await target.token({ grant_type: 'password', username: 'leaver', password: 'Leaver-pass-1' });
    const offline = await target.token({ grant_type: 'password', username: 'leaver', password: 'Leaver-pass-1', scope: 'openid offline_access' });
    expect(online.status).toBe(200);
    expect(offline.status).toBe(200);
    const access = online.body['access_token'] as string;
    expect(await target.introspect(access)).toBe(true);
    expect((await target.token({ grant_type: 'refresh_token', refresh_token: online.body['refresh_token'] as string })).status).toBe(200);

    await connector.apply({ op: 'disable', userName: 'leaver' }, signal());
    expect(await target.introspect(access)).toBe(false);
    expect((await target.token({ grant_type: 'refresh_token', refresh_token: online.body['refresh_token'] as string })).status).toBe(400);
    expect((await target.token({ grant_type: 'refresh_token', refresh_token: offline.body['refresh_token'] as string })).status).toBe(400);
    const id = (await target.userId('leaver'))!;
    const admin = await target.admin();
    expect(await admin.users.listSessions({ id })).toEqual([]);
    expect(await admin.users.listConsents({ id })).toEqual([]);

    // Re-enabled, the person logs in anew: the old sessions and the offline token are gone, not merely blocked.
    await connector.apply({ op: 'enable', userName: 'leaver' }, signal());
    expect(await target.introspect(access)).toBe(false);
    expect((await target.token({ grant_type: 'refresh_token', refresh_token: offline.body['refresh_token'] as string })).status).toBe(400);
    expect((await target.token({ grant_type: 'password', username: 'leaver', password: 'Leaver-pass-1' })).status).toBe(200);
  });

  it('a delete ends the sessions too', async () => {
    await connector.apply({ op: 'create', account: present('gone') }, signal());
    await target.setPassword('gone', 'Gone-pass-1');
    const online = await target.token({ grant_type: 'password', username: 'gone', password: 'Gone-pass-1' });
    await connector.apply({ op: 'delete', userName: 'gone' }, signal());
    expect(await target.introspect(online.body['access_token'] as string)).toBe(false);
    expect((await target.token({ grant_type: 'refresh_token', refresh_token: online.body['refresh_token'] as string })).status).toBe(400);
  });

  it('an initial password lets the joiner in only to the forced password change', async () => {
    const initialPassword = 'Initial-pass-7x';
    await connector.apply({ op: 'create', account: present('joiner'), initialPassword }, signal());
    const right = await target.token({ grant_type: 'password', username: 'joiner', password: initialPassword });
    const wrong = await target.token({ grant_type: 'password', username: 'joiner', password: 'not-the-password' });
    // The right password is accepted, but the account must first pass UPDATE_PASSWORD (a browser flow).
    expect(right.status).toBe(400);
    expect(right.body['error_description']).toBe('Account is not fully set up');
    expect(wrong.body['error_description']).toBe('Invalid user credentials');
    const admin = await target.admin();
    const [user] = await admin.users.find({ username: 'joiner', exact: true });
    expect(user?.requiredActions).toEqual(['UPDATE_PASSWORD']);
    const credentials = await admin.users.getCredentials({ id: user!.id! });
    expect(credentials.map((credential) => credential.type)).toEqual(['password']);
    expect(lines.join('\n')).not.toContain(initialPassword);
  });

  it('the user can neither see, change nor remove the marker through the account REST API', async () => {
    await connector.apply({ op: 'create', account: present('selfish', { givenName: 'Sel', familyName: 'Fish', email: 'selfish@example.org' }) }, signal());
    await target.setPassword('selfish', 'Selfish-pass-1');
    const { body } = await target.token({ grant_type: 'password', username: 'selfish', password: 'Selfish-pass-1' });
    const account = `${target.keycloak.url}/realms/${target.realm}/account`;
    const headers = { authorization: `Bearer ${body['access_token'] as string}`, 'content-type': 'application/json', accept: 'application/json' };
    const own = (await (await fetch(account, { headers })).json()) as Record<string, unknown> & { attributes?: Record<string, string[]> };
    expect(own['username']).toBe('selfish');
    expect(own.attributes?.[MARKER_ATTRIBUTE]).toBeUndefined();

    for (const attributes of [{ [MARKER_ATTRIBUTE]: ['other/system'] }, { [MARKER_ATTRIBUTE]: [] }, {}]) {
      const response = await fetch(account, { method: 'POST', headers, body: JSON.stringify({ ...own, firstName: 'Changed', attributes }) });
      // Accepted (the first name is the user's to edit) or refused: either way the marker stays.
      expect([204, 400]).toContain(response.status);
      const [user] = await (await target.admin()).users.find({ username: 'selfish', exact: true, briefRepresentation: false });
      expect(user?.attributes?.[MARKER_ATTRIBUTE]).toEqual([SYSTEM]);
    }
    const after = await connector.getAccount('selfish', signal());
    expect(after?.owner).toBeUndefined();
    expect(after?.attributes['givenName']).toBe('Changed');
  });

  it('grants and revokes a client role, spelled client:CLIENT/ROLE (clientIds may hold slashes)', async () => {
    const admin = await target.admin();
    const { id } = await admin.clients.create({ clientId: 'https://app.example.org/saml', publicClient: true });
    await admin.clients.createRole({ id, name: 'reader' });
    await connector.apply({ op: 'create', account: present('clientele') }, signal());
    const entitlement = 'client:https://app.example.org/saml/reader';
    await connector.apply({ op: 'grant', userName: 'clientele', entitlement }, signal());
    await connector.apply({ op: 'grant', userName: 'clientele', entitlement: 'realm:auditors' }, signal());
    expect((await connector.getAccount('clientele', signal()))?.entitlements).toEqual([entitlement, 'realm:auditors']);
    const [user] = await admin.users.find({ username: 'clientele', exact: true });
    expect((await admin.users.listClientRoleMappings({ id: user!.id!, clientUniqueId: id })).map((role) => role.name)).toEqual(['reader']);
    await connector.apply({ op: 'revoke', userName: 'clientele', entitlement }, signal());
    expect((await connector.getAccount('clientele', signal()))?.entitlements).toEqual(['realm:auditors']);
  });

  it('refuses a role or group that does not exist, and a name that spells no entitlement, naming it', async () => {
    await connector.apply({ op: 'create', account: present('picky') }, signal());
    for (const entitlement of ['realm:no-such-role', 'group:/no/such/group', 'client:no-such-client/role']) {
      const error = await connector.apply({ op: 'grant', userName: 'picky', entitlement }, signal()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PermanentError);
      expect((error as Error).message).toContain(JSON.stringify(entitlement));
    }
    expect(connector.refusal?.('vpn-users')).toMatch(/realm:ROLE, client:CLIENT\/ROLE or group:\/path\/to\/group/);
    expect(connector.refusal?.(`realm:default-roles-${target.realm}`)).toMatch(/default role/);
  });

  it("reports an unmarked user as unmanaged and adopts it, keeping its attributes; another system's is foreign and never adopted", async () => {
    const admin = await target.admin();
    await admin.users.create({ username: 'legacy-user', enabled: true, firstName: 'Leg', attributes: { department: ['Ops'] } });
    await admin.users.create({ username: 'theirs', enabled: true, attributes: { [MARKER_ATTRIBUTE]: ['other/system'] } });
    expect((await connector.getAccount('legacy-user', signal()))?.owner).toBe('unmanaged');
    expect((await connector.getAccount('theirs', signal()))?.owner).toBe('foreign');
    await connector.apply({ op: 'adopt', userName: 'legacy-user' }, signal());
    const adopted = await connector.getAccount('legacy-user', signal());
    expect(adopted?.owner).toBeUndefined();
    expect(adopted?.attributes).toEqual({ givenName: 'Leg', department: 'Ops' });
    await expect(connector.apply({ op: 'adopt', userName: 'theirs' }, signal())).rejects.toThrow('belongs to another ConnectedSystem');
    const [theirs] = await admin.users.find({ username: 'theirs', exact: true, briefRepresentation: false });
    expect(theirs?.attributes?.[MARKER_ATTRIBUTE]).toEqual(['other/system']);
  });

  it('refuses a user name Keycloak would store in another case', async () => {
    const error = await connector.apply({ op: 'create', account: present('Upper') }, signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toMatch(/lower case/);
    expect(await target.userId('upper')).toBeUndefined();
  });

  describe('the user profile', () => {
    it('a client with manage-realm declares the marker admin-only itself', async () => {
      const keycloak = await sharedKeycloak();
      const realm = await createRealm(keycloak, 'profile');
      const master = await masterAdmin(keycloak, realm);
      try {
        const secret = await serviceAccountIn(master, realm, [...ADMIN_CLIENT_ROLES, 'manage-realm']);
        const own = await target.connectWith({
          logger,
          spec: { keycloak: { url: keycloak.url, realm, clientId: 'rollcall' } },
          credentials: { clientSecret: secret },
        });
        await own.check(signal());
        await own.close();
        const marker = (await master.users.getProfile({ realm })).attributes?.find((attribute) => attribute.name === MARKER_ATTRIBUTE);
        expect(marker?.permissions).toEqual({ view: ['admin'], edit: ['admin'] });
      } finally {
        await master.realms.del({ realm });
      }
    });

    it('a least-privilege client on an undeclared profile is told what to declare', async () => {
      const keycloak = await sharedKeycloak();
      const realm = await createRealm(keycloak, 'profile');
      const master = await masterAdmin(keycloak, realm);
      try {
        const secret = await serviceAccountIn(master, realm, ADMIN_CLIENT_ROLES);
        const own = await target.connectWith({
          logger,
          spec: { keycloak: { url: keycloak.url, realm, clientId: 'rollcall' } },
          credentials: { clientSecret: secret },
        });
        const error = await own.check(signal()).catch((e: unknown) => e);
        await own.close();
        expect(error).toBeInstanceOf(PermanentError);
        expect((error as Error).message).toMatch(new RegExp(`must declare ${MARKER_ATTRIBUTE}.*manage-realm`));
        expect((await master.users.getProfile({ realm })).attributes?.some((attribute) => attribute.name === MARKER_ATTRIBUTE)).toBe(false);
      } finally {
        await master.realms.del({ realm });
      }
    });
  });
});

/** A `rollcall` client in `realm` whose service account holds `roles` of realm-management; its secret. */
async function serviceAccountIn(admin: Awaited<ReturnType<typeof masterAdmin>>, realm: string, roles: readonly string[]): Promise<string> {
  const secret = `sa-${crypto.randomUUID()}`;
  const { id } = await admin.clients.create({
    realm,
    clientId: 'rollcall',
    publicClient: false,
    secret,
    serviceAccountsEnabled: true,
    standardFlowEnabled: false,
  });
  const user = await admin.clients.getServiceAccountUser({ realm, id });
  const [management] = await admin.clients.find({ realm, clientId: 'realm-management' });
  const available = await admin.clients.listRoles({ realm, id: management!.id! });
  const wanted = available.filter((role) => roles.includes(role.name!)).map((role) => ({ id: role.id!, name: role.name! }));
  await admin.users.addClientRoleMappings({ realm, id: user.id!, clientUniqueId: management!.id!, roles: wanted });
  return secret;
}
