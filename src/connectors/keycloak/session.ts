// One authenticated admin client for one realm. The token comes from the credentials Secret
// (client credentials, or a password grant) in spec.keycloak.authRealm, is fetched again when it is
// about to expire or the server answers 401, and every call is bounded by the connector's timeout.
import KcAdminClient from '@keycloak/keycloak-admin-client';
import type { Credentials } from '@keycloak/keycloak-admin-client/lib/utils/auth.js';
import { Dispatcher1Wrapper, type Agent } from 'undici';
import { withTimeout } from '../timeout.ts';
import { authenticationFailure, httpStatus, keycloakFailure } from './errors.ts';

export interface KeycloakSessionOptions {
  system: string;
  url: string;
  realm: string;
  authRealm: string;
  /** Never logged, never put in a message. */
  credentials: Credentials;
  timeoutMs: number;
  /** Every connection passes the egress guard (and trusts the Secret's ca.crt). */
  dispatcher: Agent;
}

export class KeycloakSession {
  readonly #options: KeycloakSessionOptions;
  /** Works in the managed realm; asks #auth for its token. */
  readonly client: KcAdminClient;
  /** Holds the token, obtained in authRealm. */
  readonly #auth: KcAdminClient;
  #authenticated = false;

  constructor(options: KeycloakSessionOptions) {
    this.#options = options;
    // The admin client calls the platform fetch and passes requestOptions through to it. Node's
    // fetch is an older undici than the project's: the wrapper speaks its dispatcher interface.
    const requestOptions = { dispatcher: new Dispatcher1Wrapper(options.dispatcher) } as unknown as RequestInit;
    this.#auth = new KcAdminClient({ baseUrl: options.url, realmName: options.authRealm, timeout: options.timeoutMs, requestOptions });
    this.client = new KcAdminClient({ baseUrl: options.url, realmName: options.realm, timeout: options.timeoutMs, requestOptions });
    this.client.registerTokenProvider({ getAccessToken: () => this.#token() });
  }

  get realm(): string {
    return this.#options.realm;
  }

  /** Runs `call` with a valid token; one 401 (a token revoked or expired early) fetches a new one and tries again. */
  async run<T>(what: string, signal: AbortSignal, call: (client: KcAdminClient) => Promise<T>): Promise<T> {
    const { system, timeoutMs } = this.#options;
    const attempt = () => withTimeout(`Keycloak ${what} on ${system}`, timeoutMs, signal, () => call(this.client));
    try {
      try {
        return await attempt();
      } catch (error) {
        if (httpStatus(error) !== 401) throw error;
        this.#authenticated = false;
        return await attempt();
      }
    } catch (error) {
      throw keycloakFailure(system, what, error, { timeoutMs, aborted: signal.aborted });
    }
  }

  async #token(): Promise<string | undefined> {
    if (!this.#authenticated || this.#auth.isTokenExpired()) {
      try {
        await this.#auth.auth(this.#options.credentials);
      } catch (error) {
        throw authenticationFailure(this.#options.system, error, { timeoutMs: this.#options.timeoutMs, aborted: false });
      }
      this.#authenticated = true;
    }
    return this.#auth.accessToken;
  }

  async close(): Promise<void> {
    await this.#options.dispatcher.close();
  }
}
