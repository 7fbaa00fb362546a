// Manifests as a person writes them for `rollcall run --manifests DIR`, for tests that run the real
// command against real servers: a Rollcall object, or the Secret holding a system's credentials.

export interface YamlPlacement {
  /** Default acme. */
  namespace?: string;
  labels?: Record<string, string>;
}

/** One rollcall.dev/v1alpha1 object as a YAML document. */
export function resourceYaml(kind: string, name: string, spec: unknown, { namespace = 'acme', labels }: YamlPlacement = {}): string {
  return `apiVersion: rollcall.dev/v1alpha1\nkind: ${kind}\nmetadata: ${JSON.stringify({ name, namespace, ...(labels ? { labels } : {}) })}\nspec: ${JSON.stringify(spec)}\n`;
}

/**
 * A Secret a ConnectedSystem may name in credentialsSecretRef: labelled rollcall.dev/credentials
 * (Rollcall reads no other), and annotated to allow a plain connection, as the test servers take one.
 */
export function credentialsSecretYaml(name: string, data: Record<string, string>, namespace = 'acme'): string {
  const metadata = {
    name,
    namespace,
    labels: { 'rollcall.dev/credentials': 'true' },
    annotations: { 'rollcall.dev/allow-insecure': 'true' },
  };
  return `apiVersion: v1\nkind: Secret\nmetadata: ${JSON.stringify(metadata)}\nstringData: ${JSON.stringify(data)}\n`;
}
