// Whether a ConnectedSystem's connection would be plaintext. One answer for the CEL rules' intent,
// the connectors (which refuse a plaintext transport without spec.insecure even when the API server
// did not check) and the Insecure condition.
import type { ConnectedSystemSpec } from './connected-system.ts';
import { ldapPlaintext } from './ldap-connection.ts';

type TransportSpec = Pick<ConnectedSystemSpec, 'type' | 'ldap' | 'postgres' | 'scim' | 'keycloak'>;

/** The plaintext transport the spec asks for, in words naming the field, or undefined when it is TLS. */
export function plaintextTransport(spec: TransportSpec): string | undefined {
  if (spec.type === 'ldap' && spec.ldap) return ldapPlaintext(spec.ldap);
  if (spec.type === 'postgres' && spec.postgres?.ssl === 'disable') return 'spec.postgres.ssl is disable';
  if (spec.type === 'scim' && spec.scim && !/^https:\/\//i.test(spec.scim.baseUrl)) return 'spec.scim.baseUrl is http://';
  if (spec.type === 'keycloak' && spec.keycloak && !/^https:\/\//i.test(spec.keycloak.url)) return 'spec.keycloak.url is http://';
  return undefined;
}

/** Refusal message for a plaintext transport without spec.insecure, or undefined when allowed. */
export function plaintextRefusal(system: string, spec: TransportSpec & { insecure?: boolean }): string | undefined {
  const plaintext = plaintextTransport(spec);
  if (!plaintext || spec.insecure) return undefined;
  return `ConnectedSystem ${system}: ${plaintext}, which sends credentials in clear; use TLS or set spec.insecure: true`;
}
