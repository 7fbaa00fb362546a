// "Will this system grant it?" answered in one place for run, plan and audit alike. A connector may
// know on its own (the kubernetes reach, a PostgreSQL name longer than a role can have: `refusal`)
// or have to ask its server (PostgreSQL: any role but a group role no system manages: `refusedEntitlements`);
// the server is asked once, for the names that matter now, and both answers become one function the
// engine applies: a refused entitlement is never granted, and revoked if held.
import type { EntitlementRefusal } from '../engine/index.ts';
import type { Connector } from '../connectors/types.ts';

export async function systemRefusal(connector: Connector, entitlements: Iterable<string>, signal: AbortSignal): Promise<EntitlementRefusal | undefined> {
  const names = [...new Set(entitlements)];
  const told = connector.refusedEntitlements && names.length ? await connector.refusedEntitlements(names, signal) : [];
  const reasons = new Map(told.map(({ entitlement, reason }) => [entitlement, reason]));
  const own = connector.refusal?.bind(connector);
  if (reasons.size === 0) return own;
  return (entitlement) => own?.(entitlement) ?? reasons.get(entitlement);
}
