// The one conformance suite every connector passes, against a real server of its type.
// Each `<type>.conformance.test.ts` calls `describeConformance` with a harness for its server.
// A connector that declares Capabilities.endsSessions must give the target's `sessions` hook
// (harness.ts: setPassword?(userName, password), open(userName, password) -> {alive(), close()}):
// the suite opens a session as the user, disables, and expects it dead, and still dead after a re-enable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError, type DesiredAccount, type ObservedAccount } from '../../src/api/index.ts';
import type { Connector } from '../../src/connectors/types.ts';
import { accountPlan, ambiguousEntitlements, entitlementChanges, inDeclaredSpelling } from '../../src/engine/index.ts';
import { user } from '../unit/engine/fixtures.ts';
import type { ConformanceTarget } from './harness.ts';
import { capturedLogger } from '../helpers/captured-logger.ts';

/** Captures every log line the connector writes, to prove no secret is ever logged. */
export const capturingLogger = () => capturedLogger('trace');

const signal = () => AbortSignal.timeout(30_000);

async function list(connector: Connector): Promise<ObservedAccount[]> {
  const out: ObservedAccount[] = [];
  for await (const account of connector.listAccounts(signal())) out.push(account);
  return out.sort((a, b) => a.userName.localeCompare(b.userName));
}

function account(userName: string, attributes: Record<string, string> = {}): DesiredAccount {
  return { system: 'conformance', userName, state: 'present', attributes, entitlements: [] };
}

/** Awaits a promise expected to fail, returning the error and how long failing took. */
async function failure(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  try {
    await promise;
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
  throw new Error('expected the call to fail, but it succeeded');
}

export function describeConformance(type: string, start: () => Promise<ConformanceTarget>): void {
  describe(`${type} connector conformance`, () => {
    let target: ConformanceTarget;
    let connector: Connector;
    const errorsSeen: string[] = [];
    /** Passwords the session check gave users: never in a log line or an error either. */
    const sessionPasswords: string[] = [];
    const { logger, lines: logLines } = capturingLogger();

    beforeAll(async () => {
      target = await start();
      connector = await target.connect({ logger });
    }, 120_000);

    afterAll(async () => {
      await connector?.close();
      await target?.close();
    }, 60_000);

    const caps = () => connector.capabilities;
    const attr = () => target.attribute;
    const attrs = (value: string): Record<string, string> => (attr() ? { [attr()!]: value } : {});

    it('creates an account with its attributes', async () => {
      await connector.apply({ op: 'create', account: account('alice', attrs('Alice Archer')) }, signal());
      for (const e of caps().implicitAccounts ? [target.entitlements[0]] : []) {
        await connector.apply({ op: 'grant', userName: 'alice', entitlement: e }, signal());
      }
      const got = await connector.getAccount('alice', signal());
      expect(got?.userName).toBe('alice');
      expect(got?.state).toBe('present');
      expect(got?.id).toBeTruthy();
      if (attr()) expect(got?.attributes[attr()!]).toBe('Alice Archer');
    });

    it('issues no write when the same change is applied again', async () => {
      const before = await target.fingerprint('alice');
      expect(before).toBeDefined();
      await connector.apply({ op: 'create', account: account('alice', attrs('Alice Archer')) }, signal());
      if (attr()) await connector.apply({ op: 'update', userName: 'alice', attributes: attrs('Alice Archer') }, signal());
      expect(await target.fingerprint('alice')).toBe(before);
    });

    it('updates an attribute', async () => {
      if (!attr()) return expect(caps().attributes).toEqual([]);
      await connector.apply({ op: 'update', userName: 'alice', attributes: attrs('Alice B. Archer') }, signal());
      expect((await connector.getAccount('alice', signal()))?.attributes[attr()!]).toBe('Alice B. Archer');
    });

    it('grants and revokes an entitlement', async () => {
      const [first, second] = target.entitlements;
      await connector.apply({ op: 'grant', userName: 'alice', entitlement: first }, signal());
      await connector.apply({ op: 'grant', userName: 'alice', entitlement: second }, signal());
      await connector.apply({ op: 'grant', userName: 'alice', entitlement: second }, signal());
      expect((await connector.getAccount('alice', signal()))?.entitlements).toEqual([first, second].sort());
      await connector.apply({ op: 'revoke', userName: 'alice', entitlement: second }, signal());
      await connector.apply({ op: 'revoke', userName: 'alice', entitlement: second }, signal());
      expect((await connector.getAccount('alice', signal()))?.entitlements).toEqual([first]);
    });

    it('disable really blocks login, and enable restores it', async () => {
      expect(await target.canLogin('alice')).toBe(true);
      if (!caps().disable) return;
      await connector.apply({ op: 'disable', userName: 'alice' }, signal());
      await connector.apply({ op: 'disable', userName: 'alice' }, signal());
      expect(await target.canLogin('alice')).toBe(false);
      expect((await connector.getAccount('alice', signal()))?.state).toBe('disabled');
      await connector.apply({ op: 'enable', userName: 'alice' }, signal());
      expect(await target.canLogin('alice')).toBe(true);
      expect((await connector.getAccount('alice', signal()))?.state).toBe('present');
    });

    it('deletes, and deleting what is already gone succeeds', async () => {
      await connector.apply({ op: 'create', account: account('bob') }, signal());
      if (caps().implicitAccounts) await connector.apply({ op: 'grant', userName: 'bob', entitlement: target.entitlements[0] }, signal());
      expect(await connector.getAccount('bob', signal())).toBeDefined();
      await connector.apply({ op: 'delete', userName: 'bob' }, signal());
      expect(await connector.getAccount('bob', signal())).toBeUndefined();
      expect(await target.canLogin('bob')).toBe(false);
      await connector.apply({ op: 'delete', userName: 'bob' }, signal());
      await connector.apply({ op: 'revoke', userName: 'bob', entitlement: target.entitlements[0] }, signal()).catch((e: unknown) => {
        expect(e).toBeInstanceOf(PermanentError);
      });
    });

    // Capabilities.endsSessions: what the leaver holds stops working at the disable, not when it expires.
    it('a session open before the disable is dead after it, and stays dead after a re-enable', async () => {
      if (!caps().endsSessions) return expect(caps().endsSessions ?? false).toBe(false);
      const sessions = target.sessions;
      if (!sessions) throw new Error(`${type} declares endsSessions: its target must give the sessions hook (harness.ts)`);
      const password = `Rc1!session-${crypto.randomUUID()}`;
      sessionPasswords.push(password);
      await connector.apply({ op: 'create', account: account('sid') }, signal());
      try {
        await sessions.setPassword?.('sid', password);
        const before = await sessions.open('sid', password);
        try {
          expect(await before.alive()).toBe(true);
          await connector.apply({ op: 'disable', userName: 'sid' }, signal());
          expect(await before.alive()).toBe(false);
          await connector.apply({ op: 'enable', userName: 'sid' }, signal());
          expect(await before.alive()).toBe(false);
        } finally {
          await before.close();
        }
      } finally {
        await connector.apply({ op: 'delete', userName: 'sid' }, signal());
      }
    });

    it('lists exactly the managed scope, never system or foreign accounts', async () => {
      await target.createForeignAccount('mallory');
      await connector.apply({ op: 'create', account: account('carol') }, signal());
      if (caps().implicitAccounts) await connector.apply({ op: 'grant', userName: 'carol', entitlement: target.entitlements[0] }, signal());
      const names = (await list(connector)).map((a) => a.userName);
      expect(names).toEqual(['alice', 'carol']);
      // Read by name, a foreign account is never presented as one of this system's: absent, or marked as unmanaged.
      const mallory = await connector.getAccount('mallory', signal());
      expect(mallory === undefined || mallory.owner === 'unmanaged').toBe(true);
      // Deleting or disabling a foreign account through the connector must not touch it.
      await connector.apply({ op: 'delete', userName: 'mallory' }, signal()).catch(() => undefined);
      await connector.apply({ op: 'disable', userName: 'mallory' }, signal()).catch(() => undefined);
      expect(await target.foreignAccountIntact('mallory')).toBe(true);
    });

    const hostile = [
      'Smith, John + "Q" \\ <x> ; = * ( ) # ok',
      "O'Brien'); DROP TABLE accounts; --",
      'SELECT * FROM pg_authid WHERE 1=1',
      '*)(uid=*))(|(uid=*',
      'Zoë Ångström 日本語 🚀',
      '  leading and trailing spaces  ',
      'x'.repeat(5000),
    ];

    it('stores hostile values verbatim or refuses them clearly, never injected', async () => {
      if (!attr()) return;
      for (const [i, value] of hostile.entries()) {
        const userName = `hostile${i}`;
        try {
          await connector.apply({ op: 'create', account: account(userName, attrs(value)) }, signal());
        } catch (error) {
          expect(error, `value ${JSON.stringify(value.slice(0, 40))}`).toBeInstanceOf(PermanentError);
          errorsSeen.push((error as Error).message);
          continue;
        }
        const got = await connector.getAccount(userName, signal());
        expect(got?.attributes[attr()!], `value ${JSON.stringify(value.slice(0, 40))}`).toBe(value);
        await connector.apply({ op: 'delete', userName }, signal());
      }
      // Nothing else changed: the managed scope is what it was.
      expect((await list(connector)).map((a) => a.userName)).toEqual(['alice', 'carol']);
      expect(await target.foreignAccountIntact('mallory')).toBe(true);
    });

    it('never matches other accounts through a hostile user name', async () => {
      for (const name of ['*', 'a*', '*)(uid=*', "alice' OR '1'='1", 'alice\u0000', '../alice', 'ALICE']) {
        expect(await connector.getAccount(name, signal()), name).toBeUndefined();
      }
    });

    it('gives a permanent error that says so for wrong credentials, without the secret', async () => {
      const bad = await target.connect({ logger, credentials: target.badCredentials, timeoutMs: 5000 });
      try {
        const { error } = await failure(bad.check(signal()));
        expect(error).toBeInstanceOf(PermanentError);
        const message = (error as Error).message;
        expect(message).toMatch(/credential|authenticat|password|unauthori[sz]ed|login|bind/i);
        errorsSeen.push(message);
      } finally {
        await bad.close();
      }
    });

    // Before the fault tests: a restarted server (a new certificate for the control plane) leaves `connector` behind.
    describe('compares names and values in the server terms', () => {
      const dora = user('dora', { givenName: undefined, familyName: undefined, displayName: undefined, email: undefined });
      const present = (entitlements: string[], attributes: Record<string, string> = {}): DesiredAccount => ({ ...account('dora', attributes), entitlements });
      /** One pass as the User reconciler runs it: plan through the engine, apply every change, read back. */
      const pass = async (desired: DesiredAccount) => {
        const before = await connector.getAccount('dora', signal());
        const plan = accountPlan(dora, desired, before, caps(), { refusal: connector.refusal?.bind(connector) });
        for (const change of plan.changes) await connector.apply(change, signal());
        return { plan, after: await connector.getAccount('dora', signal()) };
      };
      /** Converges, then proves a second pass plans nothing. */
      const converge = async (desired: DesiredAccount) => {
        const first = await pass(desired);
        const second = await pass(desired);
        expect(second.plan.changes).toEqual([]);
        return first;
      };

      it('declared spellings the server treats as the held name converge, and a second pass plans nothing', async () => {
        const spellings = target.spellings;
        if (!spellings) return expect(entitlementChanges('dora', ['x'], ['x'], caps())).toEqual([]); // no spellings given for this server: a name is at least itself
        await spellings.createEntitlement(spellings.held);
        await converge(present([spellings.held]));
        for (const spelling of spellings.alike) {
          const { plan, after } = await converge(present([spelling]));
          // The existing group is granted and kept: neither a grant of the spelling nor a revoke of the held name.
          expect(plan.changes).toEqual([]);
          expect(after?.entitlements).toEqual([spellings.held]);
          expect(inDeclaredSpelling(after?.entitlements ?? [], [spelling], caps())).toEqual([spelling]);
        }
        // A spelling declared from the start, with nothing held yet: the grant finds the existing group.
        await converge(present([]));
        const [spelling = spellings.held] = spellings.alike;
        const { plan, after } = await converge(present([spelling]));
        expect(plan.changes).toEqual([{ op: 'grant', userName: 'dora', entitlement: spelling }]);
        expect(after?.entitlements).toEqual([spellings.held]);
      }, 60_000);

      it('refuses two declared names the server treats as one, naming both, and stays put', async () => {
        const spellings = target.spellings;
        if (!spellings) return expect(entitlementChanges('dora', ['x'], ['x'], caps())).toEqual([]); // no spellings given for this server: a name is at least itself
        const [a, b] = spellings.ambiguous;
        const { plan, after } = await converge(present([a, b]));
        expect(plan.refused.map((r) => r.entitlement).sort()).toEqual([a, b].sort());
        for (const refusal of plan.refused) expect(refusal.reason).toContain(`${JSON.stringify([a, b].sort()[0])} and ${JSON.stringify([a, b].sort()[1])}`);
        expect(after?.entitlements).toEqual([]);
      }, 60_000);

      it('keeps apart the names the server keeps apart', async () => {
        const spellings = target.spellings;
        if (!spellings?.distinct) return expect(ambiguousEntitlements(['x', 'x'], caps())).toEqual([]); // one name declared twice is not ambiguous
        for (const name of spellings.distinct) await spellings.createEntitlement(name);
        const { after } = await converge(present([...spellings.distinct]));
        expect(after?.entitlements).toEqual([...spellings.distinct].sort());
        await converge(present([]));
      }, 60_000);

      it('a declared familyName equal to the userName, or none, plans nothing on the second pass', async () => {
        await converge(present([], { familyName: 'dora' }));
        const { after } = await converge(present([]));
        if (caps().attributes.includes('familyName')) expect(after).toBeDefined();
        await converge(present([], { familyName: 'Explorer' }));
        const { after: renamed } = await converge(present([], { familyName: 'dora' }));
        if (caps().attributes.includes('familyName')) expect(renamed?.attributes['familyName']).toBe('dora');
      }, 60_000);
    });

    it('gives a retryable error within a bounded time when the server hangs', async () => {
      const slow = await target.connect({ logger, timeoutMs: 2000 });
      await target.freezeServer();
      try {
        const call = target.readsNeverWait
          ? slow.apply({ op: 'grant', userName: 'alice', entitlement: target.entitlements[0] }, signal())
          : slow.getAccount('alice', signal());
        const { error, ms } = await failure(call);
        expect(error).toBeInstanceOf(RetryableError);
        expect(ms).toBeLessThan(15_000);
        errorsSeen.push((error as Error).message);
      } finally {
        await target.thawServer();
        await slow.close();
      }
    }, 30_000);

    it('gives a retryable error within a bounded time when the server is down, and recovers', async () => {
      await target.stopServer();
      try {
        const down = await target.connect({ logger, timeoutMs: 2000 }).catch((e: unknown) => e);
        if (down instanceof Error) {
          expect(down).toBeInstanceOf(RetryableError);
        } else {
          const { error, ms } = await failure((down as Connector).check(signal()));
          expect(error).toBeInstanceOf(RetryableError);
          expect(ms).toBeLessThan(15_000);
          errorsSeen.push((error as Error).message);
          await (down as Connector).close();
        }
      } finally {
        await target.startServer();
      }
      const again = await target.connect({ logger });
      try {
        expect((await again.getAccount('alice', signal()))?.userName).toBe('alice');
      } finally {
        await again.close();
      }
    }, 60_000);

    it('never puts a credential in an error message or a log line', async () => {
      const text = [...errorsSeen, ...logLines].join('\n');
      expect(errorsSeen.length).toBeGreaterThan(0);
      for (const secret of [...target.secrets, ...sessionPasswords]) expect(text).not.toContain(secret);
    });
  });
}
