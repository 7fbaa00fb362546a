// Ending a leaver's access at once: disabling a Keycloak user stops new logins and makes its tokens
// fail introspection, but its open SSO sessions, offline tokens and the consents clients hold would
// outlive the disable at the clients that do not ask again. Done on every disable and delete, so a
// retry after a half-finished disable still ends them.
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { unless404 } from './grants.ts';

export async function endSessions(client: KcAdminClient, userId: string): Promise<void> {
  // Every online session, with a backchannel logout to the clients that have an admin URL.
  await unless404(client.users.logout({ id: userId }));
  // A consent entry exists for each client holding offline tokens too ("additionalGrants"):
  // revoking it revokes them.
  const consents = (await unless404(client.users.listConsents({ id: userId }))) ?? [];
  for (const consent of consents) {
    if (consent.clientId) await unless404(client.users.revokeConsent({ id: userId, clientId: consent.clientId }));
  }
}
