// A burst of leavers is cut off before any of them is cleaned up: each leaver's sync writes its
// disable in one turn of the system's slot and its revokes and read-back in a second turn, which
// waits behind every cut-off queued for the system (Connections' priorities). Real parts: the
// embedded sqlite system, Connections with one call at a time, the deletion guard.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { AccountChange, AccountStatus, ConnectedSystem, DesiredAccount, User } from '../../../src/api/index.ts';
import { TestClock } from '../../../src/clock/clock.ts';
import { Connections } from '../../../src/connections/connections.ts';
import { describeDirectory } from '../../../src/connectors/sqlite/directory.ts';
import { AccountSyncs } from '../../../src/controllers/account-syncs.ts';
import type { ControllerContext } from '../../../src/controllers/context.ts';
import { DeletionGate } from '../../../src/controllers/deletion-gate.ts';
import { ObservedCache } from '../../../src/controllers/observed-cache.ts';
import { StatusWrites } from '../../../src/controllers/status-writes.ts';
import { cutOffFirst, syncAccount } from '../../../src/controllers/sync-account.ts';
import { UserNameIndex } from '../../../src/controllers/user-name-index.ts';
import { MemoryStore, type ResourceInput } from '../../../src/store/memory-store.ts';
import { readSnapshot } from '../../../src/store/world.ts';
import { capturedLogger } from '../../helpers/captured-logger.ts';

const logger = pino({ level: 'silent' });
const change = (op: AccountChange['op'], entitlement?: string) =>
  (entitlement
    ? { op, userName: 'alice', entitlement }
    : op === 'update'
      ? { op, userName: 'alice', attributes: {} }
      : { op, userName: 'alice' }) as AccountChange;

describe('cutOffFirst', () => {
  it('a leaver: the disable or delete first, its revokes after', () => {
    const changes = [change('revoke', 'vpn'), change('disable'), change('revoke', 'staff')];
    expect(cutOffFirst(changes)).toEqual({ cutOff: [change('disable')], rest: [change('revoke', 'vpn'), change('revoke', 'staff')] });
    expect(cutOffFirst([change('revoke', 'vpn'), change('delete')]).cutOff).toEqual([change('delete')]);
  });
  it("an expiry or a mover: every change at once, in the plan's order (a mover's grants before its revokes: its access never dips)", () => {
    const changes = [change('grant', 'sales'), change('revoke', 'engineering'), change('update')];
    expect(cutOffFirst(changes)).toEqual({ cutOff: changes, rest: [] });
    expect(cutOffFirst([change('revoke', 'vpn')])).toEqual({ cutOff: [change('revoke', 'vpn')], rest: [] });
  });
});

/** The real sqlite system `wiki` behind a Connections of one call at a time, with `names` as Users; every write is recorded. */
function wikiHarness(dir: string, names: string[]) {
  const system = {
    apiVersion: 'rollcall.dev/v1alpha1',
    kind: 'ConnectedSystem',
    metadata: { name: 'wiki', namespace: 'acme' },
    spec: { type: 'sqlite', sqlite: { path: join(dir, 'wiki.db') }, deprovision: { policy: 'disable' }, deletionGuard: { maxCount: names.length } },
  } as ResourceInput;
  const users = names.map(
    (name) =>
      ({
        apiVersion: 'rollcall.dev/v1alpha1',
        kind: 'User',
        metadata: { name, namespace: 'acme' },
        spec: { userName: name, state: 'active' },
      }) as ResourceInput,
  );
  // The in-memory store logs each Event it records: read them there.
  const log = capturedLogger('info');
  const store = new MemoryStore([system, ...users], { logger: log.logger });
  const writes: { user: string; ops: string[] }[] = [];
  const ctx: ControllerContext = {
    store,
    logger,
    connections: new Connections({ store, logger, perSystemConcurrency: 1 }),
    observed: new ObservedCache(),
    gate: new DeletionGate(),
    clock: new TestClock(new Date('2026-11-26T09:00:00Z')),
    enqueue: () => undefined,
    userNames: new UserNameIndex(),
    syncs: new AccountSyncs({ patienceMs: 1_000, onDone: () => undefined }),
    statusWrites: new StatusWrites({ max: 1, onFailed: () => undefined }),
    onApplied: (applied) => writes.push({ user: applied.user, ops: applied.changes.map((c) => c.op) }),
  };
  const wiki = store.get('ConnectedSystem', { namespace: 'acme', name: 'wiki' }) as ConnectedSystem;
  const account = (userName: string, state: DesiredAccount['state'], entitlements: string[]): DesiredAccount => ({
    system: 'wiki',
    userName,
    state,
    attributes: {},
    entitlements: state === 'present' ? entitlements : [],
  });
  /** The sync of `name`'s account: `state` with `entitlements`, from what `previous` recorded. */
  const sync = (name: string, state: DesiredAccount['state'], previous?: AccountStatus, entitlements = ['staff', 'vpn']) => {
    const user = store.get('User', { namespace: 'acme', name }) as User;
    const snapshot = () => readSnapshot(store, 'acme', ctx.clock);
    return syncAccount(ctx, snapshot, user, wiki, account(name, state, entitlements), previous, new AbortController().signal);
  };
  return { ctx, store, wiki, log, writes, sync };
}

describe('a burst of leavers on one system', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('writes every disable before any revoke, and records one Event per account with all its changes', async () => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-cut-off-'));
    const names = Array.from({ length: 12 }, (_, i) => `leaver${i}`);
    const { ctx, wiki, log, writes, sync } = wikiHarness(dir, names);
    for (const name of names) expect((await sync(name, 'present')).error).toBeUndefined();
    writes.length = 0;

    // The system's one slot is taken while the burst arrives, so every leaver's first turn is queued.
    let release!: () => void;
    const held = ctx.connections.use(wiki, () => new Promise<void>((resolve) => (release = resolve)));
    const held1 = { system: 'wiki', state: 'present', entitlements: ['staff', 'vpn'] } as AccountStatus;
    const burst = names.map((name) => sync(name, 'disabled', held1));
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    release();
    await held;
    const results = await Promise.all(burst);

    expect(results.map((r) => r.error)).toEqual(names.map(() => undefined));
    expect(results.map((r) => r.status.state)).toEqual(names.map(() => 'disabled'));
    const ops = writes.flatMap((w) => w.ops);
    expect(ops.filter((op) => op === 'disable')).toHaveLength(names.length);
    expect(ops.lastIndexOf('disable')).toBeLessThan(ops.indexOf('revoke'));
    // Every account disabled and emptied in the system itself.
    const rows = describeDirectory(join(dir, 'wiki.db')).filter((row) => names.includes(row.userName));
    expect(rows.map((row) => [row.state, row.groups.length])).toEqual(names.map(() => ['disabled', 0]));
    // One Event per leaver on its User, naming the disable and both revokes, as before the cut-off went first.
    const events = log.records.filter((r) => (r.event as { kind?: string } | undefined)?.kind === 'User');
    expect(events).toHaveLength(names.length);
    for (const event of events) expect(event.msg).toMatch(/^wiki: disable account, revoke (staff|vpn), revoke (staff|vpn)$/);
  });

  it("a mover's grant is written before its revoke, in one turn: its access never dips", async () => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-cut-off-'));
    const { writes, sync } = wikiHarness(dir, ['mover']);
    expect((await sync('mover', 'present', undefined, ['engineering'])).error).toBeUndefined();
    writes.length = 0;
    const before = { system: 'wiki', state: 'present', entitlements: ['engineering'] } as AccountStatus;
    const moved = await sync('mover', 'present', before, ['sales']);
    expect(moved.error).toBeUndefined();
    expect(moved.status.entitlements).toEqual(['sales']);
    expect(writes).toEqual([{ user: 'mover', ops: ['grant', 'revoke'] }]);
  });

  it('a leaver arriving later still goes ahead of the follow-ups queued before it, and those ahead of ordinary calls', async () => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-cut-off-'));
    const wiki = {
      apiVersion: 'rollcall.dev/v1alpha1',
      kind: 'ConnectedSystem',
      metadata: { name: 'wiki', namespace: 'acme' },
      spec: { type: 'sqlite', sqlite: { path: join(dir, 'wiki.db') } },
    } as ResourceInput;
    const store = new MemoryStore([wiki], { logger });
    const connections = new Connections({ store, logger, perSystemConcurrency: 1 });
    const system = store.get('ConnectedSystem', { namespace: 'acme', name: 'wiki' }) as ConnectedSystem;
    let release!: () => void;
    const held = connections.use(system, () => new Promise<void>((resolve) => (release = resolve)));
    const order: string[] = [];
    const call = (name: string, use: Parameters<Connections['use']>[2]) => connections.use(system, async () => void order.push(name), use);
    const calls = [
      call('joiner', { account: 'joiner' }),
      call('follow-up', { account: 'early', urgent: true, followUp: true }),
      call('cut-off', { account: 'late', urgent: true }),
    ];
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    release();
    await Promise.all([held, ...calls]);
    expect(order).toEqual(['cut-off', 'follow-up', 'joiner']);
  });
});
