// One bound LDAP connection, opened on first use and re-opened after any transport failure, so a
// restarted or hung server costs one failed call rather than a broken connector.
import type { Client } from 'ldapts';
import { RetryableError } from '../../api/index.ts';
import { withTimeout } from '../timeout.ts';
import { toConnectorError } from './errors.ts';
import { closeLdapSession, openLdapSession, type LdapBind, type LdapEndpoint } from './open-session.ts';

export interface SessionOptions extends LdapEndpoint, LdapBind {
  system: string;
}

export class LdapSession {
  readonly #options: SessionOptions;
  #client: Client | undefined;
  #opening: Promise<Client> | undefined;
  /** Aborts the connection being opened: a hung one must not hold the calls that follow. */
  #abortOpening: AbortController | undefined;

  constructor(options: SessionOptions) {
    this.#options = options;
  }

  /** Runs `operation` on a bound client within the timeout; failures come back as Retryable or Permanent errors. */
  async run<T>(what: string, signal: AbortSignal, operation: (client: Client) => Promise<T>): Promise<T> {
    const { system, timeoutMs } = this.#options;
    try {
      return await withTimeout(`LDAP ${what} on ${system}`, timeoutMs, signal, async () => operation(await this.#bound()));
    } catch (error) {
      const mapped = toConnectorError(error, system, what);
      // The connection may be half-dead (a hung server, a timed-out request): start afresh next time.
      if (mapped instanceof RetryableError) this.#drop();
      throw mapped;
    }
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (client) await closeLdapSession(client);
  }

  #bound(): Promise<Client> {
    if (this.#client?.isConnected && this.#client.isBound) return Promise.resolve(this.#client);
    // Calls that arrive while the connection opens share it instead of opening their own.
    this.#opening ??= this.#open().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  async #open(): Promise<Client> {
    this.#drop();
    const opening = new AbortController();
    this.#abortOpening = opening;
    this.#client = await openLdapSession(this.#options, this.#options, opening.signal);
    return this.#client;
  }

  #drop(): void {
    this.#abortOpening?.abort();
    this.#abortOpening = undefined;
    const client = this.#client;
    this.#client = undefined;
    // unbind destroys the socket; a frozen server never answers, so do not wait for it.
    if (client) void closeLdapSession(client);
  }
}
