// `rollcall plan -o json`: the plan as a stable document for review tooling (a GitOps pull request
// check, a policy gate). Fields are only ever added within one format; the schema is in README.md.
import { changeUserName, type AccountChange, type ConnectedSystem } from '../api/index.ts';
import type { SystemPass } from '../engine/index.ts';
import { keyOf } from '../store/store.ts';

export const PLAN_FORMAT = 'rollcall.dev/plan/v1';

export type SystemPlanResult =
  { system: ConnectedSystem; suspended: true } | { system: ConnectedSystem; pass: SystemPass } | { system: ConnectedSystem; error: string };

export interface ChangeDocument {
  op: AccountChange['op'];
  userName: string;
  /** grant and revoke. */
  entitlement?: string;
  /** create: every attribute the account gets; update: the ones that change (null: removed). */
  attributes?: Record<string, string | null>;
  /** Held by the tripped deletion guard: not applied until approved. */
  held?: true;
}

export interface SystemDocument {
  namespace: string;
  name: string;
  type: string;
  status: 'planned' | 'suspended' | 'error';
  error?: string;
  changes: ChangeDocument[];
  /** Managed accounts that no User declares; the system's orphan policy says what happens to them. */
  orphans: string[];
  /** null unless status is planned. limit: the deletion guard's (spec.deletionGuard or the default); null only in documents of older versions. */
  guard: { tripped: boolean; count: number; limit: number | null; message?: string } | null;
}

export interface PlanDocument {
  format: typeof PLAN_FORMAT;
  systems: SystemDocument[];
  totals: { systems: number; planned: number; suspended: number; errors: number; changes: number; held: number; orphans: number };
  /** 0: nothing to change; 2: changes pending (held ones included); 1: a system could not be planned. */
  exitCode: 0 | 1 | 2;
}

/** The exit status of `rollcall plan`, the same in every output format. */
export function planExitCode(results: readonly SystemPlanResult[]): 0 | 1 | 2 {
  if (results.some((result) => 'error' in result)) return 1;
  return results.some((result) => 'pass' in result && result.pass.changes.length + result.pass.held.length > 0) ? 2 : 0;
}

export function planDocument(results: readonly SystemPlanResult[]): PlanDocument {
  const systems = results.map(systemDocument);
  const count = (status: SystemDocument['status']) => systems.filter((s) => s.status === status).length;
  const sum = (of: (s: SystemDocument) => number) => systems.reduce((total, s) => total + of(s), 0);
  return {
    format: PLAN_FORMAT,
    systems,
    totals: {
      systems: systems.length,
      planned: count('planned'),
      suspended: count('suspended'),
      errors: count('error'),
      changes: sum((s) => s.changes.filter((c) => !c.held).length),
      held: sum((s) => s.changes.filter((c) => c.held).length),
      orphans: sum((s) => s.orphans.length),
    },
    exitCode: planExitCode(results),
  };
}

function systemDocument(result: SystemPlanResult): SystemDocument {
  const { namespace, name } = keyOf(result.system);
  const base = { namespace, name, type: result.system.spec.type };
  if ('suspended' in result) return { ...base, status: 'suspended', changes: [], orphans: [], guard: null };
  if ('error' in result) return { ...base, status: 'error', error: result.error, changes: [], orphans: [], guard: null };
  const { pass } = result;
  const { verdict } = pass.guard;
  return {
    ...base,
    status: 'planned',
    changes: [...pass.changes.map((c) => changeDocument(c, false)), ...pass.held.map((c) => changeDocument(c, true))],
    orphans: pass.orphans.orphans.map((orphan) => orphan.userName),
    guard: { tripped: verdict.tripped, count: pass.guard.count, limit: pass.guard.limit, ...(verdict.tripped && { message: verdict.message }) },
  };
}

function changeDocument(change: AccountChange, held: boolean): ChangeDocument {
  const out: ChangeDocument = { op: change.op, userName: changeUserName(change) };
  if (change.op === 'grant' || change.op === 'revoke') out.entitlement = change.entitlement;
  if (change.op === 'create') out.attributes = { ...change.account.attributes };
  if (change.op === 'update') out.attributes = { ...change.attributes };
  if (held) out.held = true;
  return out;
}
