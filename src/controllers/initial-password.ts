// Joiners' first credentials (spec.credentials.policy initialPassword), at the edges the engine
// leaves to controllers: the password is drawn from the CSPRNG, written to a Secret the User owns
// BEFORE the account is created with it (write-ahead), and the Secret is deleted when its ttl is up.
//
// Why write-ahead: were the account created first and the Secret write to fail, the person would
// hold an account whose password nobody can ever learn. A Secret written for a create that then
// failed is reused by the next attempt, so the password delivered is always the one set.
import { createHash, randomInt } from 'node:crypto';
import { PermanentError, type AccountChange, type AccountStatus, type Capabilities, type ConnectedSystem, type User, type UserStatus } from '../api/index.ts';
import { dueDeliveries, initialPasswordDecision } from '../engine/index.ts';
import { keyString, type ObjectKey, type OwnedSecret } from '../store/store.ts';
import type { ControllerContext } from './context.ts';

/** Label of a delivery Secret: the userName whose first password it holds. */
export const INITIAL_PASSWORD_LABEL = 'rollcall.dev/initial-password-for';
/** Label of a delivery Secret: the ConnectedSystem the password is for. */
export const INITIAL_PASSWORD_SYSTEM_LABEL = 'rollcall.dev/system';
/** Annotation of a delivery Secret: when Rollcall deletes it. */
export const EXPIRES_AT_ANNOTATION = 'rollcall.dev/expires-at';

export type InitialPasswordDelivery = NonNullable<AccountStatus['initialPassword']>;

// Each class at least once (Active Directory's complexity rule wants three of the four); no
// characters that look alike (0/O, 1/l/I) or that shells and YAML treat specially.
const CLASSES = ['ABCDEFGHJKLMNPQRSTUVWXYZ', 'abcdefghijkmnopqrstuvwxyz', '23456789', '-_.+=#%'];
const ALPHABET = CLASSES.join('');
const PASSWORD_LENGTH = 24;

/** A new password from the CSPRNG (crypto.randomInt is uniform: no modulo bias), ~140 bits. */
export function generateInitialPassword(): string {
  const chars = [...CLASSES.map(pick), ...Array.from({ length: PASSWORD_LENGTH - CLASSES.length }, () => pick(ALPHABET))];
  // Fisher-Yates, so the guaranteed classes are not always in front.
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}

function pick(from: string): string {
  return from[randomInt(from.length)]!;
}

/**
 * The delivery Secret of one User's account in one system: one name for both, so a retry finds the
 * Secret the failed attempt wrote. Object names may be 253 characters; a long pair is cut and
 * suffixed with a hash of the whole, so two pairs never share a name.
 */
export function initialPasswordSecretKey(user: User, system: string): ObjectKey {
  const name = `initial-password-${user.metadata.name}-${system}`;
  if (name.length <= 253) return { namespace: user.metadata.namespace ?? 'default', name };
  const hash = createHash('sha256').update(`${user.metadata.name}\u0000${system}`).digest('hex').slice(0, 16);
  return { namespace: user.metadata.namespace ?? 'default', name: `${name.slice(0, 236).replace(/[.-]+$/, '')}-${hash}` };
}

/**
 * The changes with the first password on their create, when the system's policy asks for one: the
 * Secret that delivers it is written (or, written by an earlier attempt, reused) before this returns.
 * Throws a PermanentError naming spec.credentials.policy when the connector cannot set passwords.
 */
export async function withInitialPassword(
  ctx: Pick<ControllerContext, 'store'>,
  user: User,
  system: ConnectedSystem,
  capabilities: Capabilities,
  changes: readonly AccountChange[],
  now: Date,
): Promise<{ changes: readonly AccountChange[]; delivery?: InitialPasswordDelivery }> {
  const create = changes.find((c) => c.op === 'create');
  if (!create || create.account.state !== 'present') return { changes };
  const decision = initialPasswordDecision({ name: system.metadata.name, spec: system.spec }, capabilities);
  if ('refused' in decision) throw new PermanentError(decision.refused);
  if (!decision.deliver) return { changes };
  const { password, delivery } = await deliver(ctx, user, system.metadata.name, decision.ttlMs, now);
  return { changes: changes.map((c) => (c === create ? { ...create, initialPassword: password } : c)), delivery };
}

async function deliver(
  ctx: Pick<ControllerContext, 'store'>,
  user: User,
  system: string,
  ttlMs: number,
  now: Date,
): Promise<{ password: string; delivery: InitialPasswordDelivery }> {
  const key = initialPasswordSecretKey(user, system);
  const existing = await ctx.store.getOwnedSecret(key);
  const reusable = existing && isDeliveryOf(existing, user, system) ? existing : undefined;
  if (existing && !reusable) {
    // Someone else's Secret under our name: never set a password another party chose, or overwrite theirs.
    throw new PermanentError(
      `Secret ${keyString(key)} exists but is not Rollcall's delivery for User ${user.metadata.name} on ${system}; delete or rename it so the first password can be delivered`,
    );
  }
  if (reusable && Date.parse(reusable.annotations[EXPIRES_AT_ANNOTATION]!) <= now.getTime()) {
    // Kept past its time (the create kept failing): a fresh one, so the person gets a full ttl to read it.
    // Should the account have been made with the old one after all, the create sets this one over it.
    await ctx.store.deleteSecret(key);
  } else if (reusable) {
    return { password: reusable.data['password']!, delivery: { secretName: key.name, expiresAt: reusable.annotations[EXPIRES_AT_ANNOTATION]! } };
  }
  const password = generateInitialPassword();
  const expiresAt = new Date(now.getTime() + ttlMs).toISOString();
  const secret: OwnedSecret = {
    key,
    labels: { [INITIAL_PASSWORD_LABEL]: user.spec.userName, [INITIAL_PASSWORD_SYSTEM_LABEL]: system, 'app.kubernetes.io/managed-by': 'rollcall' },
    annotations: { [EXPIRES_AT_ANNOTATION]: expiresAt },
    data: { userName: user.spec.userName, system, password },
    owner: { apiVersion: user.apiVersion, kind: 'User', name: user.metadata.name, uid: user.metadata.uid ?? '' },
  };
  await ctx.store.createOwnedSecret(secret);
  return { password, delivery: { secretName: key.name, expiresAt } };
}

/** Ours for this User and system: owned by this very User (its uid), labelled, with a password and an expiry. */
function isDeliveryOf(secret: OwnedSecret, user: User, system: string): boolean {
  return (
    secret.owner.kind === 'User' &&
    secret.owner.uid === user.metadata.uid &&
    secret.labels[INITIAL_PASSWORD_LABEL] === user.spec.userName &&
    secret.labels[INITIAL_PASSWORD_SYSTEM_LABEL] === system &&
    typeof secret.data['password'] === 'string' &&
    secret.data['password'].length > 0 &&
    !Number.isNaN(Date.parse(secret.annotations[EXPIRES_AT_ANNOTATION] ?? ''))
  );
}

/**
 * Each account's delivery as this pass leaves it: the one just made, else the one recorded before
 * (a pass that made no create keeps it until it is due). One recorded by a pass whose status this
 * pass's cache has not seen yet is carried over when the status is written (withDeliveriesKept).
 */
export function carryDeliveries(
  accounts: AccountStatus[],
  previous: ReadonlyMap<string, AccountStatus>,
  made: ReadonlyMap<string, InitialPasswordDelivery>,
): AccountStatus[] {
  return accounts.map((account) => {
    const delivery = made.get(account.system) ?? previous.get(account.system)?.initialPassword;
    return delivery ? { ...account, initialPassword: delivery } : account;
  });
}

/**
 * The status with the deliveries the freshest stored status records and this one lacks, except the
 * Secrets this pass deleted: the record of a Secret is never lost to a stale cache, so it is deleted
 * when due. `carried`: some were, and only the next pass can tell when they are due.
 */
export function withDeliveriesKept(status: UserStatus, latest: UserStatus | undefined, deleted: ReadonlySet<string>): { status: UserStatus; carried: boolean } {
  const recorded = new Map(
    (latest?.accounts ?? []).flatMap((a) => (a.initialPassword && !deleted.has(a.initialPassword.secretName) ? [[a.system, a.initialPassword] as const] : [])),
  );
  let carried = false;
  const accounts = status.accounts?.map((account) => {
    const known = recorded.get(account.system);
    if (account.initialPassword || !known) return account;
    carried = true;
    return { ...account, initialPassword: known };
  });
  return { status: accounts === undefined ? status : { ...status, accounts }, carried };
}

/**
 * Deletes the delivery Secrets that are due (dueDeliveries) and drops them from the accounts; returns
 * when the next one is due and which Secrets it deleted. A delete that fails keeps its entry, so the
 * next pass tries again.
 */
export async function expireDeliveries(
  ctx: Pick<ControllerContext, 'store' | 'logger'>,
  user: User,
  accounts: AccountStatus[],
  now: Date,
): Promise<{ accounts: AccountStatus[]; nextAt?: Date; deleted: Set<string> }> {
  const { due, nextAt } = dueDeliveries(accounts, now);
  const deleted = new Set<string>();
  if (due.length === 0) return { accounts, nextAt, deleted };
  const namespace = user.metadata.namespace ?? 'default';
  const gone = new Set<string>();
  let retryAt: number | undefined;
  for (const account of due) {
    try {
      await ctx.store.deleteSecret({ namespace, name: account.initialPassword!.secretName });
      gone.add(account.system);
      deleted.add(account.initialPassword!.secretName);
    } catch (error) {
      retryAt = now.getTime() + DELETE_RETRY_MS;
      ctx.logger.warn(
        { user: user.metadata.name, system: account.system, secret: account.initialPassword!.secretName, err: (error as Error).message },
        'could not delete a first-password Secret; retried on the next pass',
      );
    }
  }
  return {
    accounts: accounts.map((a) => {
      if (!gone.has(a.system)) return a;
      const { initialPassword: _, ...rest } = a;
      return rest;
    }),
    nextAt: retryAt === undefined ? nextAt : new Date(Math.min(retryAt, nextAt?.getTime() ?? retryAt)),
    deleted,
  };
}

/** A failed delete of a due Secret is tried again this soon. */
const DELETE_RETRY_MS = 30_000;
