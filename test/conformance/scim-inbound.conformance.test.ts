// Inbound SCIM driven by a client that is not ours (python-scim's scim2-client): what the client
// sees, and the Users Rollcall holds afterwards. DELETE terminates, never deletes; a token of no
// scim source is refused.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScimServer } from '../../src/scim-inbound/scim-server.ts';
import { INBOUND_SCIM_TOKEN, startInboundScim, type InboundScim } from '../helpers/inbound-scim.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const PYTHON = join(process.env.ROLLCALL_CACHE ?? join(homedir(), '.cache', 'rollcall'), 'venv-scim2-client', 'bin', 'python');

describe('inbound SCIM with scim2-client', () => {
  let inbound: InboundScim;

  beforeAll(async () => {
    execFileSync('bash', [join(ROOT, 'scripts', 'install', 'scim2-client.sh')], { stdio: 'inherit' });
    inbound = await startInboundScim([
      { apiVersion: 'rollcall.dev/v1alpha1', kind: 'User', metadata: { name: 'mallory', namespace: 'acme' }, spec: { userName: 'mallory' } } as never,
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'not-opted-in', namespace: 'acme' }, data: { token: 'plain-t0ken' } } as never,
      {
        apiVersion: 'rollcall.dev/v1alpha1',
        kind: 'IdentitySource',
        metadata: { name: 'other', namespace: 'acme' },
        spec: { type: 'scim', credentialsSecretRef: { name: 'not-opted-in' } },
      } as never,
    ]);
  });
  afterAll(async () => {
    await inbound?.close();
  });

  it('create, read, filter, replace, patch, delete and a re-create, as the client sees them and as the Users are', async () => {
    // Asynchronously: the server answers from this very process.
    const { stdout } = await promisify(execFile)(
      PYTHON,
      ['-W', 'ignore', join(ROOT, 'test', 'servers', 'scim-inbound-client.py'), inbound.base, INBOUND_SCIM_TOKEN],
      {
        encoding: 'utf8',
      },
    );
    const out = JSON.parse(stdout);
    expect(out).toEqual({
      // The userName as sent; the User's name and spec.userName are Rollcall's login name.
      created: { id: 'alice.smith', userName: 'Alice.Smith@example.org' },
      got: { userName: 'Alice.Smith@example.org', givenName: 'Alice', active: true },
      group: { id: 'sales-team', displayName: 'Sales Team', members: ['bob'] },
      filtered: ['bob'],
      replaced: { title: 'Sales Manager' },
      patched: { active: false },
      duplicate: 409,
      after_delete: 404,
      rehired: { id: 'alice.smith', active: true },
    });
    const alice = inbound.store.get('User', { namespace: 'acme', name: 'alice.smith' })!;
    expect(alice.spec).toMatchObject({ userName: 'alice.smith', givenName: 'Alice', familyName: 'Smith', state: 'active' });
    expect(alice.metadata.labels).toEqual({ 'rollcall.dev/source': 'okta', 'app.kubernetes.io/managed-by': 'rollcall' });
    expect(alice.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'IdentitySource', name: 'okta', uid: 'source-uid' })]);
    expect(inbound.store.get('User', { namespace: 'acme', name: 'bob' })!.spec).toMatchObject({ givenName: 'Bob', familyName: 'Jones', state: 'active' });
    // The group is a label on its members, for AccessBindings to select on.
    expect(inbound.store.get('User', { namespace: 'acme', name: 'bob' })!.metadata.labels).toMatchObject({ 'groups.rollcall.dev/sales-team': 'true' });
    expect(alice.metadata.labels?.['groups.rollcall.dev/sales-team']).toBeUndefined();
  });

  it('DELETE terminates the User and keeps it; a User the source did not create is invisible and untouched', async () => {
    const auth = { authorization: `Bearer ${INBOUND_SCIM_TOKEN}` };
    expect((await fetch(`${inbound.base}/Users/bob`, { method: 'DELETE', headers: auth })).status).toBe(204);
    expect(inbound.store.get('User', { namespace: 'acme', name: 'bob' })!.spec.state).toBe('terminated');
    expect((await fetch(`${inbound.base}/Users/mallory`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${inbound.base}/Users/mallory`, { method: 'DELETE', headers: auth })).status).toBe(404);
    const post = await fetch(`${inbound.base}/Users`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/scim+json' },
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'mallory' }),
    });
    expect(post.status).toBe(409);
    expect(inbound.store.get('User', { namespace: 'acme', name: 'mallory' })!.metadata.labels).toBeUndefined();
  });

  it("a group changes its members' labels: PUT replaces the members, DELETE removes the label from all", async () => {
    const auth = { authorization: `Bearer ${INBOUND_SCIM_TOKEN}`, 'content-type': 'application/scim+json' };
    const label = (name: string) => inbound.store.get('User', { namespace: 'acme', name })!.metadata.labels?.['groups.rollcall.dev/sales-team'];
    const put = await fetch(`${inbound.base}/Groups/sales-team`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Sales Team', members: [{ value: 'alice.smith' }] }),
    });
    expect(put.status).toBe(200);
    expect([label('alice.smith'), label('bob')]).toEqual(['true', undefined]);
    expect((await fetch(`${inbound.base}/Groups/sales-team`, { method: 'DELETE', headers: auth })).status).toBe(204);
    expect(label('alice.smith')).toBeUndefined();
    expect((await fetch(`${inbound.base}/Groups/sales-team`, { headers: auth })).status).toBe(404);
  });

  it('refuses a request without the token of a scim source, or with one from a Secret that did not opt in', async () => {
    expect((await fetch(`${inbound.base}/Users`)).status).toBe(401);
    expect((await fetch(`${inbound.base}/Users`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    // The token of a Secret not labelled rollcall.dev/credentials: "true" opens nothing.
    expect((await fetch(`${inbound.base}/Users`, { headers: { authorization: 'Bearer plain-t0ken' } })).status).toBe(401);
  });

  it('serves HTTPS with the certificate given', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollcall-scim-tls-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
      const tls = await startScimServer({
        store: inbound.store,
        logger: pino({ level: 'silent' }),
        port: 0,
        host: '127.0.0.1',
        tls: { cert, key: readFileSync(join(dir, 'key.pem'), 'utf8') },
      });
      try {
        const status = await new Promise<number | undefined>((resolve, reject) => {
          const req = request(
            { host: '127.0.0.1', port: tls.port, path: '/scim/v2/Users/alice.smith', ca: cert, headers: { authorization: `Bearer ${INBOUND_SCIM_TOKEN}` } },
            (res) => {
              res.resume();
              resolve(res.statusCode);
            },
          );
          req.on('error', reject);
          req.end();
        });
        expect(status).toBe(200);
      } finally {
        await tls.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
