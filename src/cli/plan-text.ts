// `rollcall plan` for a person: per system, one line per change, like `terraform plan`.
import { changeUserName, printable, type AccountChange } from '../api/index.ts';
import { describeChange } from '../api/describe-change.ts';
import type { SystemPass } from '../engine/index.ts';
import { keyOf, keyString } from '../store/store.ts';
import type { Output } from './output.ts';
import { planExitCode, type SystemPlanResult } from './plan-document.ts';

const SYMBOL: Record<AccountChange['op'], string> = { create: '+', grant: '+', enable: '+', update: '~', revoke: '-', disable: '-', delete: '-', adopt: '~' };

export function printPlan(results: readonly SystemPlanResult[], out: Output): void {
  let pending = 0;
  for (const result of results) {
    out.line(`ConnectedSystem ${keyString(keyOf(result.system))} (${result.system.spec.type})`);
    if ('suspended' in result) out.line('  suspended: no changes planned\n');
    else if ('error' in result) out.line(`  error: ${printable(result.error)}\n`);
    else {
      printPass(result.pass, out);
      pending += result.pass.changes.length + result.pass.held.length;
    }
  }
  const code = planExitCode(results);
  if (code === 1) out.line(`Some systems could not be planned (see "error:" above)${pending ? `; ${pending} change(s) pending in the others` : ''}.`);
  else out.line(code === 2 ? `${pending} change(s) pending.` : 'No changes. Every connected system matches the declared state.');
}

function printPass(pass: SystemPass, out: Output): void {
  const { orphans } = pass.orphans;
  const width = Math.max(8, ...[...pass.changes, ...pass.held].map((c) => changeUserName(c).length), ...orphans.map((o) => o.userName.length));
  if (pass.deletion) out.line('  being deleted (deletionPolicy deprovision): every account it manages is deprovisioned before it goes');
  for (const change of pass.changes) out.line(`  ${SYMBOL[change.op]} ${printable(changeUserName(change)).padEnd(width)}  ${describeChange(change)}`);
  for (const change of pass.held)
    out.line(`  ${SYMBOL[change.op]} ${printable(changeUserName(change)).padEnd(width)}  ${describeChange(change)} (held by the deletion guard)`);
  for (const account of pass.accounts) {
    for (const refused of account.refused)
      out.line(`  ! ${printable(account.desired.userName).padEnd(width)}  refused ${printable(refused.entitlement)}: ${refused.reason}`);
  }
  for (const orphan of orphans) out.line(`  ! ${printable(orphan.userName).padEnd(width)}  orphan: no User declares it (policy: ${pass.system.spec.orphans})`);
  if (pass.guard.verdict.tripped) out.line(`  deletion guard: ${pass.guard.verdict.message}`);
  const count = (ops: AccountChange['op'][]) => pass.changes.filter((c) => ops.includes(c.op)).length;
  out.line(
    `  Plan: ${count(['create'])} to create, ${count(['update'])} to update, ${count(['grant'])} to grant, ${count(['revoke'])} to revoke, ${count(['disable'])} to disable, ${count(['enable'])} to enable, ${count(['delete'])} to delete${pass.held.length ? `; ${pass.held.length} held` : ''}.\n`,
  );
}
