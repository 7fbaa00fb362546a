// `rollcall plan -o json`: the document review tooling reads, built from real engine passes.
import { describe, expect, it } from 'vitest';
import type { ConnectedSystem, User } from '../../../src/api/index.ts';
import { planDocument, planExitCode, PLAN_FORMAT, type SystemPlanResult } from '../../../src/cli/plan-document.ts';
import { planSystemPass } from '../../../src/engine/index.ts';
import { FULL, NOW, binding, grants, observed, role, system, user } from '../engine/fixtures.ts';

const staff = role('staff', { grants: grants({ wiki: ['all'] }) });
const everyone = binding('everyone', { role: 'staff', userSelector: { matchLabels: { staff: 'yes' } } });
const member = (name: string, spec: Partial<User['spec']> = {}): User => user(name, spec, { labels: { staff: 'yes' } });
const ada = { givenName: 'Ada', familyName: 'Lovelace', displayName: 'Ada Lovelace' };

function planned(csys: ConnectedSystem, users: User[], listing: ReturnType<typeof observed>[]): SystemPlanResult {
  return {
    system: csys,
    pass: planSystemPass({
      system: csys,
      users,
      world: { bindings: [everyone], roles: [staff], systems: [csys] },
      listing,
      capabilities: FULL,
      recent: [],
      now: NOW,
    }),
  };
}

describe('planDocument', () => {
  it('lists each change with what it does, marks what the guard holds, and names orphans', () => {
    // Two leavers over a limit of one: held. A joiner, a mover and an orphan go ahead or are reported.
    const wiki = system('wiki', { deletionGuard: { maxCount: 1 } });
    const users = [member('dana'), member('ed', { state: 'terminated' }), member('fay', { state: 'terminated' }), member('gus')];
    const listing = [
      observed('ed', 'present', ['all'], { ...ada, email: 'ed@example.org' }),
      observed('fay', 'present', ['all'], { ...ada, email: 'fay@example.org' }),
      observed('gus', 'present', ['all'], { ...ada, email: 'old@example.org' }),
      observed('zed', 'present', ['all']),
    ];
    const document = planDocument([planned(wiki, users, listing)]);
    expect(document.format).toBe(PLAN_FORMAT);
    expect(document.systems).toEqual([
      {
        namespace: 'team-a',
        name: 'wiki',
        type: 'sqlite',
        status: 'planned',
        changes: [
          { op: 'create', userName: 'dana', attributes: { ...ada, email: 'dana@example.org' } },
          { op: 'grant', userName: 'dana', entitlement: 'all' },
          { op: 'update', userName: 'gus', attributes: { email: 'gus@example.org' } },
          { op: 'disable', userName: 'ed', held: true },
          { op: 'revoke', userName: 'ed', entitlement: 'all', held: true },
          { op: 'disable', userName: 'fay', held: true },
          { op: 'revoke', userName: 'fay', entitlement: 'all', held: true },
        ],
        orphans: ['zed'],
        guard: { tripped: true, count: 2, limit: 1, message: expect.stringContaining('2') },
      },
    ]);
    expect(document.totals).toEqual({ systems: 1, planned: 1, suspended: 0, errors: 0, changes: 3, held: 4, orphans: 1 });
    expect(document.exitCode).toBe(2);
    // What is printed is JSON: nothing in it that JSON.stringify would drop or change.
    expect(JSON.parse(JSON.stringify(document))).toEqual(document);
  });

  it('a suspended system and one that failed carry no changes and no guard; an error makes the exit code 1', () => {
    const results: SystemPlanResult[] = [
      { system: system('crm', { suspend: true }), suspended: true },
      { system: system('hr'), error: 'Secret team-a/hr-credentials named by ConnectedSystem hr does not exist yet' },
      planned(system('wiki'), [member('dana')], []),
    ];
    const document = planDocument(results);
    expect(document.systems.slice(0, 2)).toEqual([
      { namespace: 'team-a', name: 'crm', type: 'sqlite', status: 'suspended', changes: [], orphans: [], guard: null },
      {
        namespace: 'team-a',
        name: 'hr',
        type: 'sqlite',
        status: 'error',
        error: 'Secret team-a/hr-credentials named by ConnectedSystem hr does not exist yet',
        changes: [],
        orphans: [],
        guard: null,
      },
    ]);
    // No spec.deletionGuard: the default guard (10 accounts or 20 %, whichever is larger) still stands.
    expect(document.systems[2]!.guard).toEqual({ tripped: false, count: 0, limit: 10 });
    expect(document.totals).toMatchObject({ systems: 3, planned: 1, suspended: 1, errors: 1, changes: 2 });
    expect(document.exitCode).toBe(1);
  });

  it('exit code 0 only when every planned system matches', () => {
    const settled = planned(system('wiki'), [member('dana')], [observed('dana', 'present', ['all'], { ...ada, email: 'dana@example.org' })]);
    expect(planExitCode([settled, { system: system('crm', { suspend: true }), suspended: true }])).toBe(0);
    expect(planDocument([settled]).systems[0]).toMatchObject({ changes: [], orphans: [] });
  });
});
