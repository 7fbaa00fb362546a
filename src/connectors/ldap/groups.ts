// Entitlements are groups named cn=<name>,<groupsDN>. A groupOfNames holds member DNs, a posixGroup
// holds memberUid user names. This file reads memberships; group-writes.ts changes them.
import type { Client, Entry } from 'ldapts';
import { leafValue, normalizeDN, parentDN } from './dn.ts';
import { values } from './entry.ts';
import { escapeDNValue, escapeFilterValue } from './escape.ts';
import type { GroupTarget } from './group-writes.ts';
import type { LdapSettings } from './settings.ts';

export interface Member {
  dn: string;
  userName: string;
}

function memberAttribute(settings: LdapSettings): string {
  return settings.groupType === 'posixGroup' ? 'memberUid' : 'member';
}

export function memberValue(settings: LdapSettings, member: Member): string {
  return settings.groupType === 'posixGroup' ? member.userName : member.dn;
}

export function groupDN(settings: LdapSettings, name: string): string {
  return `cn=${escapeDNValue(name)},${settings.groupsDN}`;
}

export function groupTarget(settings: LdapSettings, name: string): GroupTarget {
  const dn = groupDN(settings, name);
  return {
    name,
    dn,
    key: normalizeDN(dn),
    attribute: memberAttribute(settings),
    placeholder: settings.groupType === 'groupOfNames' && !settings.flavour.groupsMayBeEmpty,
    system: settings.system,
  };
}

/**
 * Whether the user entries themselves list their groups (Active Directory's memberOf, kept by the
 * server in step with every group's member values), so one read of the entry tells its groups.
 * OpenLDAP has it only with the memberof overlay, which Rollcall cannot see is configured.
 */
export function entriesListGroups(settings: LdapSettings): boolean {
  return settings.groupType === 'groupOfNames' && settings.flavour.memberOfOnEntries;
}

/** The names of the groups under groupsDN among an entry's memberOf values, sorted. */
export function groupsFromMemberOf(settings: LdapSettings, entry: Entry): string[] {
  const groupsDN = normalizeDN(settings.groupsDN);
  return sortedUnique(values(entry, 'memberOf').map((dn) => (parentDN(dn) === groupsDN ? leafValue(dn) : undefined)));
}

function membershipFilter(settings: LdapSettings, member: Member): string {
  return `(${memberAttribute(settings)}=${escapeFilterValue(memberValue(settings, member))})`;
}

function groupName(entry: Entry): string | undefined {
  return leafValue(entry.dn);
}

/** The names of the groups under groupsDN that hold `member`, sorted. */
export async function groupsOf(client: Client, settings: LdapSettings, member: Member): Promise<string[]> {
  const { searchEntries } = await client.search(settings.groupsDN, {
    scope: 'one',
    filter: membershipFilter(settings, member),
    attributes: ['1.1'],
  });
  return sortedUnique(searchEntries.map(groupName));
}

/** Every group's members at once, for listing many accounts without one search each. */
export async function allMemberships(client: Client, settings: LdapSettings): Promise<(member: Member) => string[]> {
  const attribute = memberAttribute(settings);
  const byMember = new Map<string, string[]>();
  const key = (value: string) => (settings.groupType === 'posixGroup' ? value : normalizeDN(value));
  const { searchEntries } = await client.search(settings.groupsDN, { scope: 'one', filter: `(${attribute}=*)`, attributes: [attribute] });
  for (const entry of searchEntries) {
    const name = groupName(entry);
    if (name === undefined) continue;
    for (const value of values(entry, attribute)) {
      const names = byMember.get(key(value));
      if (names) names.push(name);
      else byMember.set(key(value), [name]);
    }
  }
  return (member) => sortedUnique(byMember.get(key(memberValue(settings, member))) ?? []);
}

function sortedUnique(names: (string | undefined)[]): string[] {
  return [...new Set(names.filter((name): name is string => name !== undefined))].sort();
}
