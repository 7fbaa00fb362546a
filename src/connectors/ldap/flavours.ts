// What differs between OpenLDAP and Active Directory: naming, Rollcall's marker, how an account is
// disabled, and the attributes a new entry needs. Everything else is plain LDAP and shared.
import { randomBytes } from 'node:crypto';
import { Attribute, Change, type Entry } from 'ldapts';
import { dnsDomainOf } from './dn.ts';
import { first } from './entry.ts';
import { caseIgnoreKey, caseOnlyKey } from './matching.ts';

export interface Flavour {
  /** Attribute that holds Rollcall's userName. */
  userNameAttribute: string;
  /** Naming attribute of a user's RDN under peopleDN. */
  rdnAttribute: string;
  /**
   * Rollcall's marker: only entries whose `attribute` holds `rollcall:<namespace>/<name>` of the
   * ConnectedSystem are in its managed scope, so entries that people, other tools or other systems
   * created under peopleDN are never listed or touched. `legacyValue` is the one marker every system
   * shared before; `multiValued` says whether a marker can be added beside an entry's own values.
   */
  marker: { attribute: string; legacyValue: string; multiValued: boolean };
  defaultObjectClasses: string[];
  defaultAttributeMap: Record<string, string>;
  /** cn is a required attribute outside the RDN (OpenLDAP), so it follows displayName or userName. */
  cnFollowsDisplayName: boolean;
  /**
   * Values for attributes the schema requires but the User may lack (OpenLDAP's person needs sn).
   * Used instead of deleting the attribute; reported back as it is, and the engine counts it equal to
   * no value (Comparison.attributeDefault), so a familyName equal to the user name is stable too.
   */
  requiredFallbacks(userName: string): Record<string, string>;
  /** How the server compares group names (cn), as a key and in words (matching.ts). */
  groupNames: { rule: string; key(name: string): string };
  /** Active Directory groups may be empty; an OpenLDAP groupOfNames must keep one member. */
  groupsMayBeEmpty: boolean;
  /** The server keeps memberOf on every user entry (Active Directory); see groups.ts entriesListGroups. */
  memberOfOnEntries: boolean;
  /** Attributes to read to know whether an account is disabled. */
  stateAttributes: string[];
  isDisabled(entry: Entry): boolean;
  /** The modification that disables (or enables) the entry; none when it already is. */
  disable(entry: Entry): Change[];
  enable(entry: Entry): Change[];
  /** Attributes besides objectClass, marker and mapped ones that a new entry needs. */
  creationAttributes(userName: string, peopleDN: string): Attribute[];
}

const text = (type: string, ...vals: string[]) => new Attribute({ type, values: vals });

/** ppolicy's "locked by an administrator until unlocked" time: binds fail while it is set. */
const PERMANENTLY_LOCKED = '000001010000Z';

export const openldap: Flavour = {
  userNameAttribute: 'uid',
  rdnAttribute: 'uid',
  marker: { attribute: 'businessCategory', legacyValue: 'rollcall-managed', multiValued: true },
  defaultObjectClasses: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'],
  defaultAttributeMap: {
    givenName: 'givenName',
    familyName: 'sn',
    displayName: 'displayName',
    email: 'mail',
    employeeId: 'employeeNumber',
    department: 'departmentNumber',
    title: 'title',
    employeeType: 'employeeType',
  },
  cnFollowsDisplayName: true,
  requiredFallbacks: (userName) => ({ sn: userName }),
  groupNames: { rule: 'LDAP cn matches ignoring case, character width, compatibility forms and extra spaces', key: caseIgnoreKey },
  groupsMayBeEmpty: false,
  memberOfOnEntries: false,
  stateAttributes: ['pwdAccountLockedTime'],
  isDisabled: (entry) => first(entry, 'pwdAccountLockedTime') === PERMANENTLY_LOCKED,
  disable: (entry) =>
    first(entry, 'pwdAccountLockedTime') === PERMANENTLY_LOCKED
      ? []
      : [new Change({ operation: 'replace', modification: text('pwdAccountLockedTime', PERMANENTLY_LOCKED) })],
  // Also clears a lockout after failed binds: enabling means "may log in".
  enable: (entry) =>
    first(entry, 'pwdAccountLockedTime') === undefined ? [] : [new Change({ operation: 'delete', modification: text('pwdAccountLockedTime') })],
  creationAttributes: (userName) => [text('uid', userName)],
};

const ACCOUNTDISABLE = 0x2;
const NORMAL_ACCOUNT = 0x200;

function userAccountControl(entry: Entry): number {
  return Number(first(entry, 'userAccountControl') ?? NORMAL_ACCOUNT);
}

/** AD wants a new password as UTF-16LE of the quoted string, and only over TLS. */
function unicodePwd(password: string): Buffer {
  return Buffer.from(`"${password}"`, 'utf16le');
}

export const activeDirectory: Flavour = {
  userNameAttribute: 'sAMAccountName',
  rdnAttribute: 'cn',
  marker: { attribute: 'adminDescription', legacyValue: 'rollcall-managed', multiValued: false },
  defaultObjectClasses: ['top', 'person', 'organizationalPerson', 'user'],
  defaultAttributeMap: {
    givenName: 'givenName',
    familyName: 'sn',
    displayName: 'displayName',
    email: 'mail',
    employeeId: 'employeeID',
    department: 'department',
    title: 'title',
    employeeType: 'employeeType',
  },
  cnFollowsDisplayName: false,
  requiredFallbacks: () => ({}),
  groupNames: { rule: 'Active Directory cn matches ignoring case', key: caseOnlyKey },
  groupsMayBeEmpty: true,
  memberOfOnEntries: true,
  stateAttributes: ['userAccountControl'],
  isDisabled: (entry) => (userAccountControl(entry) & ACCOUNTDISABLE) !== 0,
  disable: (entry) => {
    const uac = userAccountControl(entry);
    return uac & ACCOUNTDISABLE ? [] : [new Change({ operation: 'replace', modification: text('userAccountControl', String(uac | ACCOUNTDISABLE)) })];
  },
  enable: (entry) => {
    const uac = userAccountControl(entry);
    return uac & ACCOUNTDISABLE ? [new Change({ operation: 'replace', modification: text('userAccountControl', String(uac & ~ACCOUNTDISABLE)) })] : [];
  },
  // An enabled AD account must have a password. Rollcall does not manage passwords, so a new
  // account gets a long random one that nobody knows, until the user's own reset flow sets theirs.
  creationAttributes: (userName, peopleDN) => [
    text('sAMAccountName', userName),
    text('userPrincipalName', `${userName}@${dnsDomainOf(peopleDN)}`),
    new Attribute({ type: 'unicodePwd', values: [unicodePwd(`Rc1!${randomBytes(24).toString('base64url')}`)] }),
    text('userAccountControl', String(NORMAL_ACCOUNT)),
  ],
};

export function flavourOf(name: 'openldap' | 'activeDirectory'): Flavour {
  return name === 'activeDirectory' ? activeDirectory : openldap;
}
