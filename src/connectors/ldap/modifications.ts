// From canonical attributes to LDAP: the attributes of a new entry, and the smallest modification
// that brings an existing entry to the wanted values (none when it already holds them).
import { Attribute, Change, type Entry } from 'ldapts';
import { values } from './entry.ts';
import type { LdapSettings } from './settings.ts';

type Wanted = Record<string, string | null>;

/** LDAP attribute → wanted value (undefined: remove it), for the canonical attributes in `wanted`. */
function ldapValues(settings: LdapSettings, userName: string, wanted: Wanted): Map<string, string | undefined> {
  const fallbacks = settings.flavour.requiredFallbacks(userName);
  const out = new Map<string, string | undefined>();
  for (const [canonical, value] of Object.entries(wanted)) {
    const ldapAttribute = settings.attributeMap.get(canonical);
    if (!ldapAttribute) continue; // not stored by this system: capabilities.attributes says so
    // LDAP has no empty string values: an empty value means "no value".
    out.set(ldapAttribute, value ? value : Object.hasOwn(fallbacks, ldapAttribute) ? fallbacks[ldapAttribute] : undefined);
  }
  // OpenLDAP's cn is required and not the RDN: it shows the display name, or the user name.
  if (settings.flavour.cnFollowsDisplayName && 'displayName' in wanted) out.set('cn', wanted['displayName'] || userName);
  return out;
}

export function newEntryAttributes(settings: LdapSettings, userName: string, wanted: Wanted, initialPassword?: string): Attribute[] {
  const { flavour, objectClasses, peopleDN } = settings;
  const byType = new Map<string, string | undefined>([
    ['cn', userName],
    ...Object.entries(flavour.requiredFallbacks(userName)),
    ...ldapValues(settings, userName, wanted),
  ]);
  const attributes = [
    new Attribute({ type: 'objectClass', values: objectClasses }),
    new Attribute({ type: flavour.marker.attribute, values: [settings.marker] }),
    ...flavour.creationAttributes(userName, peopleDN, initialPassword),
  ];
  for (const [type, value] of byType) if (value !== undefined) attributes.push(new Attribute({ type, values: [value] }));
  return attributes;
}

export function attributeChanges(settings: LdapSettings, userName: string, entry: Entry, wanted: Wanted): Change[] {
  const changes: Change[] = [];
  for (const [type, value] of ldapValues(settings, userName, wanted)) {
    const current = values(entry, type);
    if (value === undefined) {
      if (current.length > 0) changes.push(new Change({ operation: 'delete', modification: new Attribute({ type }) }));
    } else if (current.length !== 1 || current[0] !== value) {
      changes.push(new Change({ operation: 'replace', modification: new Attribute({ type, values: [value] }) }));
    }
  }
  return changes;
}

/** Every mapped attribute: the given values, null for the rest, so a create converges an existing entry fully. */
export function completeAttributes(settings: LdapSettings, given: Record<string, string>): Wanted {
  const wanted: Wanted = Object.fromEntries([...settings.attributeMap.keys()].map((canonical) => [canonical, null]));
  return { ...wanted, ...given };
}
