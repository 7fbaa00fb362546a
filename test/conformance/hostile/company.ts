// The company of the hostile-input suite: 40 good bystander Users beside Users who
// carry the hostile values, written as a manifest directory, and `rollcall run --once` /
// `rollcall plan` over it as a person would run them (a process each, with a state file).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NAMESPACE, SYSTEMS, type SystemKind } from './systems.ts';
import { rollcall, type RollcallOutcome } from '../../helpers/rollcall-cli.ts';

export const BYSTANDERS = Array.from({ length: 40 }, (_, i) => `by-${String(i + 1).padStart(2, '0')}`);
/** What the staff role, bound to every User here, grants in each system. */
export const STAFF_GROUPS: Record<SystemKind, string[]> = { ldap: ['engineering', 'vpn-users'], postgres: ['staff'], scim: ['engineering', 'staff'] };

/** A hostile User's spec before the hostile value is laid over it. */
export function hostileBase(userName: string, mailbox: string): Record<string, string> {
  return { userName, givenName: 'Mallory', familyName: 'Example', displayName: 'Mallory Example', email: `${mailbox}@example.org` };
}

export function bystanderSpec(name: string): Record<string, string> {
  const number = name.slice(3);
  return {
    userName: name,
    givenName: 'Bystander',
    familyName: `Number ${number}`,
    displayName: `Bystander ${number}`,
    email: `${name}@example.org`,
    title: 'Engineer',
  };
}

const object = (kind: string, name: string, spec: unknown, labels?: Record<string, string>) => ({
  apiVersion: 'rollcall.dev/v1alpha1',
  kind,
  metadata: { name, namespace: NAMESPACE, ...(labels ? { labels } : {}) },
  spec,
});

/** One User carrying a hostile value: its object name, its spec, and an entitlement a role of its own grants it. */
export interface HostileUser {
  name: string;
  spec: Record<string, unknown>;
  entitlement?: string;
}

/**
 * Writes the directory: the systems, the staff role for everyone, the bystanders, and the hostile
 * Users (each with its own role and binding when it has an entitlement, granted in every system).
 * JSON is YAML, and JSON.stringify writes every character exactly (control characters as \u escapes
 * that YAML reads back).
 */
export function writeCompany(dir: string, systems: string, hostiles: HostileUser[]): void {
  mkdirSync(dir, { recursive: true });
  const staff = [
    object('AccessRole', 'staff', {
      grants: Object.entries(STAFF_GROUPS).map(([kind, groups]) => ({ system: SYSTEMS[kind as SystemKind], entitlements: groups })),
    }),
    object('AccessBinding', 'staff', { role: 'staff', userSelector: { matchLabels: { team: 'staff' } } }),
  ];
  const bystanders = BYSTANDERS.map((name) => object('User', name, bystanderSpec(name), { team: 'staff' }));
  const hostile = hostiles.flatMap(({ name, spec, entitlement }) => [
    object('User', name, spec, { team: 'staff' }),
    ...(entitlement === undefined
      ? []
      : [
          object('AccessRole', name, { grants: Object.values(SYSTEMS).map((system) => ({ system, entitlements: [entitlement] })) }),
          object('AccessBinding', name, { role: name, users: [name] }),
        ]),
  ]);
  const yaml = (documents: unknown[]) => documents.map((document) => JSON.stringify(document)).join('\n---\n');
  writeFileSync(join(dir, 'systems.yaml'), systems);
  writeFileSync(join(dir, 'staff.yaml'), yaml(staff));
  writeFileSync(join(dir, 'bystanders.yaml'), yaml(bystanders));
  writeFileSync(join(dir, 'hostile.yaml'), yaml(hostile));
}

export type Outcome = RollcallOutcome;

export const runOnce = (dir: string, state: string) => rollcall(['run', '--manifests', dir, '--once', '--state', state]);
export const plan = (dir: string, state: string) => rollcall(['plan', '-f', dir, '--state', state, '-o', 'json']);

export interface AccountStatus {
  system: string;
  state: string;
  message?: string;
}

/** The account statuses a run left for one User in its state file. */
export function accountStatuses(state: string, name: string): AccountStatus[] {
  for (const line of readFileSync(state, 'utf8').split('\n')) {
    if (!line.startsWith('{"object"')) continue;
    const { object } = JSON.parse(line.replace(/,$/, '')) as { object: { kind: string; metadata: { name: string }; status?: { accounts?: AccountStatus[] } } };
    if (object.kind === 'User' && object.metadata.name === name) return object.status?.accounts ?? [];
  }
  return [];
}
