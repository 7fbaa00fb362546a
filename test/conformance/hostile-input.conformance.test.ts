// Hostile input against the real servers (slapd, PostgreSQL, scim2-server), through `rollcall run
// --once` and `rollcall plan` as processes. Each input of test/conformance/hostile/inputs.ts puts one
// value into one field that reaches a system. Either the loader refuses the directory, naming the
// field, and no system changes; or the run stores the value verbatim (read back with each server's
// own client) or reports mallory's account in error naming the field. Either way 40 bystanders
// converge fully beside her, nothing outside the declared accounts changes (no injection), and a
// second pass plans nothing (no flapping).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanDocument } from '../../src/cli/plan-document.ts';
import { EMPTY_GROUP_PLACEHOLDER } from '../../src/connectors/ldap/index.ts';
import {
  accountStatuses,
  BYSTANDERS,
  bystanderSpec,
  hostileBase,
  plan,
  runOnce,
  STAFF_GROUPS,
  writeCompany,
  type HostileUser,
  type Outcome,
} from './hostile/company.ts';
import { ACCEPTED, REJECTED, storedIn, type HostileInput } from './hostile/inputs.ts';
import { HostileSystems, SYSTEM_KINDS, SYSTEMS, type Snapshot, type StoredAccount, type SystemKind } from './hostile/systems.ts';

let systems: HostileSystems;
let root = '';

beforeAll(async () => {
  systems = await HostileSystems.start();
  root = mkdtempSync(join(tmpdir(), 'rollcall-hostile-'));
});
afterAll(async () => {
  await systems?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** The userName of an input's User: its own id, unless the input is about the userName. */
const userNameOf = (input: HostileInput) => (input.field === 'userName' ? input.value : (input.userName ?? input.id));

function specOf(input: HostileInput): Record<string, unknown> {
  const base = hostileBase(userNameOf(input), input.id);
  if (input.field === 'entitlement' || input.field === 'userName') return base;
  if (input.field.startsWith('attributes.')) {
    // Without the typed field of the same name, which would take precedence.
    const name = input.field.slice('attributes.'.length);
    const { [name]: _typed, ...rest } = base;
    return { ...rest, attributes: { [name]: input.value } };
  }
  return { ...base, [input.field]: input.value };
}

const hostileUser = (input: HostileInput): HostileUser => ({
  name: input.id,
  spec: specOf(input),
  ...(input.field === 'entitlement' ? { entitlement: input.value } : {}),
});
const failure = (outcome: Outcome) => `exit ${outcome.code}\n${outcome.stdout}\n${outcome.stderr}`;

/** Drops what the declared Users own from a snapshot: what is left must not change in a run. */
function outsideDeclared(snapshot: Snapshot, declaredIn: Record<SystemKind, Set<string>>): unknown {
  const { ldap, postgres, scim } = structuredClone(snapshot) as {
    ldap: { dn: string; attributes: Record<string, string[]> }[];
    postgres: { roles: { rolname: string }[]; members: { role: string; member: string }[] };
    scim: { users: { userName: string }[]; groups: { displayName: string; members: string[] }[] };
  };
  const isDeclaredDN = (dn: string) => [...declaredIn.ldap].some((name) => dn.toLowerCase().startsWith(`uid=${name},`));
  const marker = (role: string) => role.startsWith('rollcall:');
  return {
    ldap: ldap
      .filter((entry) => !isDeclaredDN(entry.dn))
      .map((entry) => ({
        ...entry,
        attributes: { ...entry.attributes, member: (entry.attributes.member ?? []).filter((dn) => !isDeclaredDN(dn) && dn !== EMPTY_GROUP_PLACEHOLDER) },
      })),
    postgres: {
      ...postgres,
      roles: postgres.roles.filter((role) => !declaredIn.postgres.has(role.rolname) && !marker(role.rolname)),
      members: postgres.members.filter((row) => !declaredIn.postgres.has(row.member) && !marker(row.role) && !marker(row.member)),
    },
    scim: {
      users: scim.users.filter((user) => !declaredIn.scim.has(user.userName)),
      groups: scim.groups.map((group) => ({ ...group, members: group.members.filter((name) => !declaredIn.scim.has(name)) })),
    },
  };
}

// A bad object costs only itself (the rest of the directory is applied, as test/faults/bad-manifest
// proves with its bystanders); here the company has no other User and no staff role, so a valid
// object beside the bad one (the User of a refused AccessRole) is granted nothing, and any change in
// a system would be the input's.
describe.concurrent('rejected at load: the object is refused naming the file and field, and nothing reaches any system', () => {
  // The systems are loaded (only the bad object is refused), so a first run makes what a system
  // makes when it first connects (PostgreSQL's marker role): the runs side by side then compare
  // against a snapshot none of them changes.
  beforeAll(async () => {
    const dir = join(root, 'rejected-baseline');
    writeCompany(dir, systems.manifests(), []);
    for (const file of ['bystanders.yaml', 'staff.yaml']) rmSync(join(dir, file));
    const run = await runOnce(dir, join(root, 'rejected-baseline.state.json'));
    expect(run.code, failure(run)).toBe(0);
  }, 180_000);

  it.each(REJECTED.map((input) => [input.id, input] as const))('%s', async (_id, input) => {
    const before = await systems.snapshot();
    const dir = join(root, input.id);
    writeCompany(dir, systems.manifests(), [hostileUser(input)]);
    for (const file of ['bystanders.yaml', 'staff.yaml']) rmSync(join(dir, file));
    const run = await runOnce(dir, join(root, `${input.id}.state.json`));
    expect(run.code, failure(run)).toBe(1);
    expect(run.stderr).toMatch(input.rejected!);
    expect(run.stderr).toContain(join(dir, 'hostile.yaml'));
    expect(await systems.snapshot()).toEqual(before);
  });
});

/**
 * Inputs every system stores share a run (8 to a run keeps the file within minutes); an input a
 * server refuses runs alone beside the bystanders, since a refusal is what could block them.
 */
const RUNS: HostileInput[][] = [];
const stored = ACCEPTED.filter((input) => !input.refusedBy);
for (let i = 0; i < stored.length; i += 8) RUNS.push(stored.slice(i, i + 8));
for (const input of ACCEPTED.filter((input) => input.refusedBy)) RUNS.push([input]);

/** A server refused the input with an error (not only withheld an entitlement): the run exits 1. */
const inError = (input: HostileInput) => Object.keys(input.refusedBy ?? {}).some((kind) => !input.withheld?.includes(kind as SystemKind));
/** A server refused or withheld the input: its User is not Ready (SyncFailed or Refused), so `--once` exits 1. */
const notReady = (input: HostileInput) => Object.keys(input.refusedBy ?? {}).length > 0;

describe.each(RUNS.map((inputs) => [inputs.map((input) => input.id).join(', '), inputs] as const))(
  'accepted, in one run beside 40 bystanders: %s',
  (_ids, inputs) => {
    // Under root, which exists only once the file's beforeAll has run.
    let dir = '';
    let state = '';
    let before: Snapshot;
    let after: Snapshot;
    let run: Outcome;
    let second: Outcome;
    let accounts: Record<SystemKind, Map<string, StoredAccount>>;
    const groupsMade = new Map<string, Record<SystemKind, boolean>>();

    beforeAll(async () => {
      dir = join(root, `run-${RUNS.indexOf(inputs)}`);
      state = `${dir}.state.json`;
      await systems.reset();
      for (const input of inputs.filter((input) => input.field === 'entitlement')) {
        const made = { ldap: false, postgres: false, scim: false };
        for (const kind of SYSTEM_KINDS) made[kind] = await systems.createGroup(kind, input.value);
        groupsMade.set(input.id, made);
      }
      before = await systems.snapshot();
      writeCompany(dir, systems.manifests(), inputs.map(hostileUser));
      run = await runOnce(dir, state);
      after = await systems.snapshot();
      const [ldap, postgres, scim] = await Promise.all(SYSTEM_KINDS.map((kind) => systems.accounts(kind)));
      accounts = { ldap: ldap!, postgres: postgres!, scim: scim! };
      second = await plan(dir, state);
    }, 180_000);

    it('the run ends as expected: 0 when every system took every value, 1 when a server refused or withheld one', () => {
      expect(run.code, failure(run)).toBe(inputs.some(notReady) ? 1 : 0);
    });

    it('all 40 bystanders converge fully in every system: account, attributes and groups exactly as declared', () => {
      for (const kind of SYSTEM_KINDS) {
        for (const name of BYSTANDERS) {
          const account = accounts[kind].get(name);
          expect(account, `${name} in ${kind}\n${failure(run)}`).toBeDefined();
          expect(account!.groups, `${name}'s groups in ${kind}`).toEqual(STAFF_GROUPS[kind]);
          for (const [attribute, value] of storedIn(kind, bystanderSpec(name)))
            expect(account!.attributes[attribute], `${name}'s ${attribute} in ${kind}`).toEqual([value]);
        }
      }
    });

    it('nothing outside the declared accounts changed in any system (no injection)', () => {
      // A system that refuses a userName keeps even an existing role of that name untouched.
      const refusesName = (input: HostileInput, kind: SystemKind) => input.field === 'userName' && input.refusedBy?.[kind];
      const declared = (kind: SystemKind) => new Set([...BYSTANDERS, ...inputs.filter((input) => !refusesName(input, kind)).map(userNameOf)]);
      const declaredIn = { ldap: declared('ldap'), postgres: declared('postgres'), scim: declared('scim') };
      expect(outsideDeclared(after, declaredIn)).toEqual(outsideDeclared(before, declaredIn));
    });

    it('a second pass plans nothing for the bystanders, and nothing at all when every system stored every value', () => {
      const document = JSON.parse(second.stdout) as PlanDocument;
      expect(document.totals.errors, failure(second)).toBe(0);
      const changes = document.systems.flatMap((system) => system.changes.map((change) => ({ system: system.name, ...change })));
      expect(changes.filter((change) => BYSTANDERS.includes(change.userName))).toEqual([]);
      if (!inputs.some(inError)) expect(second.code, failure(second)).toBe(0);
    });

    it.each(inputs.map((input) => [input.id, input] as const))(
      '%s: stored verbatim, or refused for this User alone naming the field; no second-pass change',
      (_id, input) => {
        const statuses = accountStatuses(state, input.id);
        const userName = userNameOf(input);
        for (const kind of SYSTEM_KINDS) {
          const refused = input.refusedBy?.[kind];
          const status = statuses.find((s) => s.system === SYSTEMS[kind]);
          for (const pattern of refused ?? []) expect(status?.message, `status in ${kind}\n${failure(run)}`).toMatch(pattern);
          if (refused && !input.withheld?.includes(kind)) {
            expect(status, `status in ${kind}`).toMatchObject({ state: 'error' });
            continue;
          }
          expect(status, `status in ${kind}\n${failure(run)}`).toMatchObject({ state: 'present' });
          const account = accounts[kind].get(userName);
          expect(account, `account in ${kind}`).toBeDefined();
          for (const [attribute, value] of storedIn(kind, specOf(input))) expect(account!.attributes[attribute], `${attribute} in ${kind}`).toEqual([value]);
          // The server took the group's name (or counts it as one of the staff groups), unless it is withheld.
          if (input.field === 'entitlement' && !refused && !input.groupsIn?.[kind])
            expect(groupsMade.get(input.id)?.[kind], `group made in ${kind}`).toBe(true);
          const entitlement = input.field === 'entitlement' && !refused && groupsMade.get(input.id)?.[kind] ? [input.value] : [];
          expect(account!.groups, `groups in ${kind}`).toEqual(input.groupsIn?.[kind] ?? [...STAFF_GROUPS[kind], ...entitlement].sort());
        }
        // Stable: the second pass plans nothing for this User, except retrying where a server refused it.
        const document = JSON.parse(second.stdout) as PlanDocument;
        const refusedSystems = Object.keys(input.refusedBy ?? {}).map((kind) => SYSTEMS[kind as SystemKind] as string);
        const changes = document.systems
          .filter((system) => !refusedSystems.includes(system.name))
          .flatMap((system) => system.changes.map((change) => ({ system: system.name, ...change })));
        expect(changes.filter((change) => change.userName === userName)).toEqual([]);
      },
    );
  },
);
