// Joiners' first credentials end to end on the controllers, the real in-memory store and the real
// embedded directory (sqlite): the password is delivered in a Secret the User owns, written before
// the create (so a retry reuses it), it logs in, it is never logged, and the Secret goes after its
// ttl by the injected clock, or with the User.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestClock } from '../../../src/clock/clock.ts';
import { authenticate, describeDirectory } from '../../../src/connectors/sqlite/directory.ts';
import {
  EXPIRES_AT_ANNOTATION,
  INITIAL_PASSWORD_LABEL,
  INITIAL_PASSWORD_SYSTEM_LABEL,
  initialPasswordSecretKey,
  withDeliveriesKept,
} from '../../../src/controllers/initial-password.ts';
import { Manager } from '../../../src/controllers/manager.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import { capturedLogger } from '../../helpers/captured-logger.ts';
import type { ManifestDirectory } from '../../../src/manifests/directory.ts';
import { aliceDirectory } from '../../helpers/alice-directory.ts';
import { manifestsYaml, type SpecOf } from '../../helpers/manifests.ts';
import { storeFromManifests } from '../../helpers/store-from-manifests.ts';

const HOUR = 3_600_000;

/** alice's directory, giving first passwords valid for 2 h unless `system` says otherwise. */
function manifests(db: string, { withUser = true, ...system }: Partial<SpecOf<'ConnectedSystem'>> & { withUser?: boolean } = {}): string {
  return manifestsYaml(aliceDirectory({ path: db, system: { credentials: { policy: 'initialPassword', ttl: '2h' }, ...system }, withUser }));
}

describe('first passwords delivered to joiners', () => {
  let dir: string;
  let db: string;
  let store: MemoryStore;
  let directory: ManifestDirectory;
  let manager: Manager | undefined;
  let clock: TestClock;
  let lines: string[];
  const alice = () => store.get('User', { namespace: 'acme', name: 'alice' })!;
  const secretKey = () => initialPasswordSecretKey(alice(), 'directory');
  const settle = async () => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    await manager!.idle();
  };
  const start = async (content: string) => {
    writeFileSync(join(dir, 'all.yaml'), content);
    const captured = capturedLogger('trace');
    lines = captured.lines;
    ({ store, directory } = storeFromManifests(dir, { logger: captured.logger, clock }));
    manager = new Manager({ store, logger: captured.logger, clock });
    await manager.start();
    await manager.idle();
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-first-password-'));
    db = join(dir, 'directory.db');
    clock = new TestClock(new Date('2030-05-01T08:00:00Z'));
  });

  afterEach(async () => {
    await manager?.stop();
    manager = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a Secret the User owns, labelled for the userName and system, whose password logs in; never logged', async () => {
    await start(manifests(db));
    const secret = await store.getOwnedSecret(secretKey());
    expect(secret).toBeDefined();
    expect(secret!.labels).toMatchObject({ [INITIAL_PASSWORD_LABEL]: 'alice', [INITIAL_PASSWORD_SYSTEM_LABEL]: 'directory' });
    expect(secret!.owner).toEqual({ apiVersion: 'rollcall.dev/v1alpha1', kind: 'User', name: 'alice', uid: alice().metadata.uid });
    expect(secret!.annotations[EXPIRES_AT_ANNOTATION]).toBe('2030-05-01T10:00:00.000Z');
    const password = secret!.data['password']!;
    expect(password).toMatch(/^[A-Za-z0-9\-_.+=#%]{24}$/);
    expect(await authenticate(db, 'alice', password)).toBe(true);
    expect(await authenticate(db, 'alice', `${password}x`)).toBe(false);
    expect(alice().status?.accounts?.[0]?.initialPassword).toEqual({ secretName: secretKey().name, expiresAt: '2030-05-01T10:00:00.000Z' });
    // The audit line and the Event of the create were written: neither carries the password.
    expect(lines.join('\n')).toContain('create');
    expect(lines.join('\n')).not.toContain(password);
    expect(JSON.stringify(alice().status)).not.toContain(password);
  });

  it("deletes the Secret when its ttl is up, by the injected clock, and the password stays the person's", async () => {
    await start(manifests(db));
    const password = (await store.getOwnedSecret(secretKey()))!.data['password']!;
    clock.advance(2 * HOUR - 1);
    await settle();
    expect(await store.getOwnedSecret(secretKey())).toBeDefined();
    clock.advance(1); // the wake-up the User's reconcile asked for
    await settle();
    expect(await store.getOwnedSecret(secretKey())).toBeUndefined();
    expect(alice().status?.accounts?.[0]?.initialPassword).toBeUndefined();
    expect(await authenticate(db, 'alice', password)).toBe(true);
  });

  it('defaults the ttl to 72h', async () => {
    await start(manifests(db, { credentials: { policy: 'initialPassword' } }));
    expect((await store.getOwnedSecret(secretKey()))!.annotations[EXPIRES_AT_ANNOTATION]).toBe('2030-05-04T08:00:00.000Z');
  });

  it('reuses the Secret an earlier attempt wrote before its create failed (write-ahead)', async () => {
    // Suspended: the User exists (it has its uid) and nothing is created yet.
    await start(manifests(db, { suspend: true }));
    const key = secretKey();
    expect(await store.getOwnedSecret(key)).toBeUndefined();
    // What an attempt that wrote the Secret and then failed to create the account leaves behind.
    await store.createOwnedSecret({
      key,
      labels: { [INITIAL_PASSWORD_LABEL]: 'alice', [INITIAL_PASSWORD_SYSTEM_LABEL]: 'directory' },
      annotations: { [EXPIRES_AT_ANNOTATION]: '2030-05-01T09:00:00.000Z' },
      data: { userName: 'alice', system: 'directory', password: 'Left-By-Earlier-Attempt-7' },
      owner: { apiVersion: 'rollcall.dev/v1alpha1', kind: 'User', name: 'alice', uid: alice().metadata.uid! },
    });
    writeFileSync(join(dir, 'all.yaml'), manifests(db));
    directory.reload();
    await settle();
    expect(describeDirectory(db).map((a) => a.userName)).toEqual(['alice']);
    expect(await authenticate(db, 'alice', 'Left-By-Earlier-Attempt-7')).toBe(true);
    expect((await store.getOwnedSecret(key))!.data['password']).toBe('Left-By-Earlier-Attempt-7');
    // Its expiry is the one it was written with, not a new one.
    expect(alice().status?.accounts?.[0]?.initialPassword?.expiresAt).toBe('2030-05-01T09:00:00.000Z');
  });

  it('never takes a password from a Secret under its name that the User does not own, and creates nothing', async () => {
    await start(manifests(db, { suspend: true }));
    await store.createOwnedSecret({
      key: secretKey(),
      labels: { [INITIAL_PASSWORD_LABEL]: 'alice', [INITIAL_PASSWORD_SYSTEM_LABEL]: 'directory' },
      annotations: { [EXPIRES_AT_ANNOTATION]: '2030-06-01T00:00:00Z' },
      data: { password: 'Chosen-By-Mallory-1' },
      owner: { apiVersion: 'rollcall.dev/v1alpha1', kind: 'User', name: 'alice', uid: 'not-alices-uid' },
    });
    writeFileSync(join(dir, 'all.yaml'), manifests(db));
    directory.reload();
    await settle();
    expect(describeDirectory(db)).toEqual([]);
    const status = alice().status?.accounts?.[0];
    expect(status?.state).toBe('error');
    expect(status?.message).toContain(`Secret acme/${secretKey().name} exists but is not Rollcall`);
  });

  it('with policy none (the default) sets no password and writes no Secret', async () => {
    await start(manifests(db, { credentials: { policy: 'none' } }));
    expect(describeDirectory(db).map((a) => a.userName)).toEqual(['alice']);
    expect(await store.getOwnedSecret(secretKey())).toBeUndefined();
    expect(alice().status?.accounts?.[0]?.initialPassword).toBeUndefined();
  });

  it('deletes the Secret with the User that owns it', async () => {
    await start(manifests(db));
    const key = secretKey();
    expect(await store.getOwnedSecret(key)).toBeDefined();
    writeFileSync(join(dir, 'all.yaml'), manifests(db, { withUser: false }));
    directory.reload();
    await settle();
    await settle();
    expect(store.get('User', { namespace: 'acme', name: 'alice' })).toBeUndefined();
    expect(await store.getOwnedSecret(key)).toBeUndefined();
  });
});

describe('a delivery another pass recorded survives a status written from a stale cache', () => {
  const delivery = { secretName: 'alice-wiki-initial-password', expiresAt: '2031-03-02T10:00:00Z' };
  const stale = { accounts: [{ system: 'wiki', state: 'present' as const }] };
  const latest = { accounts: [{ system: 'wiki', state: 'present' as const, initialPassword: delivery }] };

  it('is carried over from the freshest status, and says so (the next pass must tell when it is due)', () => {
    expect(withDeliveriesKept(stale, latest, new Set())).toEqual({ status: latest, carried: true });
  });

  it('is not carried over once this pass deleted its Secret', () => {
    expect(withDeliveriesKept(stale, latest, new Set([delivery.secretName]))).toEqual({ status: stale, carried: false });
  });

  it("keeps this pass's own delivery over the stored one", () => {
    const own = { accounts: [{ system: 'wiki', state: 'present' as const, initialPassword: { ...delivery, secretName: 'newer' } }] };
    expect(withDeliveriesKept(own, latest, new Set())).toEqual({ status: own, carried: false });
  });
});
