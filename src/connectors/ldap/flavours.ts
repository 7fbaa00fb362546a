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
  /**
   * Attributes besides objectClass, marker and mapped ones that a new entry needs. `initialPassword`:
   * the entry's first password, to be changed at first login (spec.credentials.policy initialPassword).
   */
  creationAttributes(userName: string, peopleDN: string, initialPassword?: string): Attribute[];
  /** The modification that sets a password; `mustChange`: the person must change it at the next login. */
  setPassword(password: string, mustChange: boolean): Change[];
  /**
   * Setting a password lifts the disabling (OpenLDAP's ppolicy clears pwdAccountLockedTime on every
   * password change), so a disable that scrambles the password locks again after it.
   */
  passwordChangeUnlocks: boolean;
  /**
   * The password before the last change keeps working for a while (Active Directory's, and Samba's,
   * "old password allowed period", 60 minutes by default), so a scramble is made twice: then both
   * the current and the previous password are ones nobody knows.
   */
  previousPasswordLingers: boolean;
}

/**
 * A password nobody knows: what a disabled account gets, so a cached or shared password stops
 * working (and stays stopped after a re-enable), and what a new AD account gets without a first
 * password. Three character classes, for Active Directory's complexity rule.
 */
export function unknownPassword(): string {
  return `Rc1!${randomBytes(24).toString('base64url')}`;
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
  // pwdReset makes ppolicy refuse everything but a password change after the first bind, where the
  // directory's policy sets pwdMustChange: TRUE (without it, pwdReset is only a marker).
  creationAttributes: (userName, _peopleDN, initialPassword) => [
    text('uid', userName),
    ...(initialPassword === undefined ? [] : [text('userPassword', initialPassword), text('pwdReset', 'TRUE')]),
  ],
  setPassword: (password, mustChange) => [
    new Change({ operation: 'replace', modification: text('userPassword', password) }),
    ...(mustChange ? [new Change({ operation: 'replace', modification: text('pwdReset', 'TRUE') })] : []),
  ],
  passwordChangeUnlocks: true,
  previousPasswordLingers: false,
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
  // An enabled AD account must have a password. Without a first password to deliver, a new account
  // gets a long random one that nobody knows, until the user's own reset flow sets theirs. A first
  // password comes with pwdLastSet=0: "must change password at next logon".
  creationAttributes: (userName, peopleDN, initialPassword) => [
    text('sAMAccountName', userName),
    text('userPrincipalName', `${userName}@${dnsDomainOf(peopleDN)}`),
    new Attribute({ type: 'unicodePwd', values: [unicodePwd(initialPassword ?? unknownPassword())] }),
    ...(initialPassword === undefined ? [] : [text('pwdLastSet', '0')]),
    text('userAccountControl', String(NORMAL_ACCOUNT)),
  ],
  setPassword: (password, mustChange) => [
    new Change({ operation: 'replace', modification: new Attribute({ type: 'unicodePwd', values: [unicodePwd(password)] }) }),
    ...(mustChange ? [new Change({ operation: 'replace', modification: text('pwdLastSet', '0') })] : []),
  ],
  passwordChangeUnlocks: false,
  previousPasswordLingers: true,
};

export function flavourOf(name: 'openldap' | 'activeDirectory'): Flavour {
  return name === 'activeDirectory' ? activeDirectory : openldap;
}
