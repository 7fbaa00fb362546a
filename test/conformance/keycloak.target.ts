// The conformance target for Keycloak: the run's one real Keycloak (test/servers/keycloak.ts), a
// fresh realm per target, reached by the connector through a TCP proxy of the target's own (so the
// fault tests can stop or hang "the server" without disturbing other files), and probed out of band
// as the master admin and with OpenID Connect as the users themselves.
//
// The connector works as a least-privilege service account: the client `rollcall` whose service
// account holds only the realm-management roles ADMIN_CLIENT_ROLES, never master admin. The realm's
// user profile is declared beforehand, as a realm admin would (profile.ts says what to declare).
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import type { Logger } from 'pino';
import { connectedSystemSpec } from '../../src/api/index.ts';
import { wantedDeclarations } from '../../src/connectors/keycloak/profile.ts';
import { connectorFactory } from '../../src/connectors/registry.ts';
import type { Connector } from '../../src/connectors/types.ts';
import { createRealm, masterAdmin, sharedKeycloak, type Keycloak } from '../servers/keycloak.ts';
import { startProxy } from '../servers/tcp-proxy.ts';
import type { ConformanceTarget } from './harness.ts';

/** What the connector's service account holds: manage-users, and read access to roles, clients and groups. */
export const ADMIN_CLIENT_ROLES = ['manage-users', 'view-realm', 'view-clients', 'query-groups'] as const;
export const SYSTEM = 'conformance/keycloak';
export const PROBE_CLIENT = 'probe';

export interface KeycloakTarget extends ConformanceTarget {
  keycloak: Keycloak;
  realm: string;
  /** The master admin, working in the target's realm. */
  admin(): Promise<KcAdminClient>;
  /** A connector for `system` with spec.keycloak and spec overrides. */
  connectWith(options: {
    logger: Logger;
    system?: string;
    spec?: Record<string, unknown>;
    credentials?: Record<string, string>;
    timeoutMs?: number;
  }): Promise<Connector>;
  /** A client of the realm with a service account holding `roles` of realm-management; returns its secret. */
  serviceAccount(clientId: string, roles: readonly string[]): Promise<string>;
  /** The OpenID Connect token endpoint of the realm, through the probe client (confidential, direct grants on). */
  token(form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }>;
  /** RFC 7662 introspection of `token` by the probe client. */
  introspect(token: string): Promise<boolean>;
  /** Sets a (non-temporary) password out of band. */
  setPassword(userName: string, password: string): Promise<void>;
  userId(userName: string): Promise<string | undefined>;
}

export async function startKeycloakTarget(prefix = 'conformance'): Promise<KeycloakTarget> {
  const keycloak = await sharedKeycloak();
  const realm = await createRealm(keycloak, prefix);
  const admin = () => masterAdmin(keycloak, realm);
  const setup = await admin();
  // Rollcall's attributes declared as a realm admin would; users need no name or e-mail to log in
  // here (the realm's VERIFY_PROFILE action would otherwise ask for them first); admin events on, so
  // a fingerprint sees every write.
  const profile = await setup.users.getProfile({ realm });
  await setup.users.updateProfile({ ...profile, attributes: [...(profile.attributes ?? []), ...wantedDeclarations()], realm });
  await setup.authenticationManagement.updateRequiredAction(
    { alias: 'VERIFY_PROFILE' },
    { alias: 'VERIFY_PROFILE', name: 'Verify Profile', providerId: 'VERIFY_PROFILE', enabled: false },
  );
  await setup.realms.update({ realm }, { adminEventsEnabled: true, adminEventsDetailsEnabled: false });
  for (const role of ['vpn-users', 'auditors']) await setup.roles.create({ name: role });
  const staff = await setup.groups.create({ name: 'staff' });
  await setup.groups.createChildGroup({ id: staff.id }, { name: 'engineering' });
  const probeSecret = `probe-${crypto.randomUUID()}`;
  // Keycloak 26 introspects a token only for a client in its audience: the probe puts itself there.
  const audience = {
    name: 'probe-audience',
    protocol: 'openid-connect',
    protocolMapper: 'oidc-audience-mapper',
    config: { 'included.client.audience': PROBE_CLIENT, 'access.token.claim': 'true', 'introspection.token.claim': 'true' },
  };
  await setup.clients.create({
    clientId: PROBE_CLIENT,
    publicClient: false,
    secret: probeSecret,
    directAccessGrantsEnabled: true,
    standardFlowEnabled: false,
    serviceAccountsEnabled: false,
    protocolMappers: [audience],
  });

  const serviceAccount = async (clientId: string, roles: readonly string[]) => {
    const secret = `sa-${crypto.randomUUID()}`;
    const { id } = await setup.clients.create({
      clientId,
      publicClient: false,
      secret,
      serviceAccountsEnabled: true,
      standardFlowEnabled: false,
      directAccessGrantsEnabled: false,
    });
    const user = await setup.clients.getServiceAccountUser({ id });
    const [management] = await setup.clients.find({ clientId: 'realm-management' });
    const available = await setup.clients.listRoles({ id: management!.id! });
    const wanted = available.filter((role) => roles.includes(role.name!)).map((role) => ({ id: role.id!, name: role.name! }));
    await setup.users.addClientRoleMappings({ id: user.id!, clientUniqueId: management!.id!, roles: wanted });
    return secret;
  };
  const clientSecret = await serviceAccount('rollcall', ADMIN_CLIENT_ROLES);
  const badSecret = 'wrong-secret-0123456789abcdef';
  const proxy = await startProxy(Number(new URL(keycloak.url).port));
  const userPasswords = new Map<string, string>();
  const foreign = new Map<string, string>();

  const userId = async (userName: string) => {
    const client = await admin();
    return (await client.users.find({ username: userName, exact: true })).find((user) => user.username === userName)?.id;
  };
  const token = async (form: Record<string, string>) => {
    const response = await fetch(`${keycloak.url}/realms/${realm}/protocol/openid-connect/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${PROBE_CLIENT}:${probeSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams(form),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const introspect = async (value: string) => {
    const response = await fetch(`${keycloak.url}/realms/${realm}/protocol/openid-connect/token/introspect`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${PROBE_CLIENT}:${probeSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token: value }),
    });
    return ((await response.json()) as { active?: boolean }).active === true;
  };
  const setPassword = async (userName: string, password: string) => {
    const id = await userId(userName);
    if (!id) throw new Error(`no user ${userName}`);
    await (await admin()).users.resetPassword({ id, credential: { type: 'password', value: password, temporary: false } });
    userPasswords.set(userName, password);
  };
  const connectWith: KeycloakTarget['connectWith'] = async ({ logger, system = SYSTEM, spec, credentials, timeoutMs }) => {
    const parsed = connectedSystemSpec.parse({
      type: 'keycloak',
      // Plaintext to the loopback test server: TLS is the same undici agent the scim connector proves.
      insecure: true,
      allowPrivateNetwork: true,
      keycloak: { url: `http://127.0.0.1:${proxy.port}`, realm, clientId: 'rollcall' },
      credentialsSecretRef: { name: 'keycloak-admin' },
      ...spec,
    });
    const factory = await connectorFactory('keycloak');
    return factory({ system, namespace: system.split('/')[0]!, spec: parsed, credentials: credentials ?? { clientSecret }, logger, timeoutMs });
  };

  return {
    keycloak,
    realm,
    admin,
    connectWith,
    serviceAccount,
    token,
    setPassword,
    userId,
    introspect,
    connect: ({ logger, credentials, timeoutMs }) => connectWith({ logger, ...(credentials ? { credentials } : {}), ...(timeoutMs ? { timeoutMs } : {}) }),
    entitlements: ['group:/staff/engineering', 'realm:vpn-users'],
    attribute: 'displayName',
    // A password grant as the user: Keycloak's own answer to "may this person log in now".
    canLogin: async (userName) => {
      if (!(await userId(userName))) return false;
      if (!userPasswords.has(userName)) await setPassword(userName, `pw-${crypto.randomUUID()}`);
      const { status } = await token({ grant_type: 'password', username: userName, password: userPasswords.get(userName)! });
      return status === 200;
    },
    // A session is what a login hands out: alive while its access token introspects or its
    // refresh token still refreshes (offline_access too, so a revoked offline token counts).
    sessions: {
      setPassword,
      open: async (userName, password) => {
        const login = await token({ grant_type: 'password', username: userName, password, scope: 'openid offline_access' });
        if (login.status !== 200) throw new Error(`login as ${userName} failed: ${login.status}`);
        const access = login.body['access_token'] as string;
        const refresh = login.body['refresh_token'] as string;
        return {
          alive: async () => (await introspect(access)) || (await token({ grant_type: 'refresh_token', refresh_token: refresh })).status === 200,
          close: async () => undefined,
        };
      },
    },
    // Every admin write to the user shows as an admin event on its resource path.
    fingerprint: async (userName) => {
      const id = await userId(userName);
      if (!id) return undefined;
      const client = await admin();
      const events = await client.realms.findAdminEvents({ realm, resourcePath: `users/${id}*`, max: 1000 });
      return String(events.length);
    },
    createForeignAccount: async (userName) => {
      const client = await admin();
      const { id } = await client.users.create({ username: userName, enabled: true, firstName: 'Foreign', lastName: 'Account' });
      foreign.set(userName, JSON.stringify(await client.users.findOne({ id })));
    },
    foreignAccountIntact: async (userName) => {
      const id = await userId(userName);
      return id !== undefined && JSON.stringify(await (await admin()).users.findOne({ id })) === foreign.get(userName);
    },
    badCredentials: { clientSecret: badSecret },
    get secrets() {
      return [clientSecret, badSecret, probeSecret, keycloak.admin.password, ...userPasswords.values()];
    },
    stopServer: () => proxy.stop(),
    startServer: () => proxy.restart(),
    freezeServer: async () => proxy.freeze(),
    thawServer: async () => proxy.thaw(),
    close: async () => {
      await proxy.close();
      await (await masterAdmin(keycloak)).realms.del({ realm });
    },
  };
}
