// Joiner, mover and leaver in Keycloak on the real control plane: `rollcall run` as a child process
// keeps a realm of the run's real Keycloak (test/servers/keycloak.ts, a fresh realm here) in step
// with Users, AccessRoles and AccessBindings applied with kubectl. The connector works as a
// least-privilege service account (test/conformance/keycloak.target.ts). Every step asserts Keycloak
// itself, read as the master admin, and the leaver's own tokens.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MARKER_ATTRIBUTE } from '../../src/connectors/keycloak/index.ts';
import { eventually as eventuallyLogging, lastLines } from '../helpers/eventually.ts';
import { sharedKeycloak } from '../servers/keycloak.ts';
import { startKeycloakTarget, type KeycloakTarget } from '../conformance/keycloak.target.ts';
import { createNamespace, kubectlOk } from './kube.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** What each department's AccessRole grants in Keycloak: realm roles and groups. */
const GRANTS = {
  engineering: ['group:/staff/engineering', 'realm:vpn-users'],
  sales: ['group:/staff/sales', 'realm:crm-users'],
};
type Department = keyof typeof GRANTS;

describe('a joiner, a mover and a leaver in Keycloak, kept in step by rollcall run', () => {
  let target: KeycloakTarget;
  let namespace: string;
  let rollcall: ChildProcess;
  const logs: string[] = [];

  function eventually<T>(check: () => Promise<T> | T, timeoutMs = 60_000): Promise<T> {
    return eventuallyLogging(check, { timeoutMs, intervalMs: 500, logs: () => lastLines(logs) });
  }

  /** The Keycloak user as the master admin sees it: enabled, names, marker, direct roles and groups. */
  async function keycloakUser(userName: string) {
    const admin = await target.admin();
    const [user] = (await admin.users.find({ username: userName, exact: true, briefRepresentation: false })).filter((u) => u.username === userName);
    if (!user) return undefined;
    const mappings = await admin.users.listRoleMappings({ id: user.id! });
    const roles = (mappings.realmMappings ?? []).map((role) => `realm:${role.name}`).filter((name) => !name.startsWith('realm:default-roles-'));
    const groups = (await admin.users.listGroups({ id: user.id! })).map((group) => `group:${group.path}`);
    return {
      enabled: user.enabled,
      firstName: user.firstName,
      email: user.email,
      marker: user.attributes?.[MARKER_ATTRIBUTE],
      entitlements: [...roles, ...groups].sort(),
    };
  }

  function userManifest(name: string, department: Department, state = 'active'): string {
    const spec = { userName: name, givenName: 'Ann', familyName: 'Example', email: `${name}@example.org`, department, state };
    return `apiVersion: rollcall.dev/v1alpha1
kind: User
metadata: {name: ${name}, namespace: ${namespace}, labels: {department: ${department}}}
spec: ${JSON.stringify(spec)}
`;
  }

  beforeAll(async () => {
    await sharedKeycloak();
    target = await startKeycloakTarget('lifecycle');
    const admin = await target.admin();
    await admin.roles.create({ name: 'crm-users' });
    const [staff] = await admin.groups.find({ search: 'staff', exact: true });
    await admin.groups.createChildGroup({ id: staff!.id! }, { name: 'sales' });
    const clientSecret = await target.serviceAccount('rollcall-e2e', ['manage-users', 'view-realm', 'view-clients', 'query-groups']);

    namespace = createNamespace('lifecycle-keycloak');
    kubectlOk(['create', 'secret', 'generic', 'sso-credentials', '-n', namespace, `--from-literal=clientSecret=${clientSecret}`]);
    kubectlOk(['label', 'secret', 'sso-credentials', '-n', namespace, 'rollcall.dev/credentials=true']);
    kubectlOk(['annotate', 'secret', 'sso-credentials', '-n', namespace, 'rollcall.dev/allow-insecure=true']); // the test server speaks plaintext
    const department = (name: Department) => `---
apiVersion: rollcall.dev/v1alpha1
kind: AccessRole
metadata: {name: ${name}, namespace: ${namespace}}
spec: ${JSON.stringify({ grants: [{ system: 'sso', entitlements: GRANTS[name] }] })}
---
apiVersion: rollcall.dev/v1alpha1
kind: AccessBinding
metadata: {name: ${name}, namespace: ${namespace}}
spec: {role: ${name}, userSelector: {matchLabels: {department: ${name}}}, reason: department membership}
`;
    kubectlOk(
      ['apply', '-f', '-'],
      `
apiVersion: rollcall.dev/v1alpha1
kind: ConnectedSystem
metadata: {name: sso, namespace: ${namespace}}
spec:
  type: keycloak
  insecure: true
  allowPrivateNetwork: true # the test server listens on loopback
  keycloak: {url: "${target.keycloak.url}", realm: "${target.realm}", clientId: rollcall-e2e}
  credentialsSecretRef: {name: sso-credentials}
  deprovision: {policy: disable}
  orphans: report
  resyncInterval: 5s
${department('engineering')}${department('sales')}`,
    );

    rollcall = spawn(
      process.execPath,
      [join(ROOT, 'bin', 'rollcall.js'), 'run', '--kubeconfig', inject('kubeconfig'), '--namespace', namespace, '--no-leader-elect', '--log-level', 'warn'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    rollcall.stdout!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    rollcall.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    await eventually(() => {
      const status = JSON.parse(kubectlOk(['get', 'csys', 'sso', '-n', namespace, '-o', 'json'])).status ?? {};
      expect(status.conditions?.find((c: { type: string }) => c.type === 'Connected')?.status).toBe('True');
    });
  }, 900_000);

  afterAll(async () => {
    if (rollcall && rollcall.exitCode === null) {
      const exited = new Promise((resolve) => rollcall.once('exit', resolve));
      rollcall.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (rollcall.exitCode === null) rollcall.kill('SIGKILL');
    }
    await target?.close();
  });

  it('a joiner gets a marked, enabled user with the realm roles and groups of the department', async () => {
    kubectlOk(['apply', '-f', '-'], userManifest('ann-eng', 'engineering'));
    await eventually(async () => {
      expect(await keycloakUser('ann-eng')).toEqual({
        enabled: true,
        firstName: 'Ann',
        email: 'ann-eng@example.org',
        marker: [`${namespace}/sso`],
        entitlements: GRANTS.engineering,
      });
    });
    await eventually(() => {
      const status = JSON.parse(kubectlOk(['get', 'user', 'ann-eng', '-n', namespace, '-o', 'json'])).status ?? {};
      expect(status.accounts).toEqual([expect.objectContaining({ system: 'sso', state: 'present', entitlements: GRANTS.engineering })]);
    });
  });

  it('a mover changes exactly the roles and groups', async () => {
    kubectlOk(['label', 'user', 'ann-eng', '-n', namespace, 'department=sales', '--overwrite']);
    kubectlOk(['patch', 'user', 'ann-eng', '-n', namespace, '--type=merge', '-p', JSON.stringify({ spec: { department: 'sales' } })]);
    await eventually(async () => expect((await keycloakUser('ann-eng'))?.entitlements).toEqual(GRANTS.sales));
    expect((await keycloakUser('ann-eng'))?.enabled).toBe(true);
  });

  it('a leaver is disabled and logged out: a token obtained before fails introspection and refresh after', async () => {
    await target.setPassword('ann-eng', 'Ann-pass-2026');
    const { status, body } = await target.token({ grant_type: 'password', username: 'ann-eng', password: 'Ann-pass-2026', scope: 'openid offline_access' });
    expect(status).toBe(200);
    expect(await target.introspect(body['access_token'] as string)).toBe(true);

    kubectlOk(['patch', 'user', 'ann-eng', '-n', namespace, '--type=merge', '-p', '{"spec":{"state":"terminated"}}']);
    await eventually(async () => expect(await keycloakUser('ann-eng')).toMatchObject({ enabled: false, entitlements: [] }));
    expect(await target.introspect(body['access_token'] as string)).toBe(false);
    expect((await target.token({ grant_type: 'refresh_token', refresh_token: body['refresh_token'] as string })).status).toBe(400);
    const id = (await target.userId('ann-eng'))!;
    expect(await (await target.admin()).users.listSessions({ id })).toEqual([]);
    expect((await target.token({ grant_type: 'password', username: 'ann-eng', password: 'Ann-pass-2026' })).status).toBe(400);
    expect(rollcall.exitCode).toBeNull();
  });
});
