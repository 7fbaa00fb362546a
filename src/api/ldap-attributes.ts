// The LDAP / Active Directory attributes a ConnectedSystem's spec.ldap.attributeMap may write.
// A mapping writes whatever a tenant's User declares, so it must never reach an attribute that
// authenticates (userPassword, unicodePwd, ...), locks or unlocks (pwdAccountLockedTime,
// userAccountControl, shadow*, ...), names the entry (uid, cn, sAMAccountName), says whose it is
// (Rollcall's marker: businessCategory, adminDescription), grants (memberOf, member, uidNumber,
// gidNumber) or that the server maintains. An explicit list of ordinary person attributes, not a
// deny-list: an attribute nobody thought of stays refused. Compared as LDAP compares attribute
// descriptions, ignoring case; an OID (2.5.4.35) or an option (userPassword;binary) is not a name on
// the list and so is refused. Both flavours share the list: an attribute the directory's schema
// lacks is refused by the server itself.
export const WRITABLE_LDAP_ATTRIBUTES = [
  // inetOrgPerson / organizationalPerson (RFC 4519, RFC 2798)
  'givenName',
  'sn',
  'displayName',
  'initials',
  'mail',
  'title',
  'description',
  'employeeNumber',
  'employeeType',
  'departmentNumber',
  'o',
  'ou',
  'telephoneNumber',
  'mobile',
  'pager',
  'facsimileTelephoneNumber',
  'homePhone',
  'l',
  'st',
  'street',
  'postalCode',
  'postalAddress',
  'postOfficeBox',
  'physicalDeliveryOfficeName',
  'roomNumber',
  'preferredLanguage',
  'labeledURI',
  // Active Directory's person attributes
  'employeeID',
  'department',
  'company',
  'division',
  'streetAddress',
  'co',
  'c',
  'info',
  'wWWHomePage',
] as const;

/** How the API server and `rollcall run` refuse any other target, in the CRD's CEL and in the connector. */
export const WRITABLE_LDAP_ATTRIBUTES_MESSAGE =
  'is not an LDAP attribute a mapping may write: only ordinary person attributes (' +
  WRITABLE_LDAP_ATTRIBUTES.join(', ') +
  '), never a password, lock state, naming, membership, Rollcall marker or operational attribute';

/** ASCII case folding, as CEL's lowerAscii: attribute descriptions are ASCII, and a Unicode fold (the Kelvin sign to k) would let the two checks disagree. */
function lowerAscii(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
}

const byLowerCase = new Map<string, string>(WRITABLE_LDAP_ATTRIBUTES.map((name) => [lowerAscii(name), name]));

/** The list's spelling of `name` when a mapping may write it (LDAP names ignore case), else undefined. */
export function writableLdapAttribute(name: string): string | undefined {
  return byLowerCase.get(lowerAscii(name));
}

/** The CEL rule on each attributeMap value: the same list, compared ignoring (ASCII) case as LDAP does. */
export function writableLdapAttributeRule(): { rule: string; message: string } {
  const list = WRITABLE_LDAP_ATTRIBUTES.map((name) => `'${lowerAscii(name)}'`).join(', ');
  return { rule: `self.lowerAscii() in [${list}]`, message: WRITABLE_LDAP_ATTRIBUTES_MESSAGE };
}
