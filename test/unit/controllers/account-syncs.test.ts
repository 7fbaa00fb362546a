// AccountSyncs: a User's reconcile waits for its account syncs only up to the patience; a slower
// one goes on alone, queues the User when it ends, and its result is taken by the next reconcile.
import { describe, expect, it } from 'vitest';
import type { AccountSyncResult } from '../../../src/controllers/sync-account.ts';
import { AccountSyncs } from '../../../src/controllers/account-syncs.ts';

const result = (system: string, extra: Partial<AccountSyncResult> = {}): AccountSyncResult => ({
  status: { system, state: 'present' },
  changes: [],
  refused: [],
  ...extra,
});
const failed = (error: unknown): AccountSyncResult => ({ status: { system: '?', state: 'error', message: String(error) }, changes: [], refused: [], error });

/** A sync that ends when the test says so. */
function manual(system: string) {
  let end!: (extra?: Partial<AccountSyncResult>) => void;
  let started = 0;
  const start = () => {
    started++;
    return new Promise<AccountSyncResult>((resolve) => (end = (extra) => resolve(result(system, extra))));
  };
  return { start, end: (extra?: Partial<AccountSyncResult>) => end(extra), started: () => started };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('AccountSyncs', () => {
  it('returns every result when the syncs end within the patience, and queues nobody', async () => {
    const done: string[] = [];
    const syncs = new AccountSyncs({ patienceMs: 1_000, onDone: (user) => done.push(user) });
    const fast = [
      { system: 'db', sync: syncs.sync('acme/alice', 'db', 'v1', async () => result('db'), failed) },
      { system: 'wiki', sync: syncs.sync('acme/alice', 'wiki', 'v1', async () => result('wiki'), failed) },
    ];
    expect((await syncs.within('acme/alice', fast)).map((r) => r?.status.system)).toEqual(['db', 'wiki']);
    await turn();
    expect(done).toEqual([]);
    expect(syncs.busy('acme/alice')).toBe(false);
  });

  it('a slow sync goes on alone: the reconcile gets the fast one, the slow one queues the User, and the next reconcile takes its result without syncing again', async () => {
    const done: string[] = [];
    const syncs = new AccountSyncs({ patienceMs: 20, onDone: (user) => done.push(user) });
    const slow = manual('wiki');
    const first = await syncs.within('acme/alice', [
      { system: 'db', sync: syncs.sync('acme/alice', 'db', 'v1', async () => result('db'), failed) },
      { system: 'wiki', sync: syncs.sync('acme/alice', 'wiki', 'v1', slow.start, failed) },
    ]);
    expect(first.map((r) => r?.status.system)).toEqual(['db', undefined]);
    expect(syncs.busy('acme/alice')).toBe(true);
    slow.end({ delivery: { secret: 'alice-wiki', expiresAt: '2026-01-01T00:00:00Z' } as never });
    await syncs.idle();
    await turn();
    expect(done).toEqual(['acme/alice']);
    // The next reconcile wants the same: it gets the result, and the sync is not started again.
    const second = await syncs.within('acme/alice', [{ system: 'wiki', sync: syncs.sync('acme/alice', 'wiki', 'v1', slow.start, failed) }]);
    expect(second[0]?.status.system).toBe('wiki');
    expect(second[0]?.delivery).toBeDefined();
    expect(slow.started()).toBe(1);
    expect(syncs.busy('acme/alice')).toBe(false);
  });

  it('once a system is known slow (a moving average of its syncs), a reconcile waits for it only while its other systems run', async () => {
    const syncs = new AccountSyncs({ patienceMs: 60_000, slowMs: 2, onDone: () => undefined });
    const first = manual('wiki');
    const pending = syncs.within('acme/frank', [{ system: 'acme/wiki', sync: syncs.sync('acme/frank', 'acme/wiki', 'v1', first.start, failed) }]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    first.end();
    // Not known slow yet: the reconcile waited (the patience is a minute) and got it.
    expect((await pending)[0]?.status.system).toBe('wiki');
    // Now known slow: the next User's reconcile returns as soon as its db sync is done.
    const second = manual('wiki');
    const [db, wiki] = await syncs.within('acme/grace', [
      { system: 'acme/db', sync: syncs.sync('acme/grace', 'acme/db', 'v1', async () => result('db'), failed) },
      { system: 'acme/wiki', sync: syncs.sync('acme/grace', 'acme/wiki', 'v1', second.start, failed) },
    ]);
    expect(db?.status.system).toBe('db');
    expect(wiki).toBeUndefined();
    second.end();
    await syncs.idle();
    // Fast syncs bring the average down again: then a reconcile waits for it as for any other.
    for (let i = 0; i < 20; i++)
      await syncs.within(`acme/u${i}`, [{ system: 'acme/wiki', sync: syncs.sync(`acme/u${i}`, 'acme/wiki', 'v1', async () => result('wiki'), failed) }]);
    const third = manual('wiki');
    const waited = syncs.within('acme/ivan', [
      { system: 'acme/db', sync: syncs.sync('acme/ivan', 'acme/db', 'v1', async () => result('db'), failed) },
      { system: 'acme/wiki', sync: syncs.sync('acme/ivan', 'acme/wiki', 'v1', third.start, failed) },
    ]);
    await turn();
    third.end();
    expect((await waited)[1]?.status.system).toBe('wiki');
  });

  it('two slow systems ending at different times: the reconcile after the last end has both, with nothing synced again', async () => {
    const done: string[] = [];
    const syncs = new AccountSyncs({ patienceMs: 5, onDone: (user) => done.push(user) });
    const db = manual('db');
    const wiki = manual('wiki');
    const reconcile = () =>
      syncs.within('acme/kim', [
        { system: 'acme/db', sync: syncs.sync('acme/kim', 'acme/db', 'v1', db.start, failed) },
        { system: 'acme/wiki', sync: syncs.sync('acme/kim', 'acme/wiki', 'v1', wiki.start, failed) },
      ]);
    expect(await reconcile()).toEqual([undefined, undefined]);
    db.end();
    await turn();
    expect(done).toEqual(['acme/kim']);
    // The reconcile queued by db's end: db's result, wiki still running.
    expect((await reconcile()).map((r) => r?.status.system)).toEqual(['db', undefined]);
    wiki.end();
    await turn();
    expect(done).toEqual(['acme/kim', 'acme/kim']);
    // The one queued by wiki's end has both: db was kept, not synced again.
    expect((await reconcile()).map((r) => r?.status.system)).toEqual(['db', 'wiki']);
    expect([db.started(), wiki.started()]).toEqual([1, 1]);
    expect(syncs.busy('acme/kim')).toBe(false);
  });

  it('a reconcile that wants the same while the sync still runs waits for that sync; one that wants something else starts after it ends, never beside it', async () => {
    const syncs = new AccountSyncs({ patienceMs: 10, onDone: () => undefined });
    const slow = manual('wiki');
    await syncs.within('acme/bob', [{ system: 'wiki', sync: syncs.sync('acme/bob', 'wiki', 'v1', slow.start, failed) }]);
    // Same wants: no second sync.
    const same = syncs.sync('acme/bob', 'wiki', 'v1', slow.start, failed);
    expect(slow.started()).toBe(1);
    // Other wants (a mover): queued behind the running one, keeping the first password it delivered.
    let moverStarted = false;
    const mover = syncs.sync(
      'acme/bob',
      'wiki',
      'v2',
      async () => {
        moverStarted = true;
        return result('wiki');
      },
      failed,
    );
    await turn();
    expect(moverStarted).toBe(false);
    slow.end({ delivery: { secret: 'bob-wiki' } as never });
    expect((await same.result).status.system).toBe('wiki');
    const moved = await mover.result;
    expect(moverStarted).toBe(true);
    expect(moved.delivery).toEqual({ secret: 'bob-wiki' });
  });

  it("a sync that throws becomes that system's failure; idle() waits for every running sync", async () => {
    const syncs = new AccountSyncs({ patienceMs: 5, onDone: () => undefined });
    const slow = manual('db');
    const [thrown, running] = await syncs.within('acme/carol', [
      { system: 'wiki', sync: syncs.sync('acme/carol', 'wiki', 'v1', async () => Promise.reject(new Error('boom')), failed) },
      { system: 'db', sync: syncs.sync('acme/carol', 'db', 'v1', slow.start, failed) },
    ]);
    expect(thrown?.error).toBeInstanceOf(Error);
    expect(running).toBeUndefined();
    let idle = false;
    const waiting = syncs.idle().then(() => (idle = true));
    await turn();
    expect(idle).toBe(false);
    slow.end();
    await waiting;
    expect(idle).toBe(true);
  });

  it('results nobody will take are dropped: a system no longer wanted, a User that is gone', async () => {
    const syncs = new AccountSyncs({ patienceMs: 5, onDone: () => undefined });
    const slow = manual('wiki');
    await syncs.within('acme/dave', [{ system: 'wiki', sync: syncs.sync('acme/dave', 'wiki', 'v1', slow.start, failed) }]);
    slow.end();
    await syncs.idle();
    // The role giving wiki was removed: the next reconcile asks only for db.
    await syncs.within('acme/dave', [{ system: 'db', sync: syncs.sync('acme/dave', 'db', 'v2', async () => result('db'), failed) }]);
    expect(syncs.busy('acme/dave')).toBe(false);

    const other = manual('wiki');
    await syncs.within('acme/erin', [{ system: 'wiki', sync: syncs.sync('acme/erin', 'wiki', 'v1', other.start, failed) }]);
    other.end();
    await syncs.idle();
    syncs.forget('acme/erin');
    expect(syncs.busy('acme/erin')).toBe(false);
  });
});
