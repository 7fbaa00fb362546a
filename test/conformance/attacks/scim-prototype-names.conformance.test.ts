// Issue 17, hole 10 (SCIM `/Groups/constructor` counted as an existing group): names that are also
// properties of every JavaScript object (constructor, toString, __proto__, hasOwnProperty) are only
// names. Rollcall's inbound SCIM server, over HTTP: reading, replacing or deleting such a group that
// nobody created is 404 and writes nothing; creating one makes an ordinary group. The outbound SCIM
// connector against scim2-server: granting such an entitlement fails as a missing group for that
// account alone, creates nothing, and the same account's real group is still granted.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectedSystemSpec, PermanentError } from '../../../src/api/index.ts';
import { connectorFactory } from '../../../src/connectors/registry.ts';
import type { Connector } from '../../../src/connectors/types.ts';
import { start as startScim2Server, type ScimServer } from '../../servers/scim.ts';
import { INBOUND_SCIM_TOKEN, startInboundScim, type InboundScim } from '../../helpers/inbound-scim.ts';

const PROTOTYPE_NAMES = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'];
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const signal = () => AbortSignal.timeout(10_000);

describe("inbound SCIM: a group id that is a property of every object is nobody's group", () => {
  let inbound: InboundScim;
  const auth = { authorization: `Bearer ${INBOUND_SCIM_TOKEN}`, 'content-type': 'application/scim+json' };
  const groupsAnnotation = () => inbound.store.get('IdentitySource', { namespace: 'acme', name: 'okta' })?.metadata.annotations?.['rollcall.dev/scim-groups'];
  const labels = () => inbound.store.get('User', { namespace: 'acme', name: 'ann' })?.metadata.labels ?? {};

  beforeAll(async () => {
    inbound = await startInboundScim();
    const created = await fetch(`${inbound.base}/Users`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'ann' }),
    });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await inbound?.close();
  });

  it.each(PROTOTYPE_NAMES)('/Groups/%s: GET, PUT and DELETE answer 404 and write nothing', async (id) => {
    expect((await fetch(`${inbound.base}/Groups/${id}`, { headers: auth })).status).toBe(404);
    const put = await fetch(`${inbound.base}/Groups/${id}`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ schemas: [GROUP_SCHEMA], displayName: id, members: [{ value: 'ann' }] }),
    });
    expect(put.status).toBe(404);
    expect((await fetch(`${inbound.base}/Groups/${id}`, { method: 'DELETE', headers: auth })).status).toBe(404);
    expect(groupsAnnotation()).toBeUndefined();
    expect(Object.keys(labels()).filter((label) => label.startsWith('groups.rollcall.dev/'))).toEqual([]);
    const listed = (await (await fetch(`${inbound.base}/Groups`, { headers: auth })).json()) as { totalResults: number };
    expect(listed.totalResults).toBe(0);
  });

  it('creating a group named constructor makes an ordinary group, not a "duplicate" of Object.prototype.constructor', async () => {
    const post = await fetch(`${inbound.base}/Groups`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ schemas: [GROUP_SCHEMA], displayName: 'Constructor', members: [{ value: 'ann' }] }),
    });
    expect(post.status).toBe(201);
    expect(await post.json()).toMatchObject({ id: 'constructor', displayName: 'Constructor' });
    expect(labels()).toMatchObject({ 'groups.rollcall.dev/constructor': 'true' });
    expect(JSON.parse(groupsAnnotation()!)).toEqual({ constructor: 'Constructor' });
    expect((await fetch(`${inbound.base}/Groups/toString`, { headers: auth })).status).toBe(404);
  });
});

describe('outbound SCIM against scim2-server: an entitlement named like an object property is a missing group', () => {
  let scim: ScimServer;
  let connector: Connector;
  const headers = () => ({ authorization: `Bearer ${scim.token}`, 'content-type': 'application/scim+json' });
  const groupNames = async () =>
    ((await (await fetch(`${scim.baseUrl}/Groups`, { headers: headers() })).json()) as { Resources?: { displayName: string }[] }).Resources?.map(
      (g) => g.displayName,
    ).sort() ?? [];

  beforeAll(async () => {
    scim = await startScim2Server();
    const staff = await fetch(`${scim.baseUrl}/Groups`, {
      method: 'POST',
      headers: headers(),
      body: JSON.stringify({ schemas: [GROUP_SCHEMA], displayName: 'staff' }),
    });
    expect(staff.status).toBe(201);
    connector = await (
      await connectorFactory('scim')
    )({
      system: 'team-a/wiki',
      namespace: 'team-a',
      spec: connectedSystemSpec.parse({ type: 'scim', insecure: true, allowPrivateNetwork: true, scim: { baseUrl: scim.baseUrl } }),
      credentials: { token: scim.token },
      logger: pino({ level: 'silent' }),
    });
    await connector.apply({ op: 'create', account: { system: 'wiki', userName: 'ann', state: 'present', attributes: {}, entitlements: [] } }, signal());
  }, 300_000);
  afterAll(async () => {
    await connector?.close();
    await scim?.close();
  });

  it.each(PROTOTYPE_NAMES)('granting %s fails as a missing group and creates nothing', async (name) => {
    const error = await connector.apply({ op: 'grant', userName: 'ann', entitlement: name }, signal()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toContain(`SCIM group "${name}" does not exist in team-a/wiki`);
    expect(await groupNames()).toEqual(['staff']);
  });

  it('the same account still gets its real group', async () => {
    await connector.apply({ op: 'grant', userName: 'ann', entitlement: 'staff' }, signal());
    expect((await connector.getAccount('ann', signal()))?.entitlements).toEqual(['staff']);
  });
});
