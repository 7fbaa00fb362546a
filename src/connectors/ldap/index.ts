// The `ldap` ConnectedSystem type: OpenLDAP and Active Directory through ldapts.
import type { ConnectorFactory } from '../types.ts';
import { LdapConnector } from './connector.ts';
import { resolveSettings } from './settings.ts';

/** Connects lazily: building the connector never touches the network, check() proves the connection. */
export const createLdapConnector: ConnectorFactory = async (context) => new LdapConnector(resolveSettings(context), context.logger);

export { escapeDNValue, escapeFilterValue } from './escape.ts';
export { EMPTY_GROUP_PLACEHOLDER } from './group-writes.ts';
