// A generated organisation for the benchmarks: N Users with department/location/level labels,
// 20 AccessRoles (some include others), 50 AccessBindings that select by label, 3 ConnectedSystems.
// Deterministic, so two runs measure the same work.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KINDS, type AccessBinding, type AccessRole, type ConnectedSystem, type User } from '../src/api/index.ts';

export const NAMESPACE = 'bench';
export const ROLE_COUNT = 20;
export const BINDING_COUNT = 50;
export const SYSTEM_NAMES = ['directory', 'analytics-db', 'wiki'] as const;

const DEPARTMENTS = Array.from({ length: 10 }, (_, i) => `dept-${i}`);
const LOCATIONS = Array.from({ length: 5 }, (_, i) => `loc-${i}`);
const LEVELS = ['L1', 'L2', 'L3', 'L4', 'L5'];

/** Objects as written in manifests; `parsed()` gives them the API server's defaults. */
export interface WorldInput {
  systems: Record<string, unknown>[];
  roles: Record<string, unknown>[];
  bindings: Record<string, unknown>[];
  users: Record<string, unknown>[];
}

const meta = (name: string, labels?: Record<string, string>) => ({ name, namespace: NAMESPACE, ...(labels && { labels }) });
const header = (kind: string) => ({ apiVersion: 'rollcall.dev/v1alpha1', kind });

/** `system(name)` gives each system's spec: sqlite files for the embedded runs, anything for the engine. */
export function generateWorld(userCount: number, systemSpec: (name: string) => Record<string, unknown>): WorldInput {
  const systems = SYSTEM_NAMES.map((name) => ({ ...header('ConnectedSystem'), metadata: meta(name), spec: systemSpec(name) }));
  // Role i grants two entitlements in one or two systems; four roles in five include the previous one.
  const roles = Array.from({ length: ROLE_COUNT }, (_, i) => {
    const grants = [{ system: SYSTEM_NAMES[i % 3]!, entitlements: [`r${i}-read`, `r${i}-write`] }];
    if (i % 2 === 0) grants.push({ system: SYSTEM_NAMES[(i + 1) % 3]!, entitlements: [`r${i}-extra`] });
    return { ...header('AccessRole'), metadata: meta(`role-${i}`), spec: { grants, ...(i % 5 !== 0 && { includes: [`role-${i - 1}`] }) } };
  });
  const bindings = Array.from({ length: BINDING_COUNT }, (_, j) => ({
    ...header('AccessBinding'),
    metadata: meta(`binding-${j}`),
    spec: { role: `role-${j % ROLE_COUNT}`, userSelector: selector(j), reason: 'benchmark' },
  }));
  const users = Array.from({ length: userCount }, (_, i) => userInput(i, 'active'));
  return { systems, roles, bindings, users };
}

/** Five shapes of selector, ten bindings each: a User is selected by a handful of them. */
function selector(j: number): Record<string, unknown> {
  switch (Math.floor(j / 10)) {
    case 0:
      return { matchLabels: { department: DEPARTMENTS[j % 10] } };
    case 1:
      return { matchLabels: { location: LOCATIONS[j % 5], level: LEVELS[j % 5] } };
    case 2:
      return { matchExpressions: [{ key: 'department', operator: 'In', values: [DEPARTMENTS[j % 10], DEPARTMENTS[(j + 3) % 10]] }] };
    case 3:
      return { matchLabels: { department: DEPARTMENTS[j % 10] }, matchExpressions: [{ key: 'level', operator: 'In', values: ['L4', 'L5'] }] };
    default:
      return {
        matchExpressions: [
          { key: 'oncall', operator: 'Exists' },
          { key: 'location', operator: 'NotIn', values: [LOCATIONS[j % 5]] },
        ],
      };
  }
}

export function userName(i: number): string {
  return `u${String(i).padStart(5, '0')}`;
}

export function userInput(i: number, state: 'active' | 'terminated'): Record<string, unknown> {
  const name = userName(i);
  const department = DEPARTMENTS[i % 10]!;
  const labels: Record<string, string> = { department, location: LOCATIONS[(i * 7) % 5]!, level: LEVELS[(i * 3) % 5]! };
  if (i % 7 === 0) labels.oncall = 'true';
  return {
    ...header('User'),
    metadata: meta(name, labels),
    spec: {
      userName: name,
      givenName: `Given${i}`,
      familyName: `Family${i}`,
      email: `${name}@bench.example`,
      department,
      title: `Engineer ${labels.level}`,
      state,
    },
  };
}

export interface World {
  systems: ConnectedSystem[];
  roles: AccessRole[];
  bindings: AccessBinding[];
  users: User[];
}

/** With defaults applied, as the store would hold them. */
export function parsed(input: WorldInput): World {
  const creationTimestamp = '2026-01-01T00:00:00Z';
  const withTime = (o: Record<string, unknown>) => ({ ...o, metadata: { ...(o.metadata as object), creationTimestamp } });
  return {
    systems: input.systems.map((o) => KINDS.ConnectedSystem.resource.parse(withTime(o)) as ConnectedSystem),
    roles: input.roles.map((o) => KINDS.AccessRole.resource.parse(withTime(o)) as AccessRole),
    bindings: input.bindings.map((o) => KINDS.AccessBinding.resource.parse(withTime(o)) as AccessBinding),
    users: input.users.map((o) => KINDS.User.resource.parse(withTime(o)) as User),
  };
}

/** JSON is YAML: one document per object, as `rollcall run --manifests DIR` reads them. */
export function writeManifests(dir: string, input: WorldInput): void {
  const documents = (objects: unknown[]) => objects.map((o) => JSON.stringify(o)).join('\n---\n') + '\n';
  writeFileSync(join(dir, 'systems.yaml'), documents(input.systems));
  writeFileSync(join(dir, 'roles.yaml'), documents(input.roles));
  writeFileSync(join(dir, 'bindings.yaml'), documents(input.bindings));
  writeFileSync(join(dir, 'users.yaml'), documents(input.users));
}
