// `rollcall run --scim-port` against the real API server: a SCIM POST creates a User owned by the
// scim IdentitySource, a PATCH suspends it, a DELETE terminates it and the User stays.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../servers/test-server.ts';
import { createNamespace, kubectl, kubectlOk } from './kube.ts';

const ROOT = join(import.meta.dirname, '..', '..');

describe('inbound SCIM served by rollcall run', () => {
  let namespace: string;
  let rollcall: ChildProcess;
  let base: string;
  const logs: string[] = [];
  const auth = { authorization: 'Bearer e2e-t0ken', 'content-type': 'application/scim+json' };
  const user = (name: string) => JSON.parse(kubectlOk(['get', 'user', name, '-n', namespace, '-o', 'json']));

  beforeAll(async () => {
    namespace = createNamespace('scim-in');
    kubectlOk(
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: Secret
metadata: {name: scim-token, namespace: ${namespace}, labels: {rollcall.dev/credentials: "true"}}
stringData: {token: e2e-t0ken}
---
apiVersion: rollcall.dev/v1alpha1
kind: IdentitySource
metadata: {name: okta, namespace: ${namespace}}
spec: {type: scim, credentialsSecretRef: {name: scim-token}}
`,
    );
    const port = await freePort();
    base = `http://127.0.0.1:${port}/scim/v2`;
    rollcall = spawn(
      process.execPath,
      [
        join(ROOT, 'bin', 'rollcall.js'),
        'run',
        '--kubeconfig',
        inject('kubeconfig'),
        '--namespace',
        namespace,
        '--no-leader-elect',
        '--log-level',
        'warn',
        '--scim-port',
        String(port),
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    rollcall.stdout!.on('data', (c: Buffer) => logs.push(c.toString()));
    rollcall.stderr!.on('data', (c: Buffer) => logs.push(c.toString()));
  });

  afterAll(() => {
    if (rollcall && rollcall.exitCode === null) rollcall.kill('SIGKILL');
  });

  it('the source is Ready once served', () => {
    const result = kubectl(['wait', '--for=condition=Ready', 'idsrc/okta', '-n', namespace, '--timeout=60s']);
    expect(result.code, result.stderr + logs.join('')).toBe(0);
  });

  it('POST creates, PATCH suspends, DELETE terminates: the User is there with its source', async () => {
    const created = await fetch(`${base}/Users`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: 'Dana@example.org',
        name: { givenName: 'Dana', familyName: 'Lee' },
        emails: [{ value: 'dana@example.org', primary: true }],
      }),
    });
    expect(created.status, logs.join('')).toBe(201);
    // As sent: the userName as it came, and no `active`, which the client did not send (the User is active).
    const seen = (await created.json()) as { id: string; userName: string; active?: boolean };
    expect(seen).toMatchObject({ id: 'dana', userName: 'Dana@example.org' });
    expect(seen.active).toBeUndefined();
    expect(user('dana').spec).toMatchObject({ userName: 'dana', givenName: 'Dana', email: 'dana@example.org', state: 'active' });
    expect(user('dana').metadata.labels).toMatchObject({ 'rollcall.dev/source': 'okta' });
    expect(user('dana').metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'IdentitySource', name: 'okta' })]);

    // The informer cache may lag the create by a moment: PATCH reads the User through it.
    let patched: Response | undefined;
    for (let attempt = 0; attempt < 40; attempt++) {
      patched = await fetch(`${base}/Users/dana`, {
        method: 'PATCH',
        headers: auth,
        body: JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }] }),
      });
      if (patched.status !== 404) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(patched!.status).toBe(200);
    expect(user('dana').spec.state).toBe('suspended');

    expect((await fetch(`${base}/Users/dana`, { method: 'DELETE', headers: auth })).status).toBe(204);
    expect(user('dana').spec.state).toBe('terminated');
  });
});
