// Joiners' first credentials (spec.credentials.policy initialPassword): whether a create carries a
// password, how long the Secret that delivers it is kept, and which deliveries are due to go.
// Pure: the controller generates the password, writes the Secret and deletes it.
import type { AccountStatus, Capabilities, ConnectedSystemSpec } from '../api/index.ts';
import { parseDuration } from './duration.ts';

/** How long a delivered password's Secret is kept when spec.credentials.ttl says nothing. */
export const DEFAULT_INITIAL_PASSWORD_TTL = '72h';

export type InitialPasswordDecision =
  /** SSO only (policy none, the default): a create carries no password. */
  | { deliver: false }
  /** A create carries a new password, delivered in a Secret kept for ttlMs. */
  | { deliver: true; ttlMs: number }
  /** The policy asks for what this system's connector cannot do: nothing is created, and why. */
  | { refused: string };

export function initialPasswordDecision(
  system: { name: string; spec: Pick<ConnectedSystemSpec, 'type' | 'credentials'> },
  capabilities: Capabilities,
): InitialPasswordDecision {
  const credentials = system.spec.credentials;
  if (credentials?.policy !== 'initialPassword') return { deliver: false };
  if (!capabilities.initialPassword) {
    return {
      refused:
        `spec.credentials.policy is initialPassword, but ConnectedSystem ${system.name} (type ${system.spec.type}) cannot set a password: ` +
        'set spec.credentials.policy to none (or remove spec.credentials); no account is created until then',
    };
  }
  return { deliver: true, ttlMs: parseDuration(credentials.ttl ?? DEFAULT_INITIAL_PASSWORD_TTL) };
}

/**
 * The deliveries whose Secret goes now: its time is up, or the account no longer lets the person in
 * (disabled or gone, so the password opens nothing and need not lie around). `nextAt`: the earliest
 * one still kept, when the User's reconcile must wake.
 */
export function dueDeliveries(accounts: readonly AccountStatus[], now: Date): { due: AccountStatus[]; nextAt?: Date } {
  const due: AccountStatus[] = [];
  let nextAt: number | undefined;
  for (const account of accounts) {
    const delivery = account.initialPassword;
    if (!delivery) continue;
    const expiresAt = Date.parse(delivery.expiresAt);
    if (expiresAt <= now.getTime() || account.state === 'disabled' || account.state === 'absent') due.push(account);
    else nextAt = Math.min(nextAt ?? expiresAt, expiresAt);
  }
  return nextAt === undefined ? { due } : { due, nextAt: new Date(nextAt) };
}
