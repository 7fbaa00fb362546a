// The shared connector conformance suite against a real SCIM 2.0 server (python-scim's
// scim2-server). The probes talk raw HTTP to the server, never through the connector.
import { connectedSystemSpec } from '../../src/api/index.ts';
import { connectorFactory } from '../../src/connectors/registry.ts';
import { start, type ScimServer } from '../servers/scim.ts';
import type { ConformanceTarget } from './harness.ts';
import { describeConformance } from './suite.ts';

const GROUPS = ['engineering', 'vpn-users'] as const;

interface RawUser {
  id: string;
  userName: string;
  active?: boolean;
  meta?: { version?: string; lastModified?: string };
}

/** Raw SCIM calls with the server's token, for setup and probes. */
function rawClient(server: ScimServer) {
  return async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${server.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/scim+json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
    const text = await response.text();
    return text ? JSON.parse(text) : undefined;
  };
}

const filter = (attribute: string, value: string) => `?filter=${encodeURIComponent(`${attribute} eq ${JSON.stringify(value)}`)}`;

async function startTarget(): Promise<ConformanceTarget> {
  const server = await start();
  const raw = rawClient(server);
  for (const displayName of GROUPS) {
    await raw('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName });
  }
  const rawUser = async (userName: string): Promise<RawUser | undefined> => {
    const list = (await raw('GET', `/Users${filter('userName', userName)}`)) as { Resources?: RawUser[] };
    return list.Resources?.find((user) => user.userName === userName);
  };
  const foreign = new Map<string, string>();
  const badToken = 'wrong-token-0123456789abcdef';

  return {
    connect: async ({ logger, credentials, timeoutMs }) => {
      const spec = connectedSystemSpec.parse({ type: 'scim', insecure: true, allowPrivateNetwork: true, scim: { baseUrl: server.baseUrl, auth: 'bearer', pageSize: 2 } });
      const factory = await connectorFactory('scim');
      return factory({ system: 'conformance/scim', namespace: 'conformance', spec, credentials: credentials ?? { token: server.token }, logger, timeoutMs });
    },
    entitlements: GROUPS,
    // RFC 7643: Group displayName is not caseExact.
    spellings: {
      createEntitlement: async (displayName) => void (await raw('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName })),
      held: 'Design Team',
      alike: ['design team', 'DESIGN TEAM'],
      ambiguous: ['Design Team', 'design team'],
    },
    attribute: 'displayName',
    // SCIM has no login of its own: the service provider lets a user in while `active` is true.
    canLogin: async (userName) => (await rawUser(userName))?.active === true,
    fingerprint: async (userName) => {
      const user = await rawUser(userName);
      if (!user) return undefined;
      const groups = (await raw('GET', `/Groups${filter('members.value', user.id)}&attributes=displayName`)) as { Resources?: { displayName: string }[] };
      const memberOf = (groups.Resources ?? []).map((group) => group.displayName).sort();
      return JSON.stringify([user.meta?.version ?? user.meta?.lastModified, memberOf]);
    },
    createForeignAccount: async (userName) => {
      const created = await raw('POST', '/Users', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName,
        displayName: 'Foreign Account',
        active: true,
      });
      foreign.set(userName, JSON.stringify(created));
    },
    foreignAccountIntact: async (userName) => {
      const user = (await rawUser(userName)) as (RawUser & { meta?: { location?: string } }) | undefined;
      return user !== undefined && JSON.stringify(user) === foreign.get(userName);
    },
    badCredentials: { token: badToken },
    secrets: [server.token, badToken],
    stopServer: () => server.stop(),
    startServer: () => server.restart(),
    freezeServer: async () => server.freeze(),
    thawServer: async () => server.thaw(),
    close: () => server.close(),
  };
}

describeConformance('scim', startTarget);
