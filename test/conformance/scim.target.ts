// The conformance target for SCIM: a real SCIM 2.0 server (python-scim's scim2-server, or the
// restricted SCIMMY peer), probed with raw HTTP calls, never through the connector.
import { connectedSystemSpec } from '../../src/api/index.ts';
import { connectorFactory } from '../../src/connectors/registry.ts';
import type { ScimServer } from '../servers/scim.ts';
import { serverControls, type ConformanceTarget } from './harness.ts';

export const GROUPS = ['engineering', 'vpn-users'] as const;
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';

export interface RawUser {
  id: string;
  userName: string;
  active?: boolean;
  meta?: { version?: string; lastModified?: string };
  [attribute: string]: unknown;
}

export interface RawGroup {
  id: string;
  displayName: string;
  members?: { value: string }[];
}

export interface ScimTarget<S extends ScimServer> extends ConformanceTarget {
  server: S;
  raw(method: string, path: string, body?: unknown): Promise<unknown>;
  rawUser(userName: string): Promise<RawUser | undefined>;
  /** Every group, read page by page with each group's members (no filter: the restricted peer has none on members). */
  rawGroups(): Promise<RawGroup[]>;
}

/** Raw SCIM calls with the server's token, for setup and probes. */
export function rawClient(server: ScimServer) {
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

export const filter = (attribute: string, value: string) => `?filter=${encodeURIComponent(`${attribute} eq ${JSON.stringify(value)}`)}`;

export async function scimTarget<S extends ScimServer>(server: S, system = 'conformance/scim'): Promise<ScimTarget<S>> {
  const raw = rawClient(server);
  for (const displayName of GROUPS) await raw('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName });
  const rawUser = async (userName: string): Promise<RawUser | undefined> => {
    const list = (await raw('GET', `/Users${filter('userName', userName)}`)) as { Resources?: RawUser[] };
    return list.Resources?.find((user) => user.userName === userName);
  };
  const rawGroups = async (): Promise<RawGroup[]> => {
    const groups = new Map<string, RawGroup>();
    for (let startIndex = 1; ;) {
      const page = (await raw('GET', `/Groups?startIndex=${startIndex}&count=100`)) as { Resources?: RawGroup[]; totalResults?: number };
      const resources = page.Resources ?? [];
      for (const group of resources) groups.set(group.id, group);
      startIndex += resources.length;
      if (resources.length === 0 || startIndex > (page.totalResults ?? 0)) return [...groups.values()];
    }
  };
  const foreign = new Map<string, string>();
  const badToken = 'wrong-token-0123456789abcdef';

  return {
    server,
    raw,
    rawUser,
    rawGroups,
    connect: async ({ logger, credentials, timeoutMs }) => {
      const spec = connectedSystemSpec.parse({
        type: 'scim',
        insecure: true,
        allowPrivateNetwork: true,
        scim: { baseUrl: server.baseUrl, auth: 'bearer', pageSize: 2 },
      });
      const factory = await connectorFactory('scim');
      return factory({ system, namespace: system.split('/')[0]!, spec, credentials: credentials ?? { token: server.token }, logger, timeoutMs });
    },
    entitlements: GROUPS,
    // RFC 7643: Group displayName is not caseExact.
    spellings: {
      createEntitlement: async (displayName) => void (await raw('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName })),
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
      const memberOf = (await rawGroups())
        .filter((group) => group.members?.some((member) => member.value === user.id))
        .map((group) => group.displayName)
        .sort();
      return JSON.stringify([user.meta?.version ?? user.meta?.lastModified, memberOf]);
    },
    createForeignAccount: async (userName) => {
      const created = await raw('POST', '/Users', { schemas: [USER_SCHEMA], userName, displayName: 'Foreign Account', active: true });
      foreign.set(userName, JSON.stringify(created));
    },
    foreignAccountIntact: async (userName) => {
      const user = await rawUser(userName);
      return user !== undefined && JSON.stringify(user) === foreign.get(userName);
    },
    badCredentials: { token: badToken },
    secrets: [server.token, badToken],
    ...serverControls(server),
  };
}
