// Rows of the accounts table with their memberships, read and written with prepared statements only.
import { systemClock } from '../../clock/clock.ts';
import type { DatabaseSync } from 'node:sqlite';
import { PermanentError, type Attributes } from '../../api/index.ts';
import { ownerColumn, statement } from './database.ts';

export interface AccountRow {
  userName: string;
  managed: boolean;
  /** namespace/name of the managing ConnectedSystem; undefined on a managed row: the legacy marker. */
  owner?: string;
  disabled: boolean;
  attributes: Attributes;
  /** Sorted and unique. */
  groups: string[];
}

// One statement per read: it sees a single snapshot of the account and its memberships.
const selectAccounts = (db: DatabaseSync) => `
  SELECT a.user_name, a.managed, ${ownerColumn(db)} AS owner, a.disabled, a.attributes,
         (SELECT json_group_array(m.group_name) FROM memberships m WHERE m.user_name = a.user_name) AS groups
  FROM accounts a`;

/** Any account, managed or not: callers decide what a foreign account means to them. */
export function readAccount(db: DatabaseSync, userName: string): AccountRow | undefined {
  const row = statement(db, `${selectAccounts(db)} WHERE a.user_name = ?`).get(userName);
  return row && toAccountRow(row);
}

/** `{ owner }`: the accounts that system manages; 'all': every row. */
export function readAccounts(db: DatabaseSync, scope: { owner: string } | 'all'): AccountRow[] {
  if (scope === 'all')
    return statement(db, `${selectAccounts(db)} ORDER BY a.user_name`)
      .all()
      .map(toAccountRow);
  return statement(db, `${selectAccounts(db)} WHERE a.managed = 1 AND owner = ? ORDER BY a.user_name`)
    .all(scope.owner)
    .map(toAccountRow);
}

function toAccountRow(row: Record<string, unknown>): AccountRow {
  const userName = String(row.user_name);
  return {
    userName,
    managed: row.managed === 1,
    ...(typeof row.owner === 'string' && { owner: row.owner }),
    disabled: row.disabled === 1,
    attributes: parseAttributes(userName, String(row.attributes)),
    groups: (JSON.parse(String(row.groups)) as string[]).sort(),
  };
}

// The column can be edited by hand, so a bad value is reported rather than trusted.
function parseAttributes(userName: string, text: string): Attributes {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new PermanentError(`account ${JSON.stringify(userName)} has attributes that are not a JSON object; fix the row by hand`);
  }
  return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

// The embedded directory is a system of its own: its rows carry its own real time, as a server's would.
const now = () => systemClock.now().toISOString();

export function insertAccount(
  db: DatabaseSync,
  account: { userName: string; managed: boolean; owner?: string; disabled: boolean; attributes: Attributes },
): void {
  const at = now();
  statement(db, 'INSERT INTO accounts (user_name, managed, owner, disabled, attributes, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
    account.userName,
    account.managed ? 1 : 0,
    account.owner ?? null,
    account.disabled ? 1 : 0,
    JSON.stringify(account.attributes),
    at,
    at,
  );
}

/** Every write below counts as a write to the account: version +1, updated_at now. */
export function writeAttributes(db: DatabaseSync, userName: string, attributes: Attributes): void {
  statement(db, 'UPDATE accounts SET attributes = ?, version = version + 1, updated_at = ? WHERE user_name = ?').run(
    JSON.stringify(attributes),
    now(),
    userName,
  );
}

/** Puts the account in `owner`'s managed scope. */
export function writeOwner(db: DatabaseSync, userName: string, owner: string): void {
  statement(db, 'UPDATE accounts SET managed = 1, owner = ?, version = version + 1, updated_at = ? WHERE user_name = ?').run(owner, now(), userName);
}

export function writeDisabled(db: DatabaseSync, userName: string, disabled: boolean): void {
  statement(db, 'UPDATE accounts SET disabled = ?, version = version + 1, updated_at = ? WHERE user_name = ?').run(disabled ? 1 : 0, now(), userName);
}

export function writePasswordHash(db: DatabaseSync, userName: string, passwordHash: string): void {
  statement(db, 'UPDATE accounts SET password_hash = ?, version = version + 1, updated_at = ? WHERE user_name = ?').run(passwordHash, now(), userName);
}

export function addMembership(db: DatabaseSync, userName: string, group: string): void {
  statement(db, 'INSERT OR IGNORE INTO groups (name) VALUES (?)').run(group);
  statement(db, 'INSERT INTO memberships (user_name, group_name) VALUES (?, ?)').run(userName, group);
  touch(db, userName);
}

export function removeMembership(db: DatabaseSync, userName: string, group: string): void {
  statement(db, 'DELETE FROM memberships WHERE user_name = ? AND group_name = ?').run(userName, group);
  touch(db, userName);
}

export function deleteAccount(db: DatabaseSync, userName: string): void {
  statement(db, 'DELETE FROM memberships WHERE user_name = ?').run(userName);
  statement(db, 'DELETE FROM accounts WHERE user_name = ?').run(userName);
}

function touch(db: DatabaseSync, userName: string): void {
  statement(db, 'UPDATE accounts SET version = version + 1, updated_at = ? WHERE user_name = ?').run(now(), userName);
}
