// ldapts client options whose connections pass the egress guard (ldapts calls these with the
// URL's port and host; startTLS upgrades an open socket and connects nothing new).
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { ClientOptions } from 'ldapts';
import type { EgressGuard } from './guard.ts';

export function guardedLdapConnections(guard: EgressGuard): Pick<ClientOptions, 'createConnection' | 'createSecureConnection'> {
  const createConnection = ((port: number, host: string) => guard.connect(host, () => netConnect({ port, host, lookup: guard.lookup }))) as typeof netConnect;
  const createSecureConnection = ((first: number | ConnectionOptions, host?: string, options?: ConnectionOptions) => {
    if (typeof first !== 'number') return tlsConnect(first); // startTLS: the socket is already connected
    return guard.connect(host ?? '', () => tlsConnect({ ...options, port: first, host, lookup: guard.lookup }));
  }) as typeof tlsConnect;
  return { createConnection, createSecureConnection };
}
