// The condition PrivateNetwork=True: shown while spec.allowPrivateNetwork lets an object reach
// loopback, link-local or cluster-internal addresses, so whoever reviews the namespace sees the
// exception (as the Insecure condition shows a plaintext transport). Absent otherwise.
import type { Condition, ConnectedSystem, IdentitySource } from '../api/index.ts';
import { removeCondition, setCondition } from '../api/conditions.ts';

/** The spec field naming the host the system connects to, or undefined when it connects to none. */
function systemRemoteField(spec: ConnectedSystem['spec']): string | undefined {
  if (spec.type === 'ldap') return 'spec.ldap.url';
  if (spec.type === 'postgres') return 'spec.postgres.host';
  if (spec.type === 'scim') return 'spec.scim.baseUrl';
  if (spec.type === 'keycloak') return 'spec.keycloak.url';
  return undefined; // sqlite is a file, kubernetes the cluster Rollcall runs in
}

/** The same for a source: a ConfigMap and inbound SCIM connect nowhere. */
function sourceRemoteField(spec: IdentitySource['spec']): string | undefined {
  if (spec.type === 'ldap') return 'spec.ldap.url';
  return (spec.type === 'csv' || spec.type === 'json') && spec.url !== undefined ? 'spec.url' : undefined;
}

export function systemPrivateNetworkCondition(system: ConnectedSystem, conditions: Condition[] | undefined, now: Date): Condition[] | undefined {
  return privateNetworkCondition(system.spec.allowPrivateNetwork ? systemRemoteField(system.spec) : undefined, system.metadata.generation, conditions, now);
}

export function sourcePrivateNetworkCondition(source: IdentitySource, conditions: Condition[] | undefined, now: Date): Condition[] | undefined {
  return privateNetworkCondition(source.spec.allowPrivateNetwork ? sourceRemoteField(source.spec) : undefined, source.metadata.generation, conditions, now);
}

function privateNetworkCondition(
  field: string | undefined,
  generation: number | undefined,
  conditions: Condition[] | undefined,
  now: Date,
): Condition[] | undefined {
  if (!field) return conditions?.some((c) => c.type === 'PrivateNetwork') ? removeCondition(conditions, 'PrivateNetwork') : conditions;
  const message = `${field} may reach loopback, link-local and cluster-internal addresses (allowed by spec.allowPrivateNetwork: true)`;
  return setCondition(conditions, { type: 'PrivateNetwork', status: 'True', reason: 'PrivateNetworkAllowed', message }, generation, now);
}
