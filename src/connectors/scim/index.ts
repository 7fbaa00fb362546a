// The `scim` ConnectedSystem type: SCIM 2.0 (RFC 7643, RFC 7644) over the platform fetch.
// Settings: spec.scim (baseUrl, auth, pageSize, compatibility). Credentials Secret keys: `token` for bearer auth,
// `username` and `password` for basic auth. Managed scope: users whose externalId is
// `rollcall:<userName>` (see schema.ts); entitlements are Group displayNames (see groups.ts).
import { PermanentError, plaintextRefusal } from '../../api/index.ts';
import { EgressGuard } from '../egress/guard.ts';
import { DEFAULT_TIMEOUT_MS } from '../timeout.ts';
import type { ConnectorContext, ConnectorFactory } from '../types.ts';
import { ScimConnector } from './connector.ts';
import { ScimHttp } from './http.ts';

export { ScimConnector } from './connector.ts';
export { MARKER_PREFIX, legacyMarkerFor, markerFor } from './schema.ts';

export const createScimConnector: ConnectorFactory = async (context) => {
  const settings = context.spec.scim;
  if (!settings) throw new PermanentError(`ConnectedSystem ${context.system}: spec.scim is required for type scim`);
  const baseUrl = settings.baseUrl.replace(/\/+$/, '');
  if (!/^https?:\/\//i.test(baseUrl)) throw new PermanentError(`ConnectedSystem ${context.system}: spec.scim.baseUrl must be an http:// or https:// URL`);
  // Never repeated in the message: the URL itself holds the secret.
  if (hasUserinfo(baseUrl))
    throw new PermanentError(`ConnectedSystem ${context.system}: spec.scim.baseUrl must not contain user:password@; put credentials in the credentials Secret`);
  const plaintext = plaintextRefusal(context.system, context.spec);
  if (plaintext) throw new PermanentError(plaintext);
  const timeoutMs = context.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const ca = context.credentials['ca.crt'];
  const egress = new EgressGuard(context.egress ?? {}, { field: 'spec.scim.baseUrl', allowPrivateNetwork: context.spec.allowPrivateNetwork === true });
  const http = new ScimHttp({
    system: context.system,
    baseUrl,
    authorization: authorization(context, settings.auth),
    timeoutMs,
    egress,
    ...(ca ? { ca } : {}),
  });
  const connector = new ScimConnector(
    http,
    context.system,
    { pageSize: settings.pageSize, ...(settings.compatibility && { compatibility: settings.compatibility }) },
    context.logger,
  );
  await connector.tryDiscover(AbortSignal.timeout(timeoutMs));
  return connector;
};

/** The Authorization header from the credentials Secret; the message names the missing key, never a value. */
function authorization(context: ConnectorContext, auth: 'bearer' | 'basic'): string {
  const { credentials, system } = context;
  const missing = (key: string) => new PermanentError(`ConnectedSystem ${system}: the credentials Secret has no key "${key}", needed for SCIM ${auth} auth`);
  if (auth === 'bearer') {
    if (!credentials['token']) throw missing('token');
    return `Bearer ${credentials['token']}`;
  }
  if (!credentials['username']) throw missing('username');
  if (credentials['password'] === undefined) throw missing('password');
  return `Basic ${Buffer.from(`${credentials['username']}:${credentials['password']}`, 'utf8').toString('base64')}`;
}

/** A URL with user:password@ before its host. */
function hasUserinfo(url: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(url);
}
