// The sqlite connector: Rollcall's embedded directory, one file, no server.
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import type { Logger } from 'pino';
import { CANONICAL_ATTRIBUTES, changeUserName, PermanentError, type AccountChange, type Capabilities, type ObservedAccount } from '../../api/index.ts';
import type { Connector } from '../types.ts';
import { readAccount, readAccounts, type AccountRow } from './accounts.ts';
import { applyChange, ownerOf } from './changes.ts';
import { inTransaction, openDirectory, readPassphraseHash } from './database.ts';
import { connectorError } from './errors.ts';
import { LOCK_WAIT_SLICE_MS, whileLocked } from './locking.ts';
import { hashSecret, secretMatches } from './secret-hash.ts';

export interface SqliteConnectorOptions {
  /** `namespace/name` of the ConnectedSystem, for messages. */
  system: string;
  /** Absolute path of the file. */
  path: string;
  /** credentials.passphrase, if the Secret has one. Never logged. */
  passphrase: string | undefined;
  timeoutMs: number;
  logger: Logger;
  /** A plan looks without touching: a missing file reads as empty and is not created. */
  observeOnly: boolean;
}

export class SqliteConnector implements Connector {
  // A first password is stored as a hash; the embedded directory has no "must change" to set.
  readonly capabilities: Capabilities = { disable: true, entitlements: true, attributes: CANONICAL_ATTRIBUTES, initialPassword: true };
  readonly #options: SqliteConnectorOptions;
  /** Opened on first use, so a connector built while the file is unavailable recovers once it is back. */
  #database: Promise<DatabaseSync> | undefined;

  constructor(options: SqliteConnectorOptions) {
    this.#options = options;
  }

  async check(signal: AbortSignal): Promise<void> {
    if (this.#missingWhileObserving()) return;
    await this.#run('check', signal, (db) => db.prepare('SELECT count(*) FROM accounts').get());
  }

  async *listAccounts(signal: AbortSignal): AsyncIterable<ObservedAccount> {
    if (this.#missingWhileObserving()) return;
    // Read in full before yielding: a consumer that awaits between items must not hold the file's lock.
    const rows = await this.#run('list accounts', signal, (db) => readAccounts(db, { owner: this.#options.system }));
    yield* rows.map(observed);
  }

  async getAccount(userName: string, signal: AbortSignal): Promise<ObservedAccount | undefined> {
    if (this.#missingWhileObserving()) return undefined;
    const row = await this.#run(`read account ${JSON.stringify(userName)}`, signal, (db) => readAccount(db, userName));
    if (row === undefined) return undefined;
    const owner = ownerOf(row, this.#options.system);
    return owner === undefined ? observed(row) : { ...observed(row), owner };
  }

  async apply(change: AccountChange, signal: AbortSignal): Promise<void> {
    if (this.#options.observeOnly) throw new PermanentError(`sqlite system ${this.#options.system} is open to observe only`);
    const userName = changeUserName(change);
    // scrypt is slow on purpose: hashed before the transaction, so the file's lock is not held meanwhile.
    const passwordHash = change.op === 'create' && change.initialPassword ? await hashSecret(change.initialPassword) : undefined;
    const wrote = await this.#run(`${change.op} ${JSON.stringify(userName)}`, signal, (db) =>
      inTransaction(db, () => applyChange(db, change, this.#options.system, passwordHash)),
    );
    this.#options.logger.debug({ system: this.#options.system, op: change.op, userName, wrote }, wrote ? 'change applied' : 'change already in place');
  }

  async close(): Promise<void> {
    const database = this.#database;
    this.#database = undefined;
    const db = await database?.catch(() => undefined);
    if (db?.isOpen) db.close();
  }

  /**
   * Observing a file a run would create (it is missing, its nearest existing ancestor a directory):
   * it reads as empty. One a run could not create (a parent is a regular file) fails as a run would.
   */
  #missingWhileObserving(): boolean {
    if (!this.#options.observeOnly || existsSync(this.#options.path)) return false;
    let ancestor = dirname(this.#options.path);
    while (!existsSync(ancestor) && dirname(ancestor) !== ancestor) ancestor = dirname(ancestor);
    return statSync(ancestor).isDirectory();
  }

  /** One call: open if needed, then run `step`, waiting for locks until the connector's timeout. */
  async #run<T>(what: string, signal: AbortSignal, step: (db: DatabaseSync) => T): Promise<T> {
    const deadline = performance.now() + this.#options.timeoutMs;
    try {
      const db = await this.#open(deadline, signal);
      return await whileLocked(deadline, signal, () => step(db));
    } catch (error) {
      throw connectorError(this.#options, what, error);
    }
  }

  #open(deadline: number, signal: AbortSignal): Promise<DatabaseSync> {
    this.#database ??= this.#connect(deadline, signal).catch((error: unknown) => {
      this.#database = undefined; // the next call tries again
      throw error;
    });
    return this.#database;
  }

  async #connect(deadline: number, signal: AbortSignal): Promise<DatabaseSync> {
    const { path, passphrase, observeOnly } = this.#options;
    const passphraseHash = passphrase === undefined ? undefined : await hashSecret(passphrase);
    const db = await whileLocked(deadline, signal, () => openDirectory(path, { busyTimeoutMs: LOCK_WAIT_SLICE_MS, passphraseHash, observeOnly }));
    try {
      await this.#checkPassphrase(await whileLocked(deadline, signal, () => readPassphraseHash(db)));
      return db;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  // The passphrase is not encryption (anyone who can read the file can read the directory): it
  // proves that the Secret and the file belong together, so a system never writes to the wrong file.
  async #checkPassphrase(stored: string | undefined): Promise<void> {
    const { system, passphrase, logger } = this.#options;
    if (stored === undefined) {
      if (passphrase !== undefined) logger.warn({ system }, 'credentials have a passphrase, but the sqlite file was created without one: it is not checked');
      return;
    }
    if (passphrase === undefined || !(await secretMatches(passphrase, stored))) {
      throw new PermanentError(
        `wrong passphrase for sqlite system ${system}: set the passphrase key of its credentials Secret to the one the file was created with`,
      );
    }
  }
}

function observed(row: AccountRow): ObservedAccount {
  return { userName: row.userName, id: row.userName, state: row.disabled ? 'disabled' : 'present', attributes: row.attributes, entitlements: row.groups };
}
