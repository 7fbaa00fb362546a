// planChanges(): the pure diff from observed accounts to desired ones, as ordered, idempotent steps.
import type { AccountChange, Capabilities, DesiredAccount, ObservedAccount } from '../api/index.ts';
import { entitlementKeyOf, sameAttributeValue } from './comparison.ts';

/**
 * Grants of what is wanted but missing, then revokes of what is held but unwanted: access never dips
 * mid-move. Compared in the system's terms: a held `engineering` is the declared `Engineering` when
 * the system says so, and is neither granted again nor revoked.
 */
export function entitlementChanges(userName: string, want: readonly string[], have: readonly string[], capabilities: Capabilities): AccountChange[] {
  if (!capabilities.entitlements) return [];
  const key = entitlementKeyOf(capabilities);
  const wanted = new Set(want.map(key));
  const held = new Set(have.map(key));
  const grants = [...new Set(want)].filter((entitlement) => !held.has(key(entitlement))).sort();
  const revokes = [...new Set(have)].filter((entitlement) => !wanted.has(key(entitlement))).sort();
  return [
    ...grants.map((entitlement): AccountChange => ({ op: 'grant', userName, entitlement })),
    ...revokes.map((entitlement): AccountChange => ({ op: 'revoke', userName, entitlement })),
  ];
}

/** Revokes every entitlement: the way to take access from a system that cannot disable or has no accounts. */
export function revokeAll(account: ObservedAccount, capabilities: Capabilities): AccountChange[] {
  return entitlementChanges(account.userName, [], account.entitlements, capabilities);
}

/**
 * Only the attributes the system stores are compared, in its terms (Capabilities.comparison); one it
 * stores but the user no longer has becomes null.
 */
export function attributeChanges(desired: DesiredAccount, observed: ObservedAccount, capabilities: Capabilities): Record<string, string | null> {
  const changes: Record<string, string | null> = {};
  for (const name of capabilities.attributes) {
    // Names may be a tenant's (an LDAP attributeMap key): only own values, never Object.prototype's.
    const want = Object.hasOwn(desired.attributes, name) ? desired.attributes[name] : undefined;
    const have = Object.hasOwn(observed.attributes, name) ? observed.attributes[name] : undefined;
    if (!sameAttributeValue(name, want, have, desired.userName, capabilities)) changes[name] = want ?? null;
  }
  return changes;
}

function limitAttributes(desired: DesiredAccount, capabilities: Capabilities): DesiredAccount['attributes'] {
  return Object.fromEntries(Object.entries(desired.attributes).filter(([name]) => capabilities.attributes.includes(name)));
}

/** Kubernetes RBAC and the like: the account is its entitlements, so only grants and revokes exist. */
function planImplicit(desired: DesiredAccount, observed: ObservedAccount | undefined, capabilities: Capabilities): AccountChange[] {
  const want = desired.state === 'present' ? desired.entitlements : [];
  return entitlementChanges(desired.userName, want, observed?.entitlements ?? [], capabilities);
}

function planPresent(desired: DesiredAccount, observed: ObservedAccount | undefined, capabilities: Capabilities): AccountChange[] {
  const userName = desired.userName;
  if (observed === undefined) {
    // A create never carries entitlements: the grants that follow it are what the audit records.
    const { refused: _refused, ...wanted } = desired;
    const account = { ...wanted, attributes: limitAttributes(desired, capabilities), entitlements: [] };
    return [{ op: 'create', account }, ...entitlementChanges(userName, desired.entitlements, [], capabilities)];
  }
  const changes: AccountChange[] = [];
  if (observed.state === 'disabled') changes.push({ op: 'enable', userName });
  const attributes = attributeChanges(desired, observed, capabilities);
  if (Object.keys(attributes).length > 0) changes.push({ op: 'update', userName, attributes });
  changes.push(...entitlementChanges(userName, desired.entitlements, observed.entitlements, capabilities));
  return changes;
}

function planDisabled(observed: ObservedAccount | undefined, capabilities: Capabilities): AccountChange[] {
  if (observed === undefined) return [];
  // Cut off first: disabling (which also ends sessions) comes before the revokes, so a crash between
  // the steps leaves an account that cannot log in, never one with no groups that still can (and in
  // PostgreSQL, still connect to every database open to PUBLIC).
  const disable: AccountChange[] = capabilities.disable && observed.state !== 'disabled' ? [{ op: 'disable', userName: observed.userName }] : [];
  return [...disable, ...revokeAll(observed, capabilities)];
}

/**
 * The steps that take one account from `observed` to `desired`, in an order where each step is valid.
 * No desired entry means the account is not ours to touch here (see planOrphans).
 */
export function planAccount(desired: DesiredAccount | undefined, observed: ObservedAccount | undefined, capabilities: Capabilities): AccountChange[] {
  if (desired === undefined) return [];
  if (capabilities.implicitAccounts) return planImplicit(desired, observed, capabilities);
  switch (desired.state) {
    case 'present':
      return planPresent(desired, observed, capabilities);
    case 'disabled':
      return planDisabled(observed, capabilities);
    case 'absent':
      return observed === undefined ? [] : [{ op: 'delete', userName: observed.userName }];
  }
}

/** The whole plan for one system: every desired account diffed against what the system holds, matched by userName. */
export function planChanges(desired: DesiredAccount[], observed: ObservedAccount[], capabilities: Capabilities): AccountChange[] {
  const observedByUser = new Map(observed.map((account) => [account.userName, account]));
  return desired.flatMap((account) => planAccount(account, observedByUser.get(account.userName), capabilities));
}
