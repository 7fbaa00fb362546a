// One AccountChange applied to the file. Each step first reads, and writes only when the file
// differs from what the change asks for: applying a change twice writes once.
// Runs inside one transaction (see connector.ts), so the read and the write see the same state.
import type { DatabaseSync } from 'node:sqlite';
import { CANONICAL_ATTRIBUTES, PermanentError, type AccountChange, type AccountOwner, type Attributes, type DesiredAccount } from '../../api/index.ts';
import {
  addMembership,
  deleteAccount,
  insertAccount,
  readAccount,
  removeMembership,
  writeAttributes,
  writeDisabled,
  writeOwner,
  writePasswordHash,
  type AccountRow,
} from './accounts.ts';

/** Returns whether anything was written. `passwordHash`: of the create's initialPassword. */
export function applyChange(db: DatabaseSync, change: AccountChange, system: string, passwordHash?: string): boolean {
  switch (change.op) {
    case 'create': {
      const wrote = create(db, change.account, system);
      // Set again when the create finds the account already there: the retry of a create whose
      // answer was lost carries the same delivered password.
      if (passwordHash !== undefined) writePasswordHash(db, change.account.userName, passwordHash);
      return wrote || passwordHash !== undefined;
    }
    case 'update':
      return update(db, managedAccount(db, change.userName, system), change.attributes);
    case 'grant':
      return grant(db, managedAccount(db, change.userName, system), change.entitlement);
    case 'revoke':
      return revoke(db, readManaged(db, change.userName, system), change.entitlement);
    case 'disable':
    case 'enable':
      return setDisabled(db, managedAccount(db, change.userName, system), change.op === 'disable');
    case 'delete':
      return remove(db, readManaged(db, change.userName, system));
    case 'adopt':
      return adopt(db, change.userName, system);
  }
}

/** A create means "make it exist like this": after a crash between create and status the account may already be there. */
function create(db: DatabaseSync, account: DesiredAccount, system: string): boolean {
  const attributes = canonical(account.attributes);
  const disabled = account.state === 'disabled';
  const existing = readAccount(db, account.userName);
  if (existing === undefined) {
    if (account.userName === '') throw new PermanentError(`sqlite system ${system}: a user name cannot be empty`);
    insertAccount(db, { userName: account.userName, managed: true, owner: system, disabled, attributes });
    return true;
  }
  if (ownerOf(existing, system) !== undefined) {
    throw new PermanentError(
      `sqlite system ${system}: the user name ${JSON.stringify(account.userName)} is taken by an account Rollcall does not manage; rename one of them or remove that account by hand`,
    );
  }
  const attributesDiffer = !sameAttributes(existing.attributes, attributes);
  const stateDiffers = existing.disabled !== disabled;
  if (attributesDiffer) writeAttributes(db, existing.userName, attributes);
  if (stateDiffers) writeDisabled(db, existing.userName, disabled);
  return attributesDiffer || stateDiffers;
}

function update(db: DatabaseSync, account: AccountRow, changes: Record<string, string | null>): boolean {
  const attributes = { ...account.attributes };
  for (const [name, value] of Object.entries(changes)) {
    if (!isCanonical(name)) continue;
    if (value === null) delete attributes[name];
    else attributes[name] = value;
  }
  if (sameAttributes(account.attributes, attributes)) return false;
  writeAttributes(db, account.userName, attributes);
  return true;
}

function grant(db: DatabaseSync, account: AccountRow, group: string): boolean {
  if (account.groups.includes(group)) return false;
  if (group === '') throw new PermanentError(`cannot grant an empty group name to ${JSON.stringify(account.userName)}`);
  // Granting a group that does not exist creates it: the embedded directory has no administrator
  // who could create groups beforehand, so the roles that name a group are what defines it.
  addMembership(db, account.userName, group);
  return true;
}

/** Nothing to revoke from an account that is gone (or was never ours): the revoke is already done. */
function revoke(db: DatabaseSync, account: AccountRow | undefined, group: string): boolean {
  if (account === undefined || !account.groups.includes(group)) return false;
  removeMembership(db, account.userName, group);
  return true;
}

function setDisabled(db: DatabaseSync, account: AccountRow, disabled: boolean): boolean {
  if (account.disabled === disabled) return false;
  writeDisabled(db, account.userName, disabled);
  return true;
}

/** Deleting what is gone succeeds; a foreign account looks gone from here and is left alone. */
function remove(db: DatabaseSync, account: AccountRow | undefined): boolean {
  if (account === undefined) return false;
  deleteAccount(db, account.userName);
  return true;
}

/** Whose the row is, seen from `system`: undefined when it is this system's own. */
export function ownerOf(row: AccountRow, system: string): AccountOwner | undefined {
  if (!row.managed) return 'unmanaged';
  if (row.owner === undefined) return 'legacy';
  return row.owner === system ? undefined : 'foreign';
}

/** Takes a legacy-marked or unmanaged account into this system's scope; another system's is refused. */
function adopt(db: DatabaseSync, userName: string, system: string): boolean {
  const account = readAccount(db, userName);
  if (account === undefined) throw new PermanentError(`sqlite system ${system}: no account ${JSON.stringify(userName)} to adopt`);
  const owner = ownerOf(account, system);
  if (owner === undefined) return false;
  if (owner === 'foreign')
    throw new PermanentError(`sqlite system ${system}: account ${JSON.stringify(userName)} belongs to ConnectedSystem ${account.owner}; it is not adopted`);
  writeOwner(db, userName, system);
  return true;
}

function readManaged(db: DatabaseSync, userName: string, system: string): AccountRow | undefined {
  const account = readAccount(db, userName);
  return account && ownerOf(account, system) === undefined ? account : undefined;
}

function managedAccount(db: DatabaseSync, userName: string, system: string): AccountRow {
  const account = readManaged(db, userName, system);
  if (account === undefined) {
    throw new PermanentError(`sqlite system ${system} has no account ${JSON.stringify(userName)} that Rollcall manages; it must be created first`);
  }
  return account;
}

// Only canonical attributes are stored (the capabilities say so); the plan never compares others.
function isCanonical(name: string): boolean {
  return (CANONICAL_ATTRIBUTES as readonly string[]).includes(name);
}

function canonical(attributes: Attributes): Attributes {
  return Object.fromEntries(Object.entries(attributes).filter(([name]) => isCanonical(name)));
}

function sameAttributes(a: Attributes, b: Attributes): boolean {
  const names = Object.keys(a);
  return names.length === Object.keys(b).length && names.every((name) => a[name] === b[name]);
}
