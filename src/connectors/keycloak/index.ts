// The `keycloak` ConnectedSystem type: the users of one Keycloak realm, through the admin REST API.
// Settings: spec.keycloak (url, realm, clientId, authRealm). Credentials Secret keys: `clientSecret`
// when spec.keycloak.clientId is set (client credentials grant, the service account of that client),
// else `username` and `password` (a password grant with the admin-cli client); `ca.crt` to trust a
// private CA. Least privilege: the realm-management roles manage-users, view-realm, view-clients
// and query-groups (manage-realm too, once, if the user profile does not declare the attributes yet:
// see profile.ts). Managed scope: see marker.ts; entitlements: see entitlements.ts.
import { PermanentError, plaintextRefusal } from '../../api/index.ts';
import { EgressGuard } from '../egress/guard.ts';
import { guardedAgent } from '../egress/http.ts';
import { DEFAULT_TIMEOUT_MS } from '../timeout.ts';
import type { ConnectorContext, ConnectorFactory } from '../types.ts';
import { KeycloakConnector } from './connector.ts';
import { KeycloakSession } from './session.ts';

export { KeycloakConnector, userNameProblem } from './connector.ts';
export { MARKER_ATTRIBUTE } from './marker.ts';

export const createKeycloakConnector: ConnectorFactory = async (context) => {
  const { system, spec } = context;
  const settings = spec.keycloak;
  if (!settings) throw new PermanentError(`ConnectedSystem ${system}: spec.keycloak is required for type keycloak`);
  const url = settings.url.replace(/\/+$/, '');
  if (!/^https?:\/\//i.test(url)) throw new PermanentError(`ConnectedSystem ${system}: spec.keycloak.url must be an http:// or https:// URL`);
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(url))
    throw new PermanentError(`ConnectedSystem ${system}: spec.keycloak.url must not contain user:password@; put credentials in the credentials Secret`);
  const plaintext = plaintextRefusal(system, spec);
  if (plaintext) throw new PermanentError(plaintext);
  const timeoutMs = context.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const ca = context.credentials['ca.crt'];
  const egress = new EgressGuard(context.egress ?? {}, { field: 'spec.keycloak.url', allowPrivateNetwork: spec.allowPrivateNetwork === true });
  const session = new KeycloakSession({
    system,
    url,
    realm: settings.realm,
    authRealm: settings.authRealm ?? settings.realm,
    credentials: credentialsOf(context, settings.clientId),
    timeoutMs,
    dispatcher: guardedAgent(egress, ca === undefined ? {} : { ca }),
  });
  return new KeycloakConnector({ system, session, logger: context.logger, allowedEntitlements: spec.allowedEntitlements ?? [] });
};

/** The grant from the credentials Secret; the message names the missing key, never a value. */
function credentialsOf(context: ConnectorContext, clientId: string | undefined) {
  const { credentials, system } = context;
  const missing = (key: string, why: string) => new PermanentError(`ConnectedSystem ${system}: the credentials Secret has no key "${key}", needed ${why}`);
  if (clientId !== undefined) {
    if (!credentials['clientSecret']) throw missing('clientSecret', `for the client credentials of spec.keycloak.clientId ${JSON.stringify(clientId)}`);
    return { grantType: 'client_credentials' as const, clientId, clientSecret: credentials['clientSecret'] };
  }
  if (!credentials['username']) throw missing('username', 'for the password grant (or set spec.keycloak.clientId and the key clientSecret)');
  if (credentials['password'] === undefined) throw missing('password', 'for the password grant');
  return { grantType: 'password' as const, clientId: 'admin-cli', username: credentials['username'], password: credentials['password'] };
}
