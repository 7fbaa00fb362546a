// Opening one bound LDAP session: the one way Rollcall reaches a directory, for a ConnectedSystem's
// connector (session.ts) and an IdentitySource's feed (feeds/source-feed.ts) alike, so both verify
// TLS against the same CA, upgrade with StartTLS the same way, wait as long, and pass the egress guard.
import { Client } from 'ldapts';
import type { EgressGuard } from '../egress/guard.ts';
import { guardedLdapConnections } from '../egress/ldap.ts';

/** Where and how to connect: spec.ldap's url and startTLS, and the CA its Secrets provide. */
export interface LdapEndpoint {
  url: string;
  startTLS: boolean;
  /** PEM of the CA to trust (a Secret's ca.crt); without it, the system's CAs. The certificate is always verified. */
  ca?: string | undefined;
  /** For the connection and for each request. */
  timeoutMs: number;
  /** Every connection to url passes it (spec.allowPrivateNetwork). */
  egress: EgressGuard;
}

export interface LdapBind {
  bindDN: string;
  password: string;
}

/**
 * A client connected to the endpoint (and upgraded with StartTLS when asked) and bound as `bind`;
 * without `bind` it stays anonymous. On any failure, and when `signal` aborts meanwhile, the
 * connection is closed before the error is thrown.
 */
export async function openLdapSession(endpoint: LdapEndpoint, bind: LdapBind | undefined, signal?: AbortSignal): Promise<Client> {
  const { url, startTLS, ca, timeoutMs, egress } = endpoint;
  const tlsOptions = ca ? { ca: [ca] } : {};
  // ldapts opens TLS at once whenever it is given TLS options, even for ldap://: with StartTLS
  // they go to startTLS only, or the server sees a TLS hello where it expects LDAP.
  const client = new Client({ url, timeout: timeoutMs, connectTimeout: timeoutMs, ...guardedLdapConnections(egress), ...(startTLS ? {} : { tlsOptions }) });
  const abort = () => void closeLdapSession(client);
  signal?.addEventListener('abort', abort, { once: true });
  try {
    signal?.throwIfAborted();
    if (startTLS) await client.startTLS(tlsOptions);
    if (bind) await client.bind(bind.bindDN, bind.password);
    return client;
  } catch (error) {
    // Not awaited: an unbind on a frozen server may wait as long as a request would.
    void closeLdapSession(client);
    throw error;
  } finally {
    signal?.removeEventListener('abort', abort);
  }
}

/** Unbinds, which also destroys the socket; a frozen or vanished server gets no say in it. */
export async function closeLdapSession(client: Client): Promise<void> {
  await client.unbind().catch(() => undefined);
}
