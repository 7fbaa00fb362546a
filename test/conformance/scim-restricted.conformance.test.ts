// The shared connector conformance suite against a second, restricted SCIM peer (SCIMMY behind
// Express: no PATCH, `eq`-only filters, pages of 2, startIndex quirks, no ETags; see
// test/servers/scim-restricted-server.ts), and what such a server exposes: concurrent membership
// writes by GET + PUT of the whole member list, and index paging that races a delete.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connectors/types.ts';
import { startRestricted, type RestrictedScimServer } from '../servers/scim-restricted.ts';
import { scimTarget, type ScimTarget } from './scim.target.ts';
import { describeConformance } from './suite.ts';

describeConformance('scim (restricted peer)', async () => scimTarget(await startRestricted()));

const signal = () => AbortSignal.timeout(60_000);
const account = (userName: string) => ({ system: 'restricted', userName, state: 'present' as const, attributes: {}, entitlements: [] });

describe('scim connector against the restricted peer', () => {
  let target: ScimTarget<RestrictedScimServer>;
  let connector: Connector;

  beforeAll(async () => {
    target = await scimTarget(await startRestricted(), 'restricted/scim');
    connector = await target.connect({ logger: pino({ level: 'silent' }) });
  }, 120_000);

  afterAll(async () => {
    await connector?.close();
    await target?.close();
  });

  const membersOf = async (displayName: string) => {
    const users = new Map<string, string>();
    for (const name of ['ann', 'ben', 'cat', 'dan', 'eve']) {
      const user = await target.rawUser(name);
      if (user) users.set(user.id, name);
    }
    const group = (await target.rawGroups()).find((g) => g.displayName === displayName);
    return (group?.members ?? []).map((m) => users.get(m.value) ?? m.value).sort();
  };

  it('loses no membership when five grants to one group run at once without PATCH, ten times over', async () => {
    const names = ['ann', 'ben', 'cat', 'dan', 'eve'];
    for (const name of names) await connector.apply({ op: 'create', account: account(name) }, signal());
    await target.server.reset();
    for (let round = 1; round <= 10; round++) {
      await Promise.all(names.map((userName) => connector.apply({ op: 'grant', userName, entitlement: 'engineering' }, signal())));
      expect(await membersOf('engineering'), `round ${round}, after the grants`).toEqual(names);
      await Promise.all(names.map((userName) => connector.apply({ op: 'revoke', userName, entitlement: 'engineering' }, signal())));
      expect(await membersOf('engineering'), `round ${round}, after the revokes`).toEqual([]);
    }
    const methods = new Set((await target.server.requests()).map((r) => r.method));
    expect(methods.has('PATCH')).toBe(false);
    expect(methods.has('PUT')).toBe(true);
  }, 120_000);

  it('a listing that races a delete neither skips a user nor reports the deleted one present', async () => {
    // Five managed users (ann..eve, created above), listed two at a time. Just before the second
    // page, ann (on the first) is deleted: index paging would shift cat to the first page and skip it.
    await target.server.hook({ method: 'GET', contains: '/Users?startIndex=3', actions: [{ deleteUser: 'ann' }] });
    const listed: string[] = [];
    for await (const observed of connector.listAccounts(signal())) listed.push(observed.userName);
    expect((await target.server.hooks()).every((h) => h.fired)).toBe(true);
    expect(listed.sort()).toEqual(['ben', 'cat', 'dan', 'eve']);
  });

  it('sends no filter the server refused twice, and no filtered listing it cannot take', async () => {
    await target.server.reset();
    for await (const _ of connector.listAccounts(signal()));
    await connector.getAccount('ben', signal());
    const filters = (await target.server.requests()).map((r) => r.url).filter((url) => url.includes('filter='));
    // The lookup by userName (eq on a plain attribute) is the only filter this server takes; the refused ones are not tried again.
    expect(filters.every((url) => url.includes('filter=userName eq "ben"'))).toBe(true);
    expect(filters.length).toBeGreaterThan(0);
  });
});
