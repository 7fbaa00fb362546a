// The CA named by spec.ldap.caSecretRef, read the same way for ConnectedSystems and IdentitySources.
// A CA is not a secret: only the key ca.crt is read, so the Secret needs no opt-in label, and it
// consents to nothing (no credentials come from it).
import type { Store } from '../store/store.ts';
import { CredentialsMissingError } from './credentials.ts';

/**
 * The PEM under ca.crt of the Secret `ref` names in `namespace`, or undefined without a reference.
 * `owner` names the object for the message, e.g. "IdentitySource hr".
 */
export async function ldapCaFromSecret(store: Store, namespace: string, owner: string, ref: { name: string } | undefined): Promise<string | undefined> {
  if (!ref) return undefined;
  const data = await store.getSecret({ namespace, name: ref.name });
  if (!data) throw new CredentialsMissingError(`Secret ${namespace}/${ref.name} named by ${owner} (spec.ldap.caSecretRef) does not exist yet`);
  const ca = data['ca.crt'];
  if (ca === undefined) throw new CredentialsMissingError(`Secret ${namespace}/${ref.name} (spec.ldap.caSecretRef) has no key ca.crt`);
  return ca;
}
