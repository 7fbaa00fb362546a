// What each connector's test file provides to the shared conformance suite: a real server of its
// type, and a few out-of-band probes that look at that server directly (not through the connector).
import type { Logger } from 'pino';
import type { Connector } from '../../src/connectors/types.ts';
import type { ServerControl } from '../servers/test-server.ts';

export interface ConformanceTarget {
  /**
   * Builds a connector to the running server through the connector's registered factory.
   * `credentials` replaces the good ones (as a Secret's data would); `timeoutMs` bounds each remote call.
   */
  connect(options: { logger: Logger; credentials?: Record<string, string>; timeoutMs?: number }): Promise<Connector>;
  /** Two entitlements that exist in the system and may be granted. */
  entitlements: readonly [string, string];
  /** A canonical attribute the system stores and the tests may change (e.g. 'displayName'); undefined when it stores none. */
  attribute?: string;
  /**
   * Whether the user could log in right now, asked of the server itself: an LDAP bind, a PostgreSQL
   * connection, a SCIM `active` flag. The harness sets a password out of band when it needs one.
   */
  canLogin(userName: string): Promise<boolean>;
  /** A value that changes whenever the server writes the account (entryCSN, xmin, meta.version, ...). */
  fingerprint(userName: string): Promise<string | undefined>;
  /** Creates an account the connector must never list or touch: a system or foreign account. */
  createForeignAccount(userName: string): Promise<void>;
  /** True when the foreign account still exists exactly as created. */
  foreignAccountIntact(userName: string): Promise<boolean>;
  /** Credentials that the server rejects. */
  badCredentials: Record<string, string>;
  /** Secret values that must never appear in an error message or a log line. */
  secrets: string[];
  /** Make the server unreachable (stop it) and bring it back. */
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
  /**
   * Reads are served while another writer holds the store's lock (sqlite in write-ahead-log mode),
   * so for this target "hung" shows on a write, which waits for the lock.
   */
  readsNeverWait?: boolean;
  /**
   * Names as the server compares them (Capabilities.comparison): groups created out of band, and
   * spellings of them. Absent for a system that compares names exactly.
   */
  spellings?: Spellings;
  /**
   * Required when the connector's capabilities declare endsSessions: opens what a person holds that
   * keeps working until the system ends it, so the suite can prove a disable ends it. What that is
   * depends on the system: a database connection (PostgreSQL), a token (Keycloak: alive = it still
   * introspects or refreshes), the password itself (LDAP, AD: a bound connection lives on, so alive =
   * a new bind with that password, as a client that cached it or a colleague it was shared with would).
   */
  sessions?: Sessions;
  /** Make the server hang without closing connections (SIGSTOP) and resume it. */
  freezeServer(): Promise<void>;
  thawServer(): Promise<void>;
  close(): Promise<void>;
}

export interface Spellings {
  /** Creates an entitlement (group, group role) in the server out of band, named exactly so. */
  createEntitlement(name: string): Promise<void>;
  /** The name to create, and declared spellings the server treats as that very entitlement. */
  held: string;
  alike: readonly string[];
  /** Two declarable names the server treats as one: refused together, the message naming both. */
  ambiguous: readonly [string, string];
  /** Two names that look alike but that the server keeps apart: both created, both granted. */
  distinct?: readonly [string, string];
}

/** See ConformanceTarget.sessions. */
export interface Sessions {
  /** Gives the user this password out of band, as an administrator would; absent when open() sets it itself. */
  setPassword?(userName: string, password: string): Promise<void>;
  /** Logs in as the user with the password. Throws if the login fails now. */
  open(userName: string, password: string): Promise<OpenSession>;
}

export interface OpenSession {
  /** Whether the session still works; false (never an error) once the system ended it. */
  alive(): Promise<boolean>;
  close(): Promise<void>;
}

/** A target's hooks on its server, for a test server that has them all: stop, restart, freeze, thaw, close. */
export function serverControls(server: ServerControl): Pick<ConformanceTarget, 'stopServer' | 'startServer' | 'freezeServer' | 'thawServer' | 'close'> {
  return {
    stopServer: () => server.stop(),
    startServer: () => server.restart(),
    freezeServer: async () => server.freeze(),
    thawServer: async () => server.thaw(),
    close: () => server.close(),
  };
}
