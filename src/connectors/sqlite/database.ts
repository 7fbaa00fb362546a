// The embedded directory's file: its schema, how to open it, and how to write to it atomically.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { PermanentError } from '../../api/index.ts';

/** Kept in SQLite's user_version: 0 is a new, empty file. */
const SCHEMA_VERSION = 1;

const SCHEMA = `
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT;
  CREATE TABLE accounts (
    user_name     TEXT PRIMARY KEY,
    managed       INTEGER NOT NULL DEFAULT 0,    -- 1: created by Rollcall; 0: created by hand, never touched by it
    disabled      INTEGER NOT NULL DEFAULT 0,
    attributes    TEXT NOT NULL DEFAULT '{}',    -- JSON object of canonical attributes
    password_hash TEXT,                           -- set out of band (directory.ts), never by the connector
    version       INTEGER NOT NULL DEFAULT 1,    -- +1 on every write, so a skipped write is provable
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
  ) STRICT;
  CREATE TABLE groups (
    name TEXT PRIMARY KEY
  ) STRICT;
  CREATE TABLE memberships (
    user_name  TEXT NOT NULL REFERENCES accounts (user_name),
    group_name TEXT NOT NULL REFERENCES groups (name),
    PRIMARY KEY (user_name, group_name)
  ) STRICT;
`;

const PASSPHRASE_KEY = 'passphrase_hash';

export interface OpenOptions {
  /** SQLite's busy_timeout: how long one statement waits for a lock another connection holds. */
  busyTimeoutMs: number;
  /** Stored only when this call creates the file; from then on the file requires the passphrase. */
  passphraseHash?: string;
}

/** Opens the file, creating it, its parent directory and its schema when missing. */
export function openDirectory(path: string, options: OpenOptions): DatabaseSync {
  mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path, { timeout: options.busyTimeoutMs });
  try {
    createSchemaIfMissing(db, options.passphraseHash);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function createSchemaIfMissing(db: DatabaseSync, passphraseHash: string | undefined): void {
  if (schemaVersion(db) === SCHEMA_VERSION) return;
  inTransaction(db, () => {
    const version = schemaVersion(db); // read again under the write lock: another process may have just created it
    if (version === SCHEMA_VERSION) return;
    if (version !== 0) throw new PermanentError(`not a Rollcall directory: schema version ${version}, expected ${SCHEMA_VERSION}`);
    db.exec(SCHEMA);
    if (passphraseHash !== undefined) db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(PASSPHRASE_KEY, passphraseHash);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`); // a constant: PRAGMA takes no parameters
  });
}

function schemaVersion(db: DatabaseSync): number {
  return Number(db.prepare('PRAGMA user_version').get()?.user_version ?? 0);
}

/** The passphrase hash the file was created with, if any. */
export function readPassphraseHash(db: DatabaseSync): string | undefined {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(PASSPHRASE_KEY);
  return typeof row?.value === 'string' ? row.value : undefined;
}

/**
 * Runs `write` as one transaction. IMMEDIATE takes the write lock before the first read, so a
 * read-then-write step cannot interleave with another writer.
 */
export function inTransaction<T>(db: DatabaseSync, write: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = write();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
