// The embedded directory's file: its schema, how to open it, and how to write to it atomically.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { PermanentError } from '../../api/index.ts';

/** Kept in SQLite's user_version: 0 is a new, empty file. */
const SCHEMA_VERSION = 2;

const SCHEMA = `
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT;
  CREATE TABLE accounts (
    user_name     TEXT PRIMARY KEY,
    managed       INTEGER NOT NULL DEFAULT 0,    -- 1: created by Rollcall; 0: created by hand, never touched by it
    owner         TEXT,                           -- namespace/name of the ConnectedSystem that manages it; NULL on a managed row: the legacy marker
    disabled      INTEGER NOT NULL DEFAULT 0,
    attributes    TEXT NOT NULL DEFAULT '{}',    -- JSON object of canonical attributes
    password_hash TEXT,                           -- a first password (spec.credentials.policy initialPassword), or set out of band (directory.ts)
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
  /** A plan's look: the file is not switched to write-ahead logging. */
  observeOnly?: boolean;
}

/** Opens the file, creating it, its parent directory and its schema when missing. */
export function openDirectory(path: string, options: OpenOptions): DatabaseSync {
  keepPrivate(path, options.observeOnly ?? false);
  const db = new DatabaseSync(path, { timeout: options.busyTimeoutMs });
  try {
    createSchemaIfMissing(db, options.passphraseHash, options.observeOnly ?? false);
    // node:sqlite is synchronous: a commit that waits for fsync holds the whole process. With a
    // write-ahead log, a commit appends and only checkpoints sync; a crash of Rollcall loses nothing.
    // The log mode is kept in the file, so only a writer sets it: observing changes no byte.
    if (!options.observeOnly) db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * The file holds password hashes and who has which access: readable by its owner only. SQLite gives
 * the -wal and -shm files it creates the mode of the database file, so creating that file 0600
 * (before SQLite does, with the umask's 0644) covers all three. A writer also narrows a file an
 * older version left world-readable; observing (a plan) changes nothing, not even a mode.
 */
function keepPrivate(path: string, observeOnly: boolean): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  if (observeOnly) return;
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (existsSync(file)) chmodSync(file, 0o600);
  }
}

const statements = new WeakMap<DatabaseSync, Map<string, StatementSync>>();

/** A prepared statement, compiled once per open file: preparing per call is most of a small write's cost. */
export function statement(db: DatabaseSync, sql: string): StatementSync {
  let cache = statements.get(db);
  if (cache === undefined) statements.set(db, (cache = new Map()));
  let prepared = cache.get(sql);
  if (prepared === undefined) cache.set(sql, (prepared = db.prepare(sql)));
  return prepared;
}

function createSchemaIfMissing(db: DatabaseSync, passphraseHash: string | undefined, observeOnly: boolean): void {
  if (schemaVersion(db) === SCHEMA_VERSION) return;
  // Observing writes nothing: a version 1 file is read as it is (every managed row legacy-marked).
  if (observeOnly && schemaVersion(db) === 1) return;
  inTransaction(db, () => {
    const version = schemaVersion(db); // read again under the write lock: another process may have just created it
    if (version === SCHEMA_VERSION) return;
    if (version === 1) {
      // Version 1 had one marker for every system (managed = 1); those rows keep owner NULL until a system claims them.
      db.exec('ALTER TABLE accounts ADD COLUMN owner TEXT');
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
      return;
    }
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

const ownerColumns = new WeakMap<DatabaseSync, string>();

/** The owner column, or NULL on a version 1 file opened only to observe; looked up once per open file. */
export function ownerColumn(db: DatabaseSync): string {
  let column = ownerColumns.get(db);
  if (column === undefined) ownerColumns.set(db, (column = schemaVersion(db) >= 2 ? 'a.owner' : 'NULL'));
  return column;
}
