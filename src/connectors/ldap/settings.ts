// Turns a ConnectedSystem's spec.ldap and its credentials into the connector's resolved settings,
// filling flavour defaults and failing early, with a clear message, on what cannot work.
import { PermanentError, plaintextRefusal, WRITABLE_LDAP_ATTRIBUTES_MESSAGE, writableLdapAttribute } from '../../api/index.ts';
import { EgressGuard } from '../egress/guard.ts';
import { DEFAULT_TIMEOUT_MS } from '../timeout.ts';
import type { ConnectorContext } from '../types.ts';
import { flavourOf, type Flavour } from './flavours.ts';
import type { SessionOptions } from './session.ts';

export interface LdapSettings {
  system: string;
  flavour: Flavour;
  /** This system's marker value, `rollcall:<namespace>/<name>`. */
  marker: string;
  peopleDN: string;
  groupsDN: string;
  groupType: 'groupOfNames' | 'posixGroup';
  objectClasses: string[];
  /** Canonical attribute name → LDAP attribute name, each one a mapping may write (attributeMapOf). */
  attributeMap: ReadonlyMap<string, string>;
  session: SessionOptions;
}

export function resolveSettings(context: ConnectorContext): LdapSettings {
  const { system, spec, credentials } = context;
  const ldap = spec.ldap;
  if (!ldap) throw new PermanentError(`ConnectedSystem ${system}: spec.ldap is required for type ldap`);
  const bindDN = credentials['bindDN'];
  const password = credentials['password'];
  if (!bindDN || !password) {
    throw new PermanentError(`ConnectedSystem ${system}: the credentials Secret needs the keys bindDN and password`);
  }
  const plaintext = plaintextRefusal(system, spec);
  if (plaintext) throw new PermanentError(plaintext);
  const flavour = flavourOf(ldap.flavour ?? 'openldap');
  return {
    system,
    flavour,
    marker: markerValue(system),
    peopleDN: ldap.peopleDN,
    groupsDN: ldap.groupsDN,
    groupType: ldap.groupType ?? 'groupOfNames',
    objectClasses: ldap.userObjectClasses?.length ? ldap.userObjectClasses : flavour.defaultObjectClasses,
    attributeMap: attributeMapOf(system, flavour, ldap.attributeMap),
    session: {
      system,
      url: ldap.url,
      startTLS: ldap.startTLS ?? false,
      ca: credentials['ca.crt'],
      bindDN,
      password,
      timeoutMs: context.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      egress: new EgressGuard(context.egress ?? {}, { field: 'spec.ldap.url', allowPrivateNetwork: spec.allowPrivateNetwork === true }),
    },
  };
}

/**
 * The flavour's defaults overridden by spec.ldap.attributeMap, every target checked against the
 * allow-list again here (the API server checks it too): a ConnectedSystem that reached Rollcall some
 * other way (standalone manifests, an older CRD) still never writes a password, lock state or marker.
 * A Map, because keys are tenant input: `constructor` must not find Object.prototype's.
 */
export function attributeMapOf(system: string, flavour: Flavour, overrides: Record<string, string> | undefined): ReadonlyMap<string, string> {
  const out = new Map<string, string>(Object.entries(flavour.defaultAttributeMap));
  for (const [canonical, target] of Object.entries(overrides ?? {})) {
    const writable = writableLdapAttribute(target);
    if (writable === undefined) {
      throw new PermanentError(
        `ConnectedSystem ${system}: spec.ldap.attributeMap[${canonical}]: ${JSON.stringify(target)} ${WRITABLE_LDAP_ATTRIBUTES_MESSAGE}`,
      );
    }
    out.set(canonical, writable); // the list's spelling, so reading the entry back finds it
  }
  return out;
}

export const MARKER_PREFIX = 'rollcall:';

export function markerValue(system: string): string {
  return `${MARKER_PREFIX}${system}`;
}
