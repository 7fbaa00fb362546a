// A Secret as a store holds it (data decoded), that a ConnectedSystem or IdentitySource may name in
// credentialsSecretRef: the Secret credentialsSecret in manifests.ts writes in a manifest (labelled
// rollcall.dev/credentials, the only Secrets Rollcall reads), its stringData as the store's data.
import type { SecretObject } from '../../src/manifests/load.ts';
import { credentialsSecret as credentialsSecretManifest, DEFAULT_NAMESPACE } from './manifests.ts';

export interface CredentialsSecretOptions {
  /** Default acme. */
  namespace?: string;
  /** Annotated rollcall.dev/allow-insecure, so a system may reach a test server over a plain connection (default true). */
  allowInsecure?: boolean;
}

export function credentialsSecret(
  name: string,
  data: Record<string, string>,
  { namespace = DEFAULT_NAMESPACE, allowInsecure = true }: CredentialsSecretOptions = {},
): SecretObject {
  const { metadata, stringData, ...secret } = credentialsSecretManifest({ name, namespace }, data, { allowInsecure });
  return { ...secret, metadata: { ...metadata, namespace }, data: stringData };
}
