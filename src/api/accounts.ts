// The account model shared by the engine (which plans) and the connectors (which observe and apply).
// Attribute names are Rollcall's canonical names; each connector maps them onto its own.

/** Canonical attributes derived from a User; connectors say which of them they store. */
export const CANONICAL_ATTRIBUTES = [
  'givenName',
  'familyName',
  'displayName',
  'email',
  'employeeId',
  'department',
  'title',
  'manager',
  'employeeType',
] as const;

export type Attributes = Record<string, string>;

/** What one system should hold for one user. `absent` means: no account at all. */
export interface DesiredAccount {
  system: string;
  userName: string;
  state: 'present' | 'disabled' | 'absent';
  attributes: Attributes;
  /** Sorted and unique. Empty when the account is disabled or absent. */
  entitlements: string[];
  /** Entitlements granted by roles that the system refuses (never granted, revoked if held). */
  refused?: RefusedEntitlement[];
}

export interface RefusedEntitlement {
  entitlement: string;
  /** Why, naming the field or the rule: "not matched by spec.allowedEntitlements". */
  reason: string;
  /** The declarations that grant it, for a person to find: "AccessRole dba, AccessBinding dba-team". */
  declaredBy?: string;
}

/** What one system actually holds for one user, inside the connector's managed scope. */
export interface ObservedAccount {
  userName: string;
  /** The system's own identifier: DN, role name, SCIM id, ... */
  id: string;
  state: 'present' | 'disabled';
  attributes: Attributes;
  /** Sorted and unique. */
  entitlements: string[];
  /**
   * Set only when the account is outside this system's managed scope (getAccount returns such an
   * account so the engine can decide; listAccounts never does): `legacy` carries the marker every
   * system shared before markers named their ConnectedSystem, `unmanaged` carries no marker,
   * `foreign` carries another ConnectedSystem's.
   */
  owner?: AccountOwner;
  /**
   * Set only with `owner` legacy or unmanaged: why this account is never taken over, whatever
   * spec.adoption says (PostgreSQL: a role that is more than a plain login: elevated, a group, a marker
   * role). The engine reports it as a Conflict instead of adopting.
   */
  notAdoptable?: string;
}

export type AccountOwner = 'legacy' | 'unmanaged' | 'foreign';

/** One idempotent step against one system. A create never carries entitlements: grants follow it. */
export type AccountChange =
  /** `initialPassword`: only under spec.credentials.policy initialPassword, set with "must change at next login". Never log it. */
  | { op: 'create'; account: DesiredAccount; initialPassword?: string }
  | { op: 'update'; userName: string; attributes: Record<string, string | null> }
  | { op: 'grant' | 'revoke'; userName: string; entitlement: string }
  | { op: 'disable' | 'enable' | 'delete'; userName: string }
  /** Puts an account that carries the legacy marker or none into this system's managed scope; never takes another system's. */
  | { op: 'adopt'; userName: string };

export type ChangeOp = AccountChange['op'];

export function changeUserName(change: AccountChange): string {
  return change.op === 'create' ? change.account.userName : change.userName;
}

/** What a connector can do, so the plan never asks for the impossible. */
export interface Capabilities {
  /** Accounts can be disabled while kept; otherwise disable falls back to revoking everything. */
  disable: boolean;
  entitlements: boolean;
  /** Canonical attribute names the system stores; the plan compares only these. */
  attributes: readonly string[];
  /**
   * The system has no account object of its own (Kubernetes RBAC): an account exists exactly
   * while it holds entitlements, so create/delete/disable reduce to grants and revokes.
   */
  implicitAccounts?: boolean;
  /**
   * How the system compares names and values, when not exactly as strings (LDAP matching rules,
   * PostgreSQL's 63-byte names, SCIM caseExact). The engine compares through it, so a spelling the
   * system treats as the one it holds plans nothing, and two it treats as one are refused.
   */
  comparison?: Comparison;
  /**
   * Disabling or deleting an account ends its open sessions too (Keycloak: logout and offline tokens;
   * PostgreSQL: its backends; LDAP/AD: the password scrambled), so a leaver is cut off at once.
   */
  endsSessions?: boolean;
  /** A create can carry an initial password the person must change at first login (spec.credentials.policy initialPassword). */
  initialPassword?: boolean;
}

/**
 * The system's own notion of equality. Two spellings with one key are one name or value to the
 * system. Pure functions of their arguments: the engine calls them and never sees the connector.
 */
export interface Comparison {
  /** Why spellings are one, for messages: "LDAP cn matches ignoring case, width and extra spaces". */
  rule: string;
  /** The key under which the system finds an entitlement. Default: the name itself. */
  entitlementKey?(entitlement: string): string;
  /**
   * The key of an attribute value as the system keeps it. Only for values the system does not keep
   * as written: a value it keeps exactly is compared exactly, so a declared case fix is still made.
   */
  attributeKey?(attribute: string, value: string): string;
  /**
   * The value the system holds in an attribute the User does not declare, because its schema
   * requires one (OpenLDAP's sn: the user name). Declared absence and this value compare equal.
   */
  attributeDefault?(attribute: string, userName: string): string | undefined;
}
