// Finding Rollcall's user entries and reading them as ObservedAccounts. The managed scope is the
// entries one level under peopleDN that carry the flavour's marker, and nothing else.
import type { Client, Entry } from 'ldapts';
import type { AccountOwner, ObservedAccount } from '../../api/index.ts';
import { first, values } from './entry.ts';
import { escapeDNValue, escapeFilterValue } from './escape.ts';
import { entriesListGroups, type Member } from './groups.ts';
import { MARKER_PREFIX, type LdapSettings } from './settings.ts';

export function userDN(settings: LdapSettings, userName: string): string {
  return `${settings.flavour.rdnAttribute}=${escapeDNValue(userName)},${settings.peopleDN}`;
}

/** Managed entries, all of them or the one whose user-name attribute equals `userName`. */
export function managedFilter(settings: LdapSettings, userName?: string): string {
  const { marker, userNameAttribute } = settings.flavour;
  const name = userName === undefined ? '*' : escapeFilterValue(userName);
  return `(&(${marker.attribute}=${escapeFilterValue(settings.marker)})(${userNameAttribute}=${name}))`;
}

/** Whose the entry is, seen from this system: undefined when it carries this system's marker. */
export function ownerOf(settings: LdapSettings, entry: Entry): AccountOwner | undefined {
  const markers = values(entry, settings.flavour.marker.attribute);
  if (markers.includes(settings.marker)) return undefined;
  if (markers.some((value) => value.startsWith(MARKER_PREFIX))) return 'foreign';
  if (markers.includes(settings.flavour.marker.legacyValue)) return 'legacy';
  return 'unmanaged';
}

/** The entry of `userName` under peopleDN, whoever's it is: this system's first, where two carry the name. */
export async function findAny(client: Client, settings: LdapSettings, userName: string): Promise<Entry | undefined> {
  const { searchEntries } = await client.search(settings.peopleDN, {
    scope: 'one',
    filter: `(${settings.flavour.userNameAttribute}=${escapeFilterValue(userName)})`,
    attributes: [...attributesToRead(settings), settings.flavour.marker.attribute],
  });
  const named = searchEntries.filter((entry) => userNameOf(settings, entry) === userName);
  return named.find((entry) => ownerOf(settings, entry) === undefined) ?? named[0];
}

export function attributesToRead(settings: LdapSettings): string[] {
  const { flavour, attributeMap } = settings;
  const groups = entriesListGroups(settings) ? ['memberOf'] : [];
  return [...new Set([flavour.userNameAttribute, 'cn', ...attributeMap.values(), ...flavour.stateAttributes, ...groups])];
}

/** The managed entry of `userName`, compared exactly: LDAP matching ignores case, user names do not. */
export async function findManaged(client: Client, settings: LdapSettings, userName: string): Promise<Entry | undefined> {
  const { searchEntries } = await client.search(settings.peopleDN, {
    scope: 'one',
    filter: managedFilter(settings, userName),
    attributes: attributesToRead(settings),
  });
  return searchEntries.find((entry) => userNameOf(settings, entry) === userName);
}

export function userNameOf(settings: LdapSettings, entry: Entry): string | undefined {
  return first(entry, settings.flavour.userNameAttribute);
}

export function memberOf(settings: LdapSettings, entry: Entry): Member {
  return { dn: entry.dn, userName: userNameOf(settings, entry) ?? '' };
}

export function toObservedAccount(settings: LdapSettings, entry: Entry, entitlements: string[]): ObservedAccount {
  const userName = userNameOf(settings, entry) ?? '';
  const attributes: Record<string, string> = {};
  // Reported as held, a required fallback too (sn = the user name): dropping it made a declared
  // familyName equal to the user name look missing on every pass. The engine counts the fallback
  // equal to no declared value (Comparison.attributeDefault, matching.ts).
  for (const [canonical, ldapAttribute] of settings.attributeMap) {
    const value = values(entry, ldapAttribute)[0];
    if (value !== undefined) attributes[canonical] = value;
  }
  return {
    userName,
    id: entry.dn,
    state: settings.flavour.isDisabled(entry) ? 'disabled' : 'present',
    attributes,
    entitlements,
  };
}
