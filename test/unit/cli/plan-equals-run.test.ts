// `rollcall plan` predicts exactly what `rollcall run` then does. Each scenario converges a small
// company into two embedded sqlite systems, changes something (a joiner, a mover, a leaver, an
// expiry, a burst that trips the guard, orphans under each policy, a system down), then plans from
// the saved state and runs from the same state: the changes run applies must be the plan's, no
// more and no less, and what the plan holds back must not happen.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { changeUserName, type AccountChange } from '../../../src/api/index.ts';
import { planAll, type SystemPlanResult } from '../../../src/cli/plan.ts';
import { TestClock } from '../../../src/clock/clock.ts';
import { createSqliteConnector } from '../../../src/connectors/sqlite/index.ts';
import { Connections } from '../../../src/connections/connections.ts';
import { Manager } from '../../../src/controllers/manager.ts';
import { ManifestDirectory } from '../../../src/manifests/directory.ts';
import { MemoryStore, type StoredObject } from '../../../src/store/memory-store.ts';

const T0 = new Date('2031-03-02T09:00:00Z');
const HOUR = 3_600_000;
const logger = pino({ level: 'silent' });

type Orphans = 'report' | 'disable' | 'delete' | 'ignore';

class Company {
  readonly dir = mkdtempSync(join(tmpdir(), 'rollcall-plan-run-'));
  readonly clock = new TestClock(T0);
  users: Record<string, { department: string; state?: string }> = {
    alice: { department: 'engineering' },
    bob: { department: 'engineering' },
    carol: { department: 'sales' },
    dave: { department: 'engineering' },
    erin: { department: 'engineering' },
  };
  orphans: Orphans = 'report';
  directoryDeprovision = '{policy: disable}';
  /** What the sales role grants in the wiki. */
  salesWiki = '[readers]';
  wikiPath = join(this.dir, 'wiki.db');
  readonly directoryPath = join(this.dir, 'directory.db');

  write(): void {
    const system = (name: string, path: string, extra: string) =>
      `apiVersion: rollcall.dev/v1alpha1\nkind: ConnectedSystem\nmetadata: {name: ${name}, namespace: acme}\nspec: {type: sqlite, sqlite: {path: ${JSON.stringify(path)}}, ${extra}}\n`;
    const role = (name: string, grants: string) =>
      `apiVersion: rollcall.dev/v1alpha1\nkind: AccessRole\nmetadata: {name: ${name}, namespace: acme}\nspec: {grants: ${grants}}\n`;
    const binding = (name: string, spec: string) =>
      `apiVersion: rollcall.dev/v1alpha1\nkind: AccessBinding\nmetadata: {name: ${name}, namespace: acme}\nspec: ${spec}\n`;
    const docs = [
      system('directory', this.directoryPath, `deprovision: ${this.directoryDeprovision}, deletionGuard: {maxCount: 2}, orphans: ${this.orphans}`),
      system('wiki', this.wikiPath, 'deprovision: {policy: delete}'),
      role('engineer', '[{system: directory, entitlements: [engineering, all-staff]}, {system: wiki, entitlements: [editors]}]'),
      role('sales', `[{system: directory, entitlements: [sales, all-staff]}, {system: wiki, entitlements: ${this.salesWiki}}]`),
      role('prod-admin', '[{system: directory, entitlements: [prod-admins]}]'),
      binding('engineering', '{role: engineer, userSelector: {matchLabels: {department: engineering}}}'),
      binding('sales', '{role: sales, userSelector: {matchLabels: {department: sales}}}'),
      binding('dave-on-call', `{role: prod-admin, users: [dave], validUntil: "${new Date(T0.getTime() + HOUR).toISOString()}"}`),
      ...Object.entries(this.users).map(
        ([name, u]) =>
          `apiVersion: rollcall.dev/v1alpha1\nkind: User\nmetadata: {name: ${name}, namespace: acme, labels: {department: ${u.department}}}\nspec: {userName: ${name}, givenName: ${name}, familyName: Example, state: ${u.state ?? 'active'}}\n`,
      ),
    ];
    writeFileSync(join(this.dir, 'company.yaml'), docs.join('---\n'));
  }

  async load(state: StoredObject[] | undefined): Promise<MemoryStore> {
    const store = state ? MemoryStore.restore(state, { logger, clock: this.clock }) : new MemoryStore([], { logger, clock: this.clock });
    new ManifestDirectory(this.dir, store, { watch: false, logger }).load();
    return store;
  }

  /** `rollcall run --once`: converge, and return every change applied, per system. */
  async run(state?: StoredObject[]): Promise<{ applied: Map<string, string[]>; state: StoredObject[] }> {
    const store = await this.load(state);
    const applied = new Map<string, string[]>();
    const manager = new Manager({
      store,
      logger,
      clock: this.clock,
      timeoutMs: 2000,
      onApplied: (a) => applied.set(a.system, [...(applied.get(a.system) ?? []), ...a.changes.map(show)]),
    });
    await manager.start();
    await manager.idle();
    await manager.stop();
    return { applied, state: store.snapshot() };
  }

  /** `rollcall plan`: observe, change nothing. */
  async plan(state: StoredObject[]): Promise<Map<string, SystemPlanResult>> {
    const store = await this.load(state);
    await store.start();
    const connections = new Connections({ store, logger, timeoutMs: 2000 });
    try {
      return new Map((await planAll(store, connections, this.clock)).map((r) => [r.system.metadata.name, r]));
    } finally {
      await connections.closeAll();
      await store.stop();
    }
  }

  /** An account made in a system by hand, inside Rollcall's managed scope. */
  async createByHand(system: 'directory' | 'wiki', userName: string): Promise<void> {
    const path = system === 'directory' ? this.directoryPath : this.wikiPath;
    const connector = await createSqliteConnector({
      system: `acme/${system}`,
      namespace: 'acme',
      spec: { type: 'sqlite', sqlite: { path } } as never,
      credentials: {},
      logger,
    });
    await connector.apply({ op: 'create', account: { system, userName, state: 'present', attributes: {}, entitlements: [] } }, AbortSignal.timeout(5000));
    await connector.close();
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function show(change: AccountChange): string {
  const user = changeUserName(change);
  switch (change.op) {
    case 'grant':
    case 'revoke':
      return `${user} ${change.op} ${change.entitlement}`;
    case 'update':
      return `${user} update ${Object.keys(change.attributes).sort().join(',')}`;
    default:
      return `${user} ${change.op}`;
  }
}

const sorted = (values: readonly string[]) => [...values].sort();

interface Scenario {
  name: string;
  orphans?: Orphans;
  /** Before the first run: the company as it was. */
  before?: (company: Company) => void;
  /** After the first run: a change a second run converges before the plan (a User deleted, so its account is retained). */
  settle?: (company: Company) => void;
  change: (company: Company) => void | Promise<void>;
  /** What the plan must contain, so each scenario is known to exercise what it names. */
  expects: (plans: Map<string, SystemPlanResult>) => void;
}

const planned = (plans: Map<string, SystemPlanResult>, system: string) => {
  const result = plans.get(system)!;
  if (!('pass' in result)) throw new Error(`${system} was not planned: ${JSON.stringify(result)}`);
  return result.pass;
};

const scenarios: Scenario[] = [
  {
    name: 'joiner',
    change: (c) => void (c.users.frank = { department: 'sales' }),
    expects: (p) => expect(planned(p, 'directory').changes.map(show)).toEqual(['frank create', 'frank grant all-staff', 'frank grant sales']),
  },
  {
    name: 'mover',
    change: (c) => void (c.users.carol = { department: 'engineering' }),
    expects: (p) => expect(sorted(planned(p, 'wiki').changes.map(show))).toEqual(['carol grant editors', 'carol revoke readers']),
  },
  {
    name: 'leaver',
    change: (c) => void (c.users.bob = { department: 'engineering', state: 'terminated' }),
    expects: (p) => {
      expect(planned(p, 'directory').changes.map(show)).toContain('bob disable');
      expect(planned(p, 'wiki').changes.map(show)).toEqual(['bob delete']);
    },
  },
  {
    name: 'expiry by the clock alone',
    change: (c) => c.clock.advance(HOUR),
    expects: (p) => expect(planned(p, 'directory').changes.map(show)).toEqual(['dave revoke prod-admins']),
  },
  {
    name: 'a burst over the guard is held whole',
    change: (c) => {
      for (const name of ['alice', 'bob', 'erin']) c.users[name] = { department: 'engineering', state: 'terminated' };
    },
    expects: (p) => {
      const directory = planned(p, 'directory');
      expect(directory.guard.verdict).toMatchObject({ tripped: true, count: 3, limit: 2 });
      expect(directory.held.map(show)).toEqual(expect.arrayContaining(['alice disable', 'bob disable', 'erin disable']));
      expect(planned(p, 'wiki').changes).toHaveLength(3); // the wiki's guard is the default: 10 accounts or 20 %
    },
  },
  {
    name: 'a mass revoke (a role emptied by mistake) is held whole by the default guard',
    before: (c) => {
      for (let i = 1; i <= 12; i++) c.users[`sales${String(i).padStart(2, '0')}`] = { department: 'sales' };
    },
    change: (c) => void (c.salesWiki = '[]'),
    expects: (p) => {
      const wiki = planned(p, 'wiki');
      expect(wiki.guard.verdict).toMatchObject({ tripped: true, count: 13, limit: 10 });
      expect(wiki.held.filter((c) => c.op === 'revoke')).toHaveLength(13);
      expect(wiki.changes).toEqual([]);
    },
  },
  ...(['report', 'ignore', 'disable', 'delete'] as const).map((policy) => ({
    name: `orphans under ${policy}`,
    orphans: policy,
    change: (c: Company) => c.createByHand('directory', 'zed'),
    expects: (p: Map<string, SystemPlanResult>) => {
      const directory = planned(p, 'directory');
      expect(directory.orphans.orphans.map((o) => o.userName)).toEqual(['zed']);
      expect(directory.changes.map(show)).toEqual(policy === 'disable' ? ['zed disable'] : policy === 'delete' ? ['zed delete'] : []);
    },
  })),
  // The guard counts a leaver and the orphans of the same pass together (limit 2 on the directory).
  {
    name: 'an orphan next to a leaver, at the limit, both go',
    orphans: 'disable',
    change: async (c) => {
      c.users.bob = { department: 'engineering', state: 'terminated' };
      await c.createByHand('directory', 'zed');
    },
    expects: (p) => {
      const directory = planned(p, 'directory');
      expect(directory.guard.verdict.tripped).toBe(false);
      expect(directory.guard.count).toBe(2);
      expect(directory.changes.map(show)).toEqual(expect.arrayContaining(['bob disable', 'zed disable']));
    },
  },
  {
    name: 'two orphans next to a leaver, one over the limit, all are held',
    orphans: 'disable',
    change: async (c) => {
      c.users.bob = { department: 'engineering', state: 'terminated' };
      await c.createByHand('directory', 'zed');
      await c.createByHand('directory', 'yan');
    },
    expects: (p) => {
      const directory = planned(p, 'directory');
      expect(directory.guard.verdict).toMatchObject({ tripped: true, count: 3, limit: 2 });
      expect(directory.held.map(show)).toEqual(expect.arrayContaining(['bob disable', 'zed disable', 'yan disable']));
      expect(directory.changes.filter((c) => c.op === 'disable')).toEqual([]);
    },
  },
  {
    name: 'a retention that ends next to an orphan: the kept account is no orphan, its delete counts',
    orphans: 'disable',
    before: (c) => void (c.directoryDeprovision = '{policy: disableThenDelete, retention: 30m}'),
    settle: (c) => void delete c.users.bob,
    change: async (c) => {
      c.clock.advance(31 * 60_000);
      await c.createByHand('directory', 'zed');
    },
    expects: (p) => {
      const directory = planned(p, 'directory');
      expect(directory.orphans.orphans.map((o) => o.userName)).toEqual(['zed']);
      expect(directory.guard.count).toBe(2);
      expect(sorted(directory.changes.map(show))).toEqual(['bob delete', 'zed disable']);
    },
  },
  {
    name: 'a system down, the other goes on',
    change: (c) => {
      writeFileSync(join(c.dir, 'not-a-directory'), 'x');
      c.wikiPath = join(c.dir, 'not-a-directory', 'wiki.db');
      c.users.frank = { department: 'engineering' };
    },
    expects: (p) => {
      expect(p.get('wiki')).toMatchObject({ error: expect.any(String) });
      expect(planned(p, 'directory').changes.map(show)).toContain('frank create');
    },
  },
];

describe('rollcall plan predicts exactly what rollcall run does', () => {
  let company: Company | undefined;
  afterEach(() => company?.remove());

  it.each(scenarios)('$name', async (scenario) => {
    company = new Company();
    company.orphans = scenario.orphans ?? 'report';
    scenario.before?.(company);
    company.write();
    let base = await company.run();
    expect(base.applied.get('directory')?.length).toBeGreaterThan(0);
    if (scenario.settle) {
      scenario.settle(company);
      company.write();
      base = await company.run(base.state);
    }

    await scenario.change(company);
    company.write();
    const plans = await company.plan(base.state);
    scenario.expects(plans);
    const { applied } = await company.run(base.state);

    for (const [system, result] of plans) {
      if ('pass' in result) {
        expect(sorted(applied.get(system) ?? []), `${system}: run applied what plan showed`).toEqual(sorted(result.pass.changes.map(show)));
      } else {
        expect(applied.get(system) ?? [], `${system}: nothing applied to a system plan could not reach`).toEqual([]);
      }
    }
    // And the run's result needs no further pass: a plan now shows nothing left (held changes aside).
    const after = await company.plan((await company.run(base.state)).state);
    for (const [system, result] of after) if ('pass' in result) expect(result.pass.changes.map(show), `${system}: converged`).toEqual([]);
  });
});
