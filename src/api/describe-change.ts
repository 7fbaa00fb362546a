import type { AccountChange } from './accounts.ts';
import { printable } from './printable.ts';

/** One change in words, for plans, events and the CLI. */
export function describeChange(change: AccountChange): string {
  switch (change.op) {
    case 'create':
      return `create account${change.account.attributes.displayName ? ` (${printable(change.account.attributes.displayName)})` : ''}`;
    case 'update':
      return `update ${Object.entries(change.attributes)
        .map(([k, v]) => (v === null ? `-${printable(k)}` : printable(k)))
        .join(', ')}`;
    case 'grant':
      return `grant ${printable(change.entitlement)}`;
    case 'revoke':
      return `revoke ${printable(change.entitlement)}`;
    default:
      return `${change.op} account`;
  }
}

/** The Event reason for a change, from the shared names in docs/architecture.md. */
export function eventReason(change: AccountChange): string {
  const reasons: Record<AccountChange['op'], string> = {
    create: 'AccountCreated',
    update: 'AccountUpdated',
    grant: 'EntitlementGranted',
    revoke: 'EntitlementRevoked',
    disable: 'AccountDisabled',
    enable: 'AccountEnabled',
    delete: 'AccountDeleted',
    adopt: 'AccountAdopted',
  };
  return reasons[change.op];
}

/** From the strongest to the weakest: what an account's change set is named after. */
const STRENGTH: readonly AccountChange['op'][] = ['delete', 'disable', 'revoke', 'adopt', 'create', 'enable', 'update', 'grant'];

/** The Event reason for several changes of one account: its strongest change's (a leaver's is AccountDisabled). */
export function strongestReason(changes: readonly AccountChange[]): string {
  const strongest = STRENGTH.find((op) => changes.some((change) => change.op === op));
  return eventReason(changes.find((change) => change.op === strongest) ?? changes[0]!);
}
