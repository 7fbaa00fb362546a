// An ldap IdentitySource's feed: a paged search of spec.ldap.baseDN. The session is opened as a
// ConnectedSystem's is (connectors/ldap/open-session.ts): the same TLS verification and CA, StartTLS,
// timeouts and egress guard; only what is read, and how failures are worded, belong to the feed.
import type { Client, Entry } from 'ldapts';
import type { Logger } from 'pino';
import { errorMessage, ldapPlaintext, PermanentError, RetryableError, type IdentitySource } from '../api/index.ts';
import { EgressGuard, privateNetworkRefusal, type EgressPolicy } from '../connectors/egress/guard.ts';
import { tlsVerificationFailure } from '../connectors/ldap/errors.ts';
import { closeLdapSession, openLdapSession } from '../connectors/ldap/open-session.ts';
import { DEFAULT_TIMEOUT_MS } from '../connectors/timeout.ts';
import { ldapCaFromSecret } from '../connections/ldap-ca.ts';
import type { FeedRecord } from '../sources/records.ts';
import { keyOf, keyString, type Store } from '../store/store.ts';

export interface LdapFeedOptions {
  store: Store;
  /** Reads the source's credentials Secret (bindDN, password, ca.crt), checked for this source and its url. */
  credentials: () => Promise<Record<string, string> | undefined>;
  egress: EgressPolicy;
  logger?: Logger | undefined;
}

export async function readLdapFeed(source: IdentitySource, options: LdapFeedOptions, signal: AbortSignal): Promise<FeedRecord[]> {
  const settings = source.spec.ldap!;
  // Also a CEL rule on the IdentitySource; checked here for manifests no API server saw.
  const plaintext = ldapPlaintext(settings);
  if (plaintext && !settings.insecure) {
    throw new PermanentError(`${plaintext}, which sends credentials in clear; use ldaps://, set spec.ldap.startTLS, or set spec.ldap.insecure: true`);
  }
  const { store } = options;
  const { namespace } = keyOf(source);
  const credentials = await options.credentials();
  // As for a ConnectedSystem: spec.ldap.caSecretRef's CA before the credentials Secret's ca.crt.
  const ca = (await ldapCaFromSecret(store, namespace, `IdentitySource ${source.metadata.name}`, settings.caSecretRef)) ?? credentials?.['ca.crt'];
  const endpoint = {
    url: settings.url,
    startTLS: settings.startTLS ?? false,
    ca,
    timeoutMs: DEFAULT_TIMEOUT_MS,
    egress: new EgressGuard(options.egress, { field: 'spec.ldap.url', allowPrivateNetwork: source.spec.allowPrivateNetwork === true }),
  };
  const bind = credentials?.bindDN ? { bindDN: credentials.bindDN, password: credentials.password ?? '' } : undefined;
  let client: Client | undefined;
  const abort = () => void (client && closeLdapSession(client));
  signal.addEventListener('abort', abort, { once: true });
  try {
    client = await openLdapSession(endpoint, bind, signal);
    signal.throwIfAborted();
    const records: FeedRecord[] = [];
    for await (const page of client.searchPaginated(settings.baseDN, { scope: 'sub', filter: settings.filter, paged: { pageSize: settings.pageSize } })) {
      for (const entry of page.searchEntries) records.push(entryRecord(entry));
    }
    return records;
  } catch (error) {
    throw unreadable(source, error, options.logger);
  } finally {
    signal.removeEventListener('abort', abort);
    if (client) await closeLdapSession(client);
  }
}

/**
 * What a failed read says. A directory's answer (a numeric result code: wrong bind, no such base DN)
 * and a certificate not verified are the source owner's to fix, so they are said as such; every other
 * connect failure reads the same (see FeedReader's #unreachable), so status is no port scanner.
 */
function unreadable(source: IdentitySource, error: unknown, logger: Logger | undefined): Error {
  const { baseDN } = source.spec.ldap!;
  if (error instanceof PermanentError) return error;
  const refused = privateNetworkRefusal(error);
  if (refused) return refused;
  if (typeof (error as { code?: unknown })?.code === 'number') {
    return new RetryableError(`LDAP search of ${baseDN} at spec.ldap.url failed: ${errorMessage(error)}`);
  }
  const tls = tlsVerificationFailure(error);
  if (tls) {
    return new RetryableError(
      `could not read spec.ldap.url: the server's certificate was not verified (${tls}); check the host name in spec.ldap.url, and the CA: ca.crt in spec.ldap.caSecretRef or in the credentials Secret`,
    );
  }
  logger?.debug({ source: keyString(keyOf(source)), reason: errorMessage(error) }, 'LDAP feed connection failed');
  return new RetryableError('could not read spec.ldap.url: no answer from the server (it may be down or unreachable)');
}

/** An entry as a record: the first value of each attribute, plus dn. */
function entryRecord(entry: Entry): FeedRecord {
  const fields: Record<string, unknown> = { dn: entry.dn };
  for (const [name, value] of Object.entries(entry)) {
    if (name === 'dn') continue;
    const first = Array.isArray(value) ? value[0] : value;
    fields[name] = Buffer.isBuffer(first) ? new TextDecoder('utf-8').decode(first) : first;
  }
  return { ref: entry.dn, fields };
}
