// `rollcall run --manifests DIR --once` against the restricted SCIM peer (no PATCH, pages of 2): a
// joiner run of five Users and three groups keeps every membership (the User syncs run at once and
// write the same groups by GET + PUT); what the console reports as done is what the server received
// (counted at the server), including when a hand change lands between the read and the write; and a
// User whose write the server silently does not keep is not Ready, and the run exits 1.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollcall } from '../helpers/rollcall-cli.ts';
import { startRestricted, type RestrictedScimServer } from '../servers/scim-restricted.ts';
import { GROUP_SCHEMA, scimTarget, type ScimTarget } from './scim.target.ts';

const USERS = ['ann', 'ben', 'cat', 'dan', 'eve'];
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

describe('rollcall run --once against the restricted SCIM peer', { timeout: 120_000 }, () => {
  let root = '';
  let manifests = '';
  let target: ScimTarget<RestrictedScimServer>;

  /** The manifests, with `titles` per User; everyone is staff, ann and ben also engineering, ann also sales. */
  const declare = (titles: Record<string, string> = {}) => {
    const doc = (kind: string, name: string, spec: unknown) =>
      `apiVersion: rollcall.dev/v1alpha1\nkind: ${kind}\nmetadata: {name: ${name}, namespace: acme}\nspec: ${JSON.stringify(spec)}\n`;
    const grants = (group: string) => [{ system: 'crm', entitlements: [group] }];
    writeFileSync(
      join(manifests, 'company.yaml'),
      [
        `apiVersion: v1\nkind: Secret\nmetadata: {name: crm-credentials, namespace: acme, labels: {rollcall.dev/credentials: "true"}, annotations: {rollcall.dev/allow-insecure: "true"}}\nstringData: {token: ${JSON.stringify(target.server.token)}}\n`,
        doc('ConnectedSystem', 'crm', {
          type: 'scim',
          insecure: true,
          allowPrivateNetwork: true,
          scim: { baseUrl: target.server.baseUrl, auth: 'bearer' },
          credentialsSecretRef: { name: 'crm-credentials' },
        }),
        doc('AccessRole', 'staff', { grants: grants('staff') }),
        doc('AccessRole', 'engineer', { grants: grants('engineering') }),
        doc('AccessRole', 'seller', { grants: grants('sales') }),
        doc('AccessBinding', 'staff', { role: 'staff', users: USERS }),
        doc('AccessBinding', 'engineers', { role: 'engineer', users: ['ann', 'ben'] }),
        doc('AccessBinding', 'sellers', { role: 'seller', users: ['ann'] }),
        ...USERS.map((name) => doc('User', name, { userName: name, ...(titles[name] && { title: titles[name] }) })),
      ].join('---\n'),
    );
  };
  const run = () => rollcall(['run', '--manifests', manifests, '--once', '--state', join(root, 'state.json')], root);
  /** The change lines the console printed: `  USER  SYSTEM  what was written[; nothing written for ...]`. */
  const changeLines = (stdout: string) => stdout.split('\n').filter((line) => /^ {2}\S+\s+crm\s/.test(line));
  const written = (stdout: string) =>
    changeLines(stdout).flatMap((line) => {
      const text = line.replace(/^ {2}\S+\s+crm\s+/, '').split(/;? ?nothing written for /)[0]!;
      return text ? text.split(/, (?=create|update|grant|revoke|disable|enable|delete|adopt)/) : [];
    });
  const serverWrites = async () => (await target.server.requests()).filter((r) => WRITES.has(r.method) && (r.status ?? 500) < 300);
  const membersOf = async (displayName: string) => {
    const names = new Map<string, string>();
    for (const name of USERS) {
      const user = await target.rawUser(name);
      if (user) names.set(user.id, name);
    }
    const group = (await target.rawGroups()).find((g) => g.displayName === displayName);
    return (group?.members ?? []).map((m) => names.get(m.value) ?? m.value).sort();
  };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rollcall-scim-run-'));
    manifests = join(root, 'company');
    mkdirSync(manifests);
    target = await scimTarget(await startRestricted(), 'acme/crm');
    for (const displayName of ['staff', 'sales']) await target.raw('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName });
  }, 120_000);
  afterAll(async () => {
    await target?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('joins five Users to three groups without losing a membership, and prints the writes the server received', async () => {
    declare({ ann: 'Engineer' });
    await target.server.reset();
    const outcome = await run();
    expect(outcome.code, outcome.stdout + outcome.stderr).toBe(0);
    expect(await membersOf('staff')).toEqual(USERS);
    expect(await membersOf('engineering')).toEqual(['ann', 'ben']);
    expect(await membersOf('sales')).toEqual(['ann']);
    // One POST per account and one PUT per membership (no PATCH here): as many as the changes printed.
    const writes = await serverWrites();
    expect(writes.map((w) => w.method).sort()).toEqual([...Array(5).fill('POST'), ...Array(8).fill('PUT')]);
    expect(written(outcome.stdout)).toHaveLength(writes.length);
  });

  it('prints nothing as done when a hand change made it between the read and the write', async () => {
    // Declared: ann's title changes and she joins no new group; the server gets the same title by
    // hand just before Rollcall looks ann up to write it.
    declare({ ann: 'Lead' });
    await target.server.reset();
    await target.server.hook({ method: 'GET', contains: 'filter=userName eq "ann"', actions: [{ setUser: 'ann', attributes: { title: 'Lead' } }] });
    const outcome = await run();
    expect(outcome.code, outcome.stdout + outcome.stderr).toBe(0);
    expect((await target.server.hooks()).every((h) => h.fired)).toBe(true);
    expect(await serverWrites()).toEqual([]);
    expect(written(outcome.stdout)).toEqual([]);
    expect(outcome.stdout).toMatch(/^ {2}ann\s+crm\s+nothing written for update title \(the server already holds these values\)$/m);
  });

  it('a User whose write the server does not keep is not Ready, and the run exits 1', async () => {
    declare({ ann: 'Lead', ben: 'Architect' });
    await target.server.reset();
    await target.server.drop(['title']);
    const outcome = await run();
    expect(outcome.code, outcome.stdout + outcome.stderr).toBe(1);
    expect((await target.rawUser('ben'))?.['title']).toBeUndefined();
    expect(outcome.stdout).toMatch(/User acme\/ben in crm: .*read back after writing, the account still differs from what is declared \(update title\)/);
    expect(outcome.stdout.split('\n').find((line) => line.startsWith('ben '))).toMatch(/^ben\s+active\s+False/);
    // The write was sent and is reported: the console says what was sent, the failure what was kept.
    expect((await serverWrites()).map((w) => w.method)).toEqual(['PUT']);
    expect(written(outcome.stdout)).toEqual(['update title']);
  });
});
