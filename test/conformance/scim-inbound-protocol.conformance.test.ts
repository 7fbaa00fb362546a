// Inbound SCIM as a real IdP's client meets it, over HTTP (issue 21, items 1-4): paging by GET as by
// POST /.search, a userName found by the value sent, discovery that describes only what is kept,
// an attribute not kept refused rather than dropped after a 2xx, and the protocol details (405 with
// Allow, WWW-Authenticate, a lower-case "bearer", schemas in an attributes= answer, no ETags).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INBOUND_SCIM_TOKEN, startInboundScim, type InboundScim } from '../helpers/inbound-scim.ts';

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const auth = { authorization: `Bearer ${INBOUND_SCIM_TOKEN}`, 'content-type': 'application/scim+json' };
/** A SCIM answer, read loosely: the assertions say what it must hold. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const body = async (response: Response): Promise<any> => response.json();

describe('inbound SCIM: what a client sends, it finds; what is not kept, it is told', () => {
  let inbound: InboundScim;
  const post = (body: object) => fetch(`${inbound.base}/Users`, { method: 'POST', headers: auth, body: JSON.stringify({ schemas: [USER_SCHEMA], ...body }) });
  const list = async (query: string) => {
    const response = await fetch(`${inbound.base}/Users?${query}`, { headers: auth });
    expect(response.status).toBe(200);
    return (await response.json()) as { totalResults: number; startIndex: number; itemsPerPage: number; Resources?: Array<Record<string, unknown>> };
  };
  const filter = (expression: string) => list(`filter=${encodeURIComponent(expression)}`);

  beforeAll(async () => {
    inbound = await startInboundScim();
  });
  afterAll(async () => {
    await inbound?.close();
  });

  it('done when: a client pages 50 Users by GET and finds each by the userName it sent', async () => {
    const sent = Array.from({ length: 50 }, (_, i) => `Pager${String(i).padStart(2, '0')}@Example.org`);
    for (const userName of sent) expect((await post({ userName })).status).toBe(201);
    const seen: string[] = [];
    for (let startIndex = 1; startIndex <= 50; startIndex += 10) {
      const page = await list(`filter=${encodeURIComponent('userName sw "pager"')}&startIndex=${startIndex}&count=10`);
      expect(page).toMatchObject({ totalResults: 50, startIndex, itemsPerPage: 10 });
      seen.push(...page.Resources!.map((r) => r.userName as string));
    }
    expect(seen.sort()).toEqual([...sent].sort());
    for (const userName of sent) {
      const found = await filter(`userName eq "${userName}"`);
      expect(found.Resources?.map((r) => r.userName)).toEqual([userName]);
    }
  });

  it('a GET page is the page POST /.search gives for the same startIndex and count', async () => {
    const search = await fetch(`${inbound.base}/Users/.search`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], startIndex: 21, count: 10 }),
    });
    const byPost = await body(search);
    const byGet = await list('startIndex=21&count=10');
    expect(byGet.startIndex).toBe(21);
    expect(byGet.Resources).toHaveLength(10);
    expect(byGet.Resources).toEqual(byPost.Resources);
    expect(byGet.Resources).not.toEqual((await list('')).Resources!.slice(0, 10));
  });

  it('userName round-trips as sent, compares case-insensitively, and a second POST of it is a conflict', async () => {
    const created = await post({ userName: 'user1@example.org', name: { givenName: 'User', familyName: 'One' } });
    expect(created.status).toBe(201);
    const user = await body(created);
    expect(user.userName).toBe('user1@example.org');
    // The Kubernetes object and spec.userName keep Rollcall's login name; the SCIM name is kept apart.
    expect(inbound.store.get('User', { namespace: 'acme', name: user.id })!.spec.userName).toBe('user1');
    expect((await filter('userName eq "user1@example.org"')).Resources?.map((r) => r.id)).toEqual([user.id]);
    expect((await filter('userName eq "USER1@Example.ORG"')).Resources?.map((r) => r.id)).toEqual([user.id]);
    const again = await post({ userName: 'user1@example.org' });
    expect(again.status).toBe(409);
    expect(await body(again)).toMatchObject({ scimType: 'uniqueness' });
    expect((await post({ userName: 'User1@EXAMPLE.org' })).status).toBe(409);
    // Another userName with the same login name is someone else: 409, live or terminated.
    const other = await post({ userName: 'user1@other.example' });
    expect(other.status).toBe(409);
    expect((await body(other)).detail).toContain('user1@example.org');
    expect((await fetch(`${inbound.base}/Users/${user.id}`, { method: 'DELETE', headers: auth })).status).toBe(204);
    expect((await post({ userName: 'user1@other.example' })).status).toBe(409);
    expect(inbound.store.get('User', { namespace: 'acme', name: user.id })!.spec.state).toBe('terminated');
    // The leaver back under its own name is a rehire of the same User.
    const rehired = await post({ userName: 'User1@example.org' });
    expect(rehired.status).toBe(201);
    expect(await body(rehired)).toMatchObject({ id: user.id, userName: 'User1@example.org' });
    expect(inbound.store.get('User', { namespace: 'acme', name: user.id })!.spec.state).toBe('active');
  });

  it('externalId is kept: a filter on it finds the User', async () => {
    const created = await post({ userName: 'ext.user', externalId: 'HR-0042' });
    expect(created.status).toBe(201);
    expect(await body(created)).toMatchObject({ externalId: 'HR-0042' });
    expect((await filter('externalId eq "HR-0042"')).Resources?.map((r) => r.userName)).toEqual(['ext.user']);
  });

  it('a Group keeps its externalId too', async () => {
    const created = await fetch(`${inbound.base}/Groups`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Field Sales', externalId: 'grp-7' }),
    });
    expect(created.status).toBe(201);
    expect(await body(created)).toMatchObject({ id: 'field-sales', externalId: 'grp-7' });
    const found = await body(await fetch(`${inbound.base}/Groups?filter=${encodeURIComponent('externalId eq "grp-7"')}`, { headers: auth }));
    expect(found.Resources.map((g: { id: string }) => g.id)).toEqual(['field-sales']);
  });

  it('a member is a User by value, with its $ref; a $ref naming another resource than the value is refused', async () => {
    const member = await body(await post({ userName: 'member.one' }));
    const group = (members: object[]) =>
      fetch(`${inbound.base}/Groups/field-sales`, {
        method: 'PUT',
        headers: auth,
        body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Field Sales', members }),
      });
    const written = await group([{ value: member.id }]);
    expect(written.status).toBe(200);
    expect((await body(written)).members).toEqual([{ value: member.id, $ref: `/scim/v2/Users/${member.id}`, type: 'User' }]);
    const astray = await group([{ value: member.id, $ref: `/scim/v2/Users/someone-else` }]);
    expect(astray.status).toBe(400);
    expect(await body(astray)).toMatchObject({ scimType: 'invalidValue' });
  });

  it('a filter into a multi-valued attribute some resources lack answers the others, not an error', async () => {
    expect((await post({ userName: 'no.mail' })).status).toBe(201);
    const withMail = await body(await post({ userName: 'has.mail', emails: [{ value: 'Has.Mail@example.org', type: 'work' }] }));
    expect((await filter('emails[value eq "has.mail@EXAMPLE.org"]')).Resources?.map((r) => r.id)).toEqual([withMail.id]);
    const empty = await fetch(`${inbound.base}/Groups`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Nobody Yet' }),
    });
    expect(empty.status).toBe(201);
    const groups = await fetch(`${inbound.base}/Groups?filter=${encodeURIComponent(`members[value eq "${withMail.id}"]`)}`, { headers: auth });
    expect(groups.status).toBe(200);
    expect((await body(groups)).totalResults).toBe(0);
  });

  it('active removed is unset (the User stays active), and a suspension always shows', async () => {
    const created = await body(await post({ userName: 'toggle', active: true }));
    const patch = (operation: object) =>
      fetch(`${inbound.base}/Users/${created.id}`, { method: 'PATCH', headers: auth, body: JSON.stringify({ schemas: [PATCH_OP], Operations: [operation] }) });
    const removed = await patch({ op: 'remove', path: 'active' });
    expect(removed.status).toBe(200);
    expect((await body(removed)).active).toBeUndefined();
    expect(inbound.store.get('User', { namespace: 'acme', name: created.id })!.spec.state).toBe('active');
    expect((await body(await patch({ op: 'replace', path: 'active', value: false }))).active).toBe(false);
    expect(inbound.store.get('User', { namespace: 'acme', name: created.id })!.spec.state).toBe('suspended');
  });

  it('an attribute not kept is refused with a SCIM error naming it, and nothing is written', async () => {
    for (const extra of [
      { nickName: 'Nick' },
      { phoneNumbers: [{ value: '+1 555 0100', type: 'work' }] },
      { addresses: [{ locality: 'Paris' }] },
      { name: { givenName: 'A', middleName: 'B' } },
    ]) {
      const refused = await post({ userName: 'not.kept', ...extra });
      expect(refused.status, JSON.stringify(extra)).toBe(400);
      const error = await body(refused);
      expect(error).toMatchObject({ status: '400', scimType: 'invalidValue' });
      expect(error.detail).toContain(Object.keys(extra)[0]);
      expect(inbound.store.get('User', { namespace: 'acme', name: 'not.kept' })).toBeUndefined();
    }
    const created = await body(await post({ userName: 'kept.user' }));
    const replaced = await fetch(`${inbound.base}/Users/${created.id}`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ schemas: [USER_SCHEMA], userName: 'kept.user', entitlements: [{ value: 'x' }] }),
    });
    expect(replaced.status).toBe(400);
    const patched = await fetch(`${inbound.base}/Users/${created.id}`, {
      method: 'PATCH',
      headers: auth,
      body: JSON.stringify({ schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'nickName', value: 'Nick' }] }),
    });
    expect(patched.status).toBe(400);
    expect((await body(patched)).scimType).toBe('invalidPath');
    // Inside a PATCH value too: a sub-attribute not kept, with a path or without one.
    for (const operation of [
      { op: 'add', path: 'emails', value: [{ value: 'k@example.org', display: 'K' }] },
      { op: 'add', value: { name: { middleName: 'Q' } } },
      { op: 'replace', path: 'urn:ietf:params:scim:schemas:core:2.0:User:name', value: { honorificPrefix: 'Dr' } },
    ]) {
      const refused = await fetch(`${inbound.base}/Users/${created.id}`, {
        method: 'PATCH',
        headers: auth,
        body: JSON.stringify({ schemas: [PATCH_OP], Operations: [operation] }),
      });
      expect(refused.status, JSON.stringify(operation)).toBe(400);
      expect(await body(refused)).toMatchObject({ scimType: 'invalidValue' });
    }
    expect(inbound.store.get('User', { namespace: 'acme', name: created.id })!.spec.email).toBeUndefined();
  });

  it('/Schemas lists exactly the kept attributes with their real mutability; roles and x509Certificates are not advertised', async () => {
    const schema = await body(await fetch(`${inbound.base}/Schemas/${USER_SCHEMA}`, { headers: auth }));
    const names = (schema.attributes as Array<{ name: string }>).map((a) => a.name).sort();
    // externalId is a common attribute (RFC 7643 3.1), kept but listed in no schema, like id and meta.
    expect(names).toEqual(['active', 'displayName', 'emails', 'name', 'title', 'userName'].sort());
    const attribute = (name: string) => schema.attributes.find((a: { name: string }) => a.name === name);
    expect(attribute('userName')).toMatchObject({ mutability: 'immutable', required: true, uniqueness: 'server', caseExact: false });
    expect(
      attribute('name')
        .subAttributes.map((a: { name: string }) => a.name)
        .sort(),
    ).toEqual(['familyName', 'givenName']);
    expect(
      attribute('emails')
        .subAttributes.map((a: { name: string }) => a.name)
        .sort(),
    ).toEqual(['primary', 'type', 'value']);
    // A userName change is refused as /Schemas says (immutable), with the SCIM error for it.
    const created = await body(await post({ userName: 'steady' }));
    const renamed = await fetch(`${inbound.base}/Users/${created.id}`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ schemas: [USER_SCHEMA], userName: 'moved' }),
    });
    expect(renamed.status).toBe(400);
    expect((await body(renamed)).scimType).toBe('mutability');
    // The same name in another case is the same userName: no change, accepted.
    const recased = await fetch(`${inbound.base}/Users/${created.id}`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ schemas: [USER_SCHEMA], userName: 'STEADY', title: 'Clerk' }),
    });
    expect(recased.status).toBe(200);
  });

  it('discovery endpoints answer 405 with Allow to a write', async () => {
    for (const path of ['Schemas', 'ResourceTypes', 'ServiceProviderConfig']) {
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
        const response = await fetch(`${inbound.base}/${path}`, { method, headers: auth, body: method === 'DELETE' ? undefined : '{}' });
        expect(response.status, `${method} /${path}`).toBe(405);
        expect(response.headers.get('allow')).toBe('GET');
        expect(await body(response)).toMatchObject({ status: '405' });
      }
    }
  });

  it('401 carries WWW-Authenticate; the scheme name is case-insensitive', async () => {
    const refused = await fetch(`${inbound.base}/Users`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer realm="[^"]+"/);
    expect((await fetch(`${inbound.base}/Users`, { headers: { authorization: 'Bearer wrong' } })).headers.get('www-authenticate')).toMatch(
      /^Bearer realm=.*error="invalid_token"/,
    );
    expect((await fetch(`${inbound.base}/Users`, { headers: { authorization: `bearer ${INBOUND_SCIM_TOKEN}` } })).status).toBe(200);
    expect((await fetch(`${inbound.base}/Users`, { headers: { authorization: `BEARER ${INBOUND_SCIM_TOKEN}` } })).status).toBe(200);
  });

  it('an answer to attributes= keeps schemas and id', async () => {
    const page = await list('attributes=userName&count=2');
    for (const resource of page.Resources!) expect(Object.keys(resource).sort()).toEqual(['id', 'schemas', 'userName']);
    const one = await body(await fetch(`${inbound.base}/Users/${page.Resources![0]!.id}?attributes=displayName`, { headers: auth }));
    expect(one.schemas).toEqual([USER_SCHEMA]);
  });

  it('no ETag is sent or advertised, so no client relies on If-Match', async () => {
    const created = await post({ userName: 'etag.user' });
    expect(created.headers.get('etag')).toBeNull();
    const id = (await body(created)).id;
    const read = await fetch(`${inbound.base}/Users/${id}`, { headers: auth });
    expect(read.headers.get('etag')).toBeNull();
    expect((await body(read)).meta?.version).toBeUndefined();
    expect((await fetch(`${inbound.base}/Users`, { headers: auth })).headers.get('etag')).toBeNull();
    const config = await body(await fetch(`${inbound.base}/ServiceProviderConfig`, { headers: auth }));
    expect(config.etag).toEqual({ supported: false });
  });
});
