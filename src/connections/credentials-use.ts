// Where each object sends its credentials: the destination its spec names and whether the transport
// is plaintext, so credentialsRefusal can hold them to the Secret's allowed hosts and its consent to
// plaintext before any connection is made. A new system type that connects somewhere belongs here.
import { ldapPlaintext, plaintextTransport, type ConnectedSystemSpec, type IdentitySourceSpec } from '../api/index.ts';
import type { CredentialsUse } from './credentials.ts';

/** Where a ConnectedSystem's connector sends its credentials; undefined for sqlite and kubernetes (no remote host). */
export function systemCredentialsUse(spec: ConnectedSystemSpec): CredentialsUse | undefined {
  const plaintext = plaintextTransport(spec);
  const withPlaintext = plaintext === undefined ? {} : { plaintext };
  if (spec.type === 'ldap' && spec.ldap) return { field: 'spec.ldap.url', destination: { url: spec.ldap.url }, ...withPlaintext };
  if (spec.type === 'postgres' && spec.postgres)
    return { field: 'spec.postgres.host', destination: { host: spec.postgres.host, port: spec.postgres.port ?? 5432 }, ...withPlaintext };
  if (spec.type === 'scim' && spec.scim) return { field: 'spec.scim.baseUrl', destination: { url: spec.scim.baseUrl }, ...withPlaintext };
  if (spec.type === 'keycloak' && spec.keycloak) return { field: 'spec.keycloak.url', destination: { url: spec.keycloak.url }, ...withPlaintext };
  return undefined;
}

/**
 * Where an IdentitySource sends its credentials: its ldap.url, or its url when the feed is read over
 * HTTP. Undefined for a ConfigMap feed and for inbound SCIM, whose token is only compared.
 */
export function sourceCredentialsUse(spec: IdentitySourceSpec): CredentialsUse | undefined {
  if (spec.type === 'ldap' && spec.ldap) {
    const plaintext = ldapPlaintext(spec.ldap);
    return { field: 'spec.ldap.url', destination: { url: spec.ldap.url }, ...(plaintext === undefined ? {} : { plaintext }) };
  }
  if ((spec.type === 'csv' || spec.type === 'json') && spec.url && !spec.configMapRef) {
    const plaintext = /^http:\/\//i.test(spec.url) ? { plaintext: 'spec.url is http://' } : {};
    return { field: 'spec.url', destination: { url: spec.url }, ...plaintext };
  }
  return undefined;
}
