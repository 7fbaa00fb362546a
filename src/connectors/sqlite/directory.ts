// Helpers for people and tests that look at a directory file directly, not through the connector:
// print it, set a password, try a login, add an account by hand.
import type { DatabaseSync } from 'node:sqlite';
import { insertAccount, readAccount, readAccounts, writePasswordHash } from './accounts.ts';
import { inTransaction, openDirectory } from './database.ts';
import { hashSecret, secretMatches } from './secret-hash.ts';

/** A person at a terminal can wait for a lock longer than the operator would. */
const BUSY_TIMEOUT_MS = 5_000;

export interface DirectoryRow {
  userName: string;
  state: 'present' | 'disabled';
  groups: string[];
  displayName?: string;
  email?: string;
  /** False for an account created by hand, which Rollcall never touches. */
  managed: boolean;
}

/** Every account in the file, managed or not, sorted by user name. */
export function describeDirectory(path: string): DirectoryRow[] {
  return withDirectory(path, (db) =>
    readAccounts(db, 'all').map((account) => ({
      userName: account.userName,
      state: account.disabled ? 'disabled' : 'present',
      groups: account.groups,
      ...(account.attributes.displayName !== undefined && { displayName: account.attributes.displayName }),
      ...(account.attributes.email !== undefined && { email: account.attributes.email }),
      managed: account.managed,
    })),
  );
}

/** Sets the password the account logs in with (Rollcall sets only a first one, under spec.credentials.policy initialPassword). */
export async function setPassword(path: string, userName: string, password: string): Promise<void> {
  const passwordHash = await hashSecret(password);
  withDirectory(path, (db) =>
    inTransaction(db, () => {
      if (readAccount(db, userName) === undefined) throw new Error(`no account ${JSON.stringify(userName)} in ${path}`);
      writePasswordHash(db, userName, passwordHash);
    }),
  );
}

/** Whether the account could log in with this password now: it exists, has this password and is not disabled. */
export async function authenticate(path: string, userName: string, password: string): Promise<boolean> {
  const row = withDirectory(path, (db) => db.prepare('SELECT password_hash, disabled FROM accounts WHERE user_name = ?').get(userName));
  if (row === undefined || row.disabled !== 0 || typeof row.password_hash !== 'string') return false;
  return secretMatches(password, row.password_hash);
}

/** An account created by hand (managed = 0): the connector must never list, change or delete it. */
export function createForeignAccount(path: string, userName: string): void {
  withDirectory(path, (db) => insertAccount(db, { userName, managed: false, disabled: false, attributes: {} }));
}

function withDirectory<T>(path: string, use: (db: DatabaseSync) => T): T {
  const db = openDirectory(path, { busyTimeoutMs: BUSY_TIMEOUT_MS });
  try {
    return use(db);
  } finally {
    db.close();
  }
}
