// Entitlements are groups named cn=<name>,<groupsDN>. A groupOfNames holds member DNs, a posixGroup
// holds memberUid user names. Every change reads the group first, so repeating it writes nothing.
import { Attribute, Change, NoSuchObjectError, type Client, type Entry } from 'ldapts';
import { PermanentError } from '../../api/index.ts';
import { leafValue, normalizeDN, sameDN } from './dn.ts';
import { values } from './entry.ts';
import { escapeDNValue, escapeFilterValue } from './escape.ts';
import type { LdapSettings } from './settings.ts';

/**
 * groupOfNames must keep at least one member (RFC 4519), so when its last real member goes, this
 * DN takes its place, and it leaves again when a real member arrives. It names no entry (it is
 * outside every suffix), so it grants nothing and memberof/refint ignore it.
 */
export const EMPTY_GROUP_PLACEHOLDER = 'cn=rollcall-placeholder';

export interface Member {
  dn: string;
  userName: string;
}

function memberAttribute(settings: LdapSettings): string {
  return settings.groupType === 'posixGroup' ? 'memberUid' : 'member';
}

function memberValue(settings: LdapSettings, member: Member): string {
  return settings.groupType === 'posixGroup' ? member.userName : member.dn;
}

function isMember(settings: LdapSettings, current: string[], member: Member): boolean {
  if (settings.groupType === 'posixGroup') return current.includes(member.userName);
  return current.some((dn) => sameDN(dn, member.dn));
}

function needsPlaceholder(settings: LdapSettings): boolean {
  return settings.groupType === 'groupOfNames' && !settings.flavour.groupsMayBeEmpty;
}

export function groupDN(settings: LdapSettings, name: string): string {
  return `cn=${escapeDNValue(name)},${settings.groupsDN}`;
}

async function readGroup(client: Client, settings: LdapSettings, name: string): Promise<string[]> {
  const dn = groupDN(settings, name);
  try {
    const { searchEntries } = await client.search(dn, { scope: 'base', attributes: [memberAttribute(settings)] });
    if (searchEntries[0]) return values(searchEntries[0], memberAttribute(settings));
  } catch (error) {
    if (!(error instanceof NoSuchObjectError)) throw error;
  }
  throw new PermanentError(`entitlement "${name}" of ${settings.system}: group ${dn} does not exist; create it or fix the AccessRole`);
}

const change = (operation: 'add' | 'delete', type: string, value: string) =>
  new Change({ operation, modification: new Attribute({ type, values: [value] }) });

/** The tail of each group's chain of membership changes, keyed by server and group DN. */
const groupChanges = new Map<string, Promise<unknown>>();

/**
 * A membership change reads the group, then writes it. Two at once on one group race: both see the
 * placeholder and both delete it (the second fails: no such value), or both see two members and
 * remove one each (the group ends empty: object class violation). So changes to one group run one
 * after another.
 */
function oneAtATime<T>(settings: LdapSettings, name: string, fn: () => Promise<T>): Promise<T> {
  const key = `${settings.session.url} ${normalizeDN(groupDN(settings, name))}`;
  const run = (groupChanges.get(key) ?? Promise.resolve()).then(fn, fn);
  const tail = run.catch(() => undefined);
  groupChanges.set(key, tail);
  void tail.then(() => {
    if (groupChanges.get(key) === tail) groupChanges.delete(key);
  });
  return run;
}

export async function addMember(client: Client, settings: LdapSettings, name: string, member: Member): Promise<void> {
  await oneAtATime(settings, name, async () => {
    const current = await readGroup(client, settings, name);
    if (isMember(settings, current, member)) return;
    const attribute = memberAttribute(settings);
    const changes = [change('add', attribute, memberValue(settings, member))];
    if (needsPlaceholder(settings) && current.some((dn) => sameDN(dn, EMPTY_GROUP_PLACEHOLDER))) {
      changes.push(change('delete', attribute, EMPTY_GROUP_PLACEHOLDER));
    }
    await client.modify(groupDN(settings, name), changes);
  });
}

export async function removeMember(client: Client, settings: LdapSettings, name: string, member: Member): Promise<void> {
  await oneAtATime(settings, name, async () => {
    const current = await readGroup(client, settings, name);
    if (!isMember(settings, current, member)) return;
    const attribute = memberAttribute(settings);
    const changes = [change('delete', attribute, memberValue(settings, member))];
    // One modify, so the group is never without a member, not even between two operations.
    if (needsPlaceholder(settings) && current.length === 1) changes.unshift(change('add', attribute, EMPTY_GROUP_PLACEHOLDER));
    await client.modify(groupDN(settings, name), changes);
  });
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
  const { searchEntries } = await client.search(settings.groupsDN, { scope: 'one', filter: `(${attribute}=*)`, attributes: [attribute] });
  for (const entry of searchEntries) {
    const name = groupName(entry);
    if (name === undefined) continue;
    for (const value of values(entry, attribute)) {
      const key = settings.groupType === 'posixGroup' ? value : normalizeDN(value);
      byMember.set(key, [...(byMember.get(key) ?? []), name]);
    }
  }
  return (member) => sortedUnique(byMember.get(settings.groupType === 'posixGroup' ? member.userName : normalizeDN(member.dn)) ?? []);
}

function sortedUnique(names: (string | undefined)[]): string[] {
  return [...new Set(names.filter((name): name is string => name !== undefined))].sort();
}
