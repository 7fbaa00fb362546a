// The hostile inputs: each one value in one field of mallory (or one entitlement an AccessRole grants
// her) that reaches a system, and what must become of it. `rejected`: the loader refuses the
// directory with a message matching it. Otherwise accepted: stored verbatim in every system that
// holds the field, except where `refusedBy` says the server refuses it (the account there is in error
// with a message naming the field, and nobody else is affected).
import type { SystemKind } from './systems.ts';

export type Field =
  | 'userName'
  | 'givenName'
  | 'familyName'
  | 'displayName'
  | 'email'
  | 'title'
  | 'department'
  | 'employeeId'
  | 'attributes.location'
  | 'attributes.email'
  | 'entitlement';

export interface HostileInput {
  id: string;
  field: Field;
  value: string;
  rejected?: RegExp;
  /** Per system, patterns (or substrings) the refusal's message must all match: what the server said, and the field or declaration to fix. */
  refusedBy?: Partial<Record<SystemKind, Array<RegExp | string>>>;
  /**
   * The systems of `refusedBy` whose refusal keeps the account: the entitlement is withheld
   * (condition Refused, a warning) and the account is present, rather than in error.
   */
  withheld?: SystemKind[];
  /** The User's userName when the input needs a particular one (default: one of its own). */
  userName?: string;
  /** mallory's groups where they are not the staff groups plus the entitlement (the server counts the name as an existing group's). */
  groupsIn?: Partial<Record<SystemKind, string[]>>;
}

const long = (n: number, unit = 'x') => unit.repeat(n);
/** An e-mail address of exactly `n` characters. */
const emailOf = (n: number) => `${long(n - '@example.org'.length, 'm')}@example.org`;

const rejected = (id: string, field: Field, value: string, message: RegExp): HostileInput => ({ id, field, value, rejected: message });
const accepted = (id: string, field: Field, value: string, more: Partial<HostileInput> = {}): HostileInput => ({ id, field, value, ...more });

const CONTROL = /must not contain control characters/;
/** The refusal of two spellings a server counts as one entitlement, in the sorted order the message names them. */
const AMBIGUOUS = (a: string, b: string) => `${JSON.stringify(a)} and ${JSON.stringify(b)} are one entitlement`;
const USER_NAME = /spec\.userName: must be lowercase letters/;

export const INPUTS: HostileInput[] = [
  // userName: one pattern keeps every metacharacter, look-alike and path special out.
  rejected('username-uppercase', 'userName', 'Mallory', USER_NAME),
  rejected('username-dn-specials', 'userName', 'mal,lory+x=y', USER_NAME),
  rejected('username-filter-specials', 'userName', 'mal*)(uid=*', USER_NAME),
  rejected('username-sql', 'userName', "mallory'; drop role canary; --", USER_NAME),
  rejected('username-cyrillic-a', 'userName', 'm\u0430llory', USER_NAME),
  rejected('username-fullwidth', 'userName', '\uff4d\uff41\uff4c\uff4c\uff4f\uff52\uff59', USER_NAME),
  rejected('username-dot-dot', 'userName', '..', USER_NAME),
  rejected('username-slash', 'userName', 'a/b', USER_NAME),
  rejected('username-percent', 'userName', 'a%2fb', USER_NAME),
  rejected('username-zero-width', 'userName', 'mal\u200blory', USER_NAME),
  rejected('username-space', 'userName', 'mal lory', USER_NAME),
  rejected('username-65', 'userName', long(65, 'm'), /spec\.userName: .*64/),
  // Control characters and over-long values in the typed fields and attributes.
  rejected('givenname-crlf', 'givenName', 'Mallory\r\nmail: root@example.org', /spec\.givenName: must not contain control characters/),
  rejected('displayname-tab', 'displayName', 'Mallory\tExample', /spec\.displayName: must not contain control characters/),
  rejected('familyname-nul', 'familyName', 'Exa\u0000mple', /spec\.familyName: must not contain control characters/),
  rejected('title-escape', 'title', '\u001b[31mroot\u001b[0m', /spec\.title: must not contain control characters/),
  rejected('location-del', 'attributes.location', 'Z\u007furich', /spec\.attributes\.location: must not contain control characters/),
  rejected('department-lf', 'department', 'Ops\n', CONTROL),
  rejected('displayname-lone-surrogate', 'displayName', 'Mal\ud800lory', /spec\.displayName: must be well-formed Unicode/),
  rejected('entitlement-lone-surrogate', 'entitlement', '\udfffops', /spec\.grants\[0\]\.entitlements\[0\]: must be well-formed Unicode/),
  rejected('familyname-257', 'familyName', long(257), /spec\.familyName: .*256/),
  rejected('department-257', 'department', long(257), /spec\.department: .*256/),
  rejected('title-257', 'title', long(257), /spec\.title: .*256/),
  rejected('givenname-257', 'givenName', long(257), /spec\.givenName: .*256/),
  rejected('displayname-257', 'displayName', long(257), /spec\.displayName: .*256/),
  rejected('employeeid-65', 'employeeId', long(65, '9'), /spec\.employeeId: .*64/),
  rejected('location-1025', 'attributes.location', long(1025), /spec\.attributes\.location: .*1024/),
  rejected('email-255', 'email', emailOf(255), /spec\.email: .*254/),
  rejected('email-filter-specials', 'email', 'mal*)(uid=*@example.org', /spec\.email: must be an e-mail address/),
  rejected('attribute-email-not-an-address', 'attributes.email', '*)(uid=*', /attributes\.email must be an e-mail address/),
  rejected('entitlement-513', 'entitlement', long(513, 'g'), /spec\.grants\[\d\]\.entitlements\[0\]: .*512/),
  rejected('entitlement-empty', 'entitlement', '', /spec\.grants\[\d\]\.entitlements\[0\]/),

  // Accepted values in the typed fields: stored exactly as written.
  accepted('givenname-dn-specials', 'givenName', 'Mal,lory+x"\\<>;=#'),
  accepted('givenname-edge-spaces-hash', 'givenName', ' #Mallory '),
  accepted('givenname-filter-specials', 'givenName', '*)(uid=*))(|(uid=*'),
  accepted('givenname-sql', 'givenName', "'; DROP ROLE canary; --"),
  accepted('familyname-sql-paren', 'familyName', "Robert'); DROP TABLE canary;--"),
  accepted('familyname-dollar-quote', 'familyName', '$$; DROP ROLE canary; $$'),
  accepted('familyname-equals-username', 'familyName', 'mallory', { userName: 'mallory' }),
  accepted('displayname-double-quote', 'displayName', '"; DROP ROLE canary; --'),
  accepted('displayname-dollar-tag', 'displayName', "$tag$ x'; DROP TABLE canary; $tag$"),
  accepted('displayname-backslashes', 'displayName', 'C:\\Users\\mallory \\00 \\2a \\'),
  accepted('displayname-nfc', 'displayName', 'Jos\u00e9 M\u00fcller'),
  accepted('displayname-nfd', 'displayName', 'Jose\u0301 Mu\u0308ller'),
  accepted('displayname-combining-marks', 'displayName', 'Z\u0334\u0321\u0355a\u0337l\u0336g\u0337o\u0336'),
  accepted('displayname-zero-width', 'displayName', 'Mal\u200blory\u200d\ufeff'),
  accepted('displayname-bidi', 'displayName', '\u202eyrollam\u202c \u2066admin\u2069'),
  accepted('displayname-astral', 'displayName', 'Mallory \u{1f984} \u{1d510}\u{1d51e}\u{1d529} \u{1f469}\u200d\u{1f4bb}'),
  accepted('displayname-fullwidth', 'displayName', '\uff2d\uff41\uff4c\uff4c\uff4f\uff52\uff59'),
  accepted('displayname-cyrillic-a', 'displayName', 'M\u0430llory'),
  accepted('givenname-256', 'givenName', long(256, 'g')),
  accepted('familyname-256', 'familyName', long(256, 'f')),
  accepted('department-256', 'department', long(256, 'd')),
  accepted('displayname-256', 'displayName', long(256, 'd')),
  accepted('displayname-256-astral-units', 'displayName', long(128, '\u{1f600}')),
  accepted('displayname-only-spaces', 'displayName', '   '),
  accepted('displayname-path-specials', 'displayName', '../../Users/x?filter=userName pr#frag%2F%00'),
  accepted('displayname-ldif-like', 'displayName', ':: PGJhc2U2ND4= < file:///etc/passwd'),
  accepted('email-apostrophe-plus', 'email', "o'brien+tag@example.org"),
  accepted('email-254', 'email', emailOf(254)),
  accepted('title-template-markup', 'title', 'Chief ${jndi:ldap://x} {{7*7}} <script>alert(1)</script>'),
  accepted('title-256', 'title', long(256, 't')),
  accepted('department-dn-specials', 'department', 'R&D / Sales, Ops; =+<>#'),
  accepted('employeeid-sql', 'employeeId', '1; SELECT pg_sleep(10)'),
  accepted('employeeid-64', 'employeeId', long(64, '7')),
  accepted('location-filter-specials', 'attributes.location', '(l=*)\\2a*'),
  accepted('location-1024', 'attributes.location', long(1024, 'l')),
  accepted('attribute-email-filter-specials', 'attributes.email', 'm*)(uid=*@example.org'),
  accepted('attribute-email-lookalike', 'attributes.email', '\uff4dallory@ex\u0430mple.org', {
    refusedBy: { ldap: [/mail: value #0 invalid per syntax/, /spec\.attributes\.email/] },
  }),
  // userName forms the pattern allows.
  accepted('username-dots', 'userName', 'a..b'),
  accepted('username-63', 'userName', long(63, 'u')),
  accepted('username-64', 'userName', long(64, 'u'), { refusedBy: { postgres: [/64 bytes long; PostgreSQL role names have at most 63/, /spec\.userName/] } }),
  accepted('username-superuser', 'userName', 'postgres', { refusedBy: { postgres: [/\bpostgres\b.*left alone/, /spec\.userName/] } }),
  accepted('username-group-role', 'userName', 'staff', {
    refusedBy: { postgres: [/spec\.userName staff: an account of that name exists that Rollcall does not manage/, /spec\.userName/] },
  }),

  // Entitlements: a group of that exact name is made in each system first, where the server allows it.
  accepted('entitlement-dn-specials', 'entitlement', 'Eng,ineering+ops=x;"<>\\'),
  accepted('entitlement-edge-spaces-hash', 'entitlement', ' #ops '),
  accepted('entitlement-filter-specials', 'entitlement', '*)(cn=*'),
  accepted('entitlement-sql', 'entitlement', 'ops"; DROP ROLE canary; --'),
  accepted('entitlement-dollar-quote', 'entitlement', "$$x'$$"),
  accepted('entitlement-path-specials', 'entitlement', 'ops/../admin?x=1#frag'),
  accepted('entitlement-percent-encoded', 'entitlement', '%2F%2e%2e%00'),
  accepted('entitlement-a-dn', 'entitlement', 'cn=admin,dc=example,dc=org'),
  // The staff role grants engineering too: a spelling the server counts as the same group (slapd's
  // caseIgnoreMatch; SCIM's Group displayName, caseExact false) is an ambiguous declaration, refused
  // (both spellings) naming both. PostgreSQL keeps the names apart.
  accepted('entitlement-case-variant', 'entitlement', 'Engineering', {
    refusedBy: { ldap: [AMBIGUOUS('Engineering', 'engineering')], scim: [AMBIGUOUS('Engineering', 'engineering')] },
    withheld: ['ldap', 'scim'],
    groupsIn: { ldap: ['vpn-users'], scim: ['staff'] },
  }),
  accepted('entitlement-trailing-space-variant', 'entitlement', 'engineering ', {
    refusedBy: { ldap: [AMBIGUOUS('engineering', 'engineering ')] },
    withheld: ['ldap'],
    groupsIn: { ldap: ['vpn-users'] },
  }),
  accepted('entitlement-fullwidth-variant', 'entitlement', '\uff45\uff4e\uff47\uff49\uff4e\uff45\uff45\uff52\uff49\uff4e\uff47', {
    refusedBy: { ldap: [AMBIGUOUS('engineering', '\uff45\uff4e\uff47\uff49\uff4e\uff45\uff45\uff52\uff49\uff4e\uff47')] },
    withheld: ['ldap'],
    groupsIn: { ldap: ['vpn-users'] },
  }),
  accepted('entitlement-zero-width-variant', 'entitlement', 'engi\u200bneering'),
  accepted('entitlement-cyrillic', 'entitlement', '\u0435ngineering'),
  accepted('entitlement-nfd', 'entitlement', 'cafe\u0301'),
  accepted('entitlement-bidi', 'entitlement', '\u202enimda'),
  accepted('entitlement-astral', 'entitlement', '\u{1f680} launch'),
  accepted('entitlement-line-break', 'entitlement', 'ops\r\ncn: admins'),
  accepted('entitlement-tab-escape', 'entitlement', 'ops\t\u001b[2J'),
  accepted('entitlement-nul', 'entitlement', 'ops\u0000admins', {
    refusedBy: { postgres: ['refused ops\u0000admins (AccessRole entitlement-nul, AccessBinding entitlement-nul): the role name contains a NUL character'] },
    withheld: ['postgres'],
  }),
  accepted('entitlement-63-bytes', 'entitlement', long(63, 'g')),
  accepted('entitlement-64-bytes', 'entitlement', long(64, 'g'), {
    refusedBy: { postgres: [/64 bytes long; PostgreSQL role names have at most 63/, /AccessRole\W+entitlement-64-bytes/] },
    withheld: ['postgres'],
  }),
  accepted('entitlement-512', 'entitlement', long(512, 'g'), {
    refusedBy: {
      postgres: [/512 bytes long; PostgreSQL role names have at most 63/, /AccessRole\W+entitlement-512/],
      ldap: [/does not exist/, /AccessRole\W+entitlement-512/],
    },
    withheld: ['postgres'],
  }),
  accepted('entitlement-superuser', 'entitlement', 'postgres', {
    refusedBy: { postgres: [/refused postgres \(AccessRole entitlement-superuser, AccessBinding entitlement-superuser\): role "postgres" has SUPERUSER/] },
    withheld: ['postgres'],
  }),
];

export const REJECTED = INPUTS.filter((input) => input.rejected);
export const ACCEPTED = INPUTS.filter((input) => !input.rejected);

/** Where each field lands, by system: the attribute name the server's own client reads it under. */
const LANDS: Record<SystemKind, Partial<Record<string, string[]>>> = {
  ldap: {
    userName: ['uid'],
    givenName: ['givenname'],
    familyName: ['sn'],
    displayName: ['displayname', 'cn'],
    email: ['mail'],
    title: ['title'],
    department: ['departmentnumber'],
    employeeId: ['employeenumber'],
    location: ['l'],
  },
  postgres: { userName: ['rolname'], displayName: ['comment'] },
  scim: {
    userName: ['userName'],
    givenName: ['name.givenName'],
    familyName: ['name.familyName'],
    displayName: ['displayName'],
    email: ['emails'],
    title: ['title'],
    department: ['department'],
    employeeId: ['employeeNumber'],
  },
};

/** [attribute as the system names it, the value it must hold] for each field of `spec` that `kind` stores. */
export function storedIn(kind: SystemKind, spec: Record<string, unknown>): [string, string][] {
  // spec.attributes first, the typed fields over them: a free attribute fills in a typed one.
  const values: Record<string, string> = { ...((spec.attributes ?? {}) as Record<string, string>) };
  for (const [name, value] of Object.entries(spec)) if (typeof value === 'string') values[name] = value;
  return Object.entries(values).flatMap(([name, value]) => (LANDS[kind][name] ?? []).map((attribute) => [attribute, value] as [string, string]));
}
