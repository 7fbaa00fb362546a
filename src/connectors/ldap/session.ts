// One bound LDAP connection, opened on first use and re-opened after any transport failure, so a
// restarted or hung server costs one failed call rather than a broken connector.
import type { ConnectionOptions } from 'node:tls';
import { Client } from 'ldapts';
import type { EgressGuard } from '../egress/guard.ts';
import { guardedLdapConnections } from '../egress/ldap.ts';
import { RetryableError } from '../../api/index.ts';
import { withTimeout } from '../timeout.ts';
import { toConnectorError } from './errors.ts';

export interface SessionOptions {
  system: string;
  url: string;
  startTLS: boolean;
  tlsOptions: ConnectionOptions;
  bindDN: string;
  password: string;
  timeoutMs: number;
  /** Every connection to url passes it (spec.allowPrivateNetwork). */
  egress: EgressGuard;
}

export class LdapSession {
  readonly #options: SessionOptions;
  #client: Client | undefined;
  #opening: Promise<Client> | undefined;

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
    await client?.unbind().catch(() => undefined);
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
    const { url, startTLS, tlsOptions, bindDN, password, timeoutMs, egress } = this.#options;
    // ldapts opens TLS at once whenever it is given TLS options, even for ldap://: with StartTLS
    // they go to startTLS only, or the server sees a TLS hello where it expects LDAP.
    const client = new Client({ url, timeout: timeoutMs, connectTimeout: timeoutMs, ...guardedLdapConnections(egress), ...(startTLS ? {} : { tlsOptions }) });
    this.#client = client;
    if (startTLS) await client.startTLS(tlsOptions);
    await client.bind(bindDN, password);
    return client;
  }

  #drop(): void {
    const client = this.#client;
    this.#client = undefined;
    // unbind destroys the socket; a frozen server never answers, so do not wait for it.
    void client?.unbind().catch(() => undefined);
  }
}
