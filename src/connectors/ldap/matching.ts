// How the directory compares names and values, so the engine compares the same way
// (Capabilities.comparison). Group names are cn values: OpenLDAP matches them with caseIgnoreMatch,
// which folds case, applies Unicode compatibility decomposition and ignores insignificant spaces.
// Checked against slapd 2.5: `Engineering` = `engineering`; fullwidth `ａdmins` = `admins`; NFD
// `café` = NFC `café`; `ﬁle` = `file`; `a²` = `a2`; the Kelvin sign K = `k`; a no-break space = a
// space; `team  one` = ` team one ` = `team one`; but a tab is not a space and `straße` != `STRASSE`.
// Known divergences from slapd's older Unicode tables, where this key merges and slapd does not:
// the capital sharp s ẞ (slapd keeps it apart from ß) and Roman numeral letters (Ⅳ vs iv).
import type { Comparison } from '../../api/index.ts';
import type { LdapSettings } from './settings.ts';

/** One spelling per caseIgnoreMatch value: two values with one key are one to slapd. */
export function caseIgnoreKey(value: string): string {
  return value.normalize('NFKD').toLowerCase().normalize('NFKD').replace(/ {2,}/g, ' ').replace(/^ | $/g, '');
}

/**
 * Active Directory compares cn without regard to case; beyond case its rules (and Samba's) are not
 * slapd's and have not been checked, so nothing more is folded.
 */
export function caseOnlyKey(value: string): string {
  return value.toLowerCase();
}

export function ldapComparison(settings: LdapSettings): Comparison {
  const { groupNames, requiredFallbacks } = settings.flavour;
  return {
    rule: groupNames.rule,
    entitlementKey: groupNames.key,
    // OpenLDAP's person requires sn: without a declared familyName the entry holds the user name.
    attributeDefault: (attribute, userName) => {
      const ldapAttribute = settings.attributeMap.get(attribute);
      const fallbacks = requiredFallbacks(userName);
      return ldapAttribute !== undefined && Object.hasOwn(fallbacks, ldapAttribute) ? fallbacks[ldapAttribute] : undefined;
    },
  };
}
