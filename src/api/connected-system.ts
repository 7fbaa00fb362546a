import { z } from 'zod';
import { MAX_URL_LENGTH, baseStatus, duration, minDuration, noUserinfo, resource, secretRef, timestamp } from './common.ts';
import { writableLdapAttributeRule } from './ldap-attributes.ts';
import { ldapConnectionFields, ldapPlaintextRule, ldapUrlWithoutUserinfo } from './ldap-connection.ts';

export const SYSTEM_TYPES = ['sqlite', 'ldap', 'postgres', 'scim', 'kubernetes', 'keycloak'] as const;
export type SystemType = (typeof SYSTEM_TYPES)[number];

const ldapSettings = z
  .object({
    ...ldapConnectionFields('spec.insecure'),
    flavour: z.enum(['openldap', 'activeDirectory']).default('openldap').describe('openldap (ppolicy locking) or activeDirectory (userAccountControl).'),
    peopleDN: z.string().min(1).describe('Base DN under which Rollcall creates and manages user entries.'),
    groupsDN: z.string().min(1).describe('Base DN of the groups that entitlements name.'),
    userObjectClasses: z.array(z.string()).optional().describe('Object classes of new user entries; defaults per flavour.'),
    groupType: z.enum(['groupOfNames', 'posixGroup']).default('groupOfNames').describe('groupOfNames (member DN) or posixGroup (memberUid).'),
    attributeMap: z
      // Each target is checked on its own, so the API server names the key: spec.ldap.attributeMap[KEY].
      .record(
        z.string(),
        z
          .string()
          .max(64)
          .meta({ 'x-kubernetes-validations': [writableLdapAttributeRule()] }),
      )
      .meta({ maxProperties: 64 })
      .optional()
      .describe(
        'Rollcall attribute name to LDAP attribute name, overriding the defaults (email: mail, employeeId: employeeNumber, ...). ' +
          'Only ordinary person attributes may be targets (mail, givenName, sn, displayName, title, telephoneNumber, ...; AD: employeeID, department, ...): ' +
          'never a password, lock state, the naming attribute, objectClass, membership, the marker or an operational attribute.',
      ),
  })
  .meta({ 'x-kubernetes-validations': [ldapUrlWithoutUserinfo] })
  .describe('Settings for type ldap.');

const postgresSettings = z
  .object({
    host: z.string().min(1).describe('Server host name or address.'),
    port: z.number().int().min(1).max(65535).default(5432).describe('Server port.'),
    database: z.string().min(1).default('postgres').describe('Database to connect to.'),
    ssl: z
      .enum(['disable', 'require', 'verify-full'])
      .default('verify-full')
      .describe(
        'TLS mode: verify-full (default) and require both verify the certificate and host name (CA: ca.crt in the credentials Secret); disable needs spec.insecure.',
      ),
    managedRole: z
      .string()
      .min(1)
      .max(63)
      .optional()
      .describe(
        'Marker role: Rollcall manages exactly the roles that are members of it, nothing else. Rollcall creates it and tags it with a comment naming this ConnectedSystem; ' +
          'an existing role without that tag is refused. Default: rollcall:<namespace>/<name> (a hash when longer than 63 bytes).',
      ),
    onDelete: z
      .enum(['drop', 'reassign'])
      .default('reassign')
      .describe("Before a leaver's role is dropped: reassign (default) its objects to reassignTo, or drop them."),
    reassignTo: z
      .string()
      .min(1)
      .max(63)
      .optional()
      .describe("Role that receives a dropped leaver's objects (onDelete reassign); defaults to the role Rollcall connects as."),
  })
  .describe('Settings for type postgres.');

const scimSettings = z
  .object({
    baseUrl: z
      .url()
      .max(MAX_URL_LENGTH)
      .describe('SCIM 2.0 base URL, e.g. https://app.example.com/scim/v2 (http:// needs spec.insecure; CA: ca.crt in the credentials Secret).'),
    auth: z.enum(['bearer', 'basic']).default('bearer').describe('bearer (Secret key token) or basic (Secret keys username, password).'),
    pageSize: z.number().int().min(1).max(1000).default(100).describe('Page size when listing accounts.'),
    compatibility: z
      .object({
        patch: z.boolean().optional().describe('Write with PATCH (true) or with GET + PUT of the whole resource (false).'),
        filterOperators: z
          .array(z.enum(['eq', 'ne', 'co', 'sw', 'ew', 'pr', 'gt', 'ge', 'lt', 'le']))
          .max(10)
          .optional()
          .describe('Filter operators the server supports; listing and lookups use only these.'),
        filteredPaths: z.boolean().optional().describe('PATCH paths with a filter (members[value eq "..."]) are supported.'),
        etags: z.boolean().optional().describe('The server sends ETags and honours If-Match.'),
        pageSize: z.number().int().min(1).max(1000).optional().describe('Largest page the server returns; overrides spec.scim.pageSize when smaller.'),
        externalIdWritable: z
          .boolean()
          .optional()
          .describe('externalId can be written (Rollcall keeps its marker there); a server where it cannot is refused, naming externalId.'),
      })
      .optional()
      .describe(
        "What the server supports, overriding what its /ServiceProviderConfig, /ResourceTypes and /Schemas declare (each omitted key: the server's declaration).",
      ),
  })
  .meta({ 'x-kubernetes-validations': [noUserinfo('baseUrl', 'spec.scim.baseUrl')] })
  .describe('Settings for type scim.');

const keycloakSettings = z
  .object({
    url: z
      .url()
      .max(MAX_URL_LENGTH)
      .describe('Base URL of Keycloak, e.g. https://sso.example.com (http:// needs spec.insecure; CA: ca.crt in the credentials Secret).'),
    realm: z.string().min(1).max(255).describe('The realm whose users this system manages.'),
    clientId: z
      .string()
      .min(1)
      .max(255)
      .optional()
      .describe('Client of a client-credentials grant (Secret key clientSecret); without it, a password grant with the Secret keys username and password.'),
    authRealm: z.string().min(1).max(255).optional().describe('Realm the credentials belong to; default: realm.'),
  })
  .meta({ 'x-kubernetes-validations': [noUserinfo('url', 'spec.keycloak.url')] })
  .describe('Settings for type keycloak.');

export const CREDENTIAL_POLICIES = ['none', 'initialPassword'] as const;

const credentialsPolicy = z
  .object({
    policy: z
      .enum(CREDENTIAL_POLICIES)
      .default('none')
      .describe(
        'none (the default: SSO only, no password set) or initialPassword: a joiner gets a random password that must be changed at first login, ' +
          "delivered in a Secret labelled rollcall.dev/initial-password-for: <userName> in the User's namespace.",
      ),
    ttl: duration('How long the delivered password Secret is kept before it is deleted (default 72h).').optional(),
  })
  .describe("Joiners' first credentials, for systems with local passwords (keycloak, ldap, postgres, sqlite).");

const kubernetesSettings = z
  .object({
    subjectName: z.enum(['userName', 'email']).default('userName').describe('Which User field names the RBAC subject.'),
  })
  .describe('Settings for type kubernetes.');

const sqliteSettings = z
  .object({
    path: z.string().min(1).describe('File of the embedded directory; created if missing.'),
  })
  .describe('Settings for type sqlite, the embedded directory that needs no server.');

export const DEPROVISION_POLICIES = ['disable', 'delete', 'disableThenDelete'] as const;
export const ORPHAN_POLICIES = ['report', 'disable', 'delete', 'ignore'] as const;
export const ADOPTION_POLICIES = ['never', 'matchUserName', 'matchEmail'] as const;
export type AdoptionPolicy = (typeof ADOPTION_POLICIES)[number];
export const DELETION_POLICIES = ['retain', 'deprovision'] as const;

export const connectedSystemSpec = z
  .object({
    type: z.enum(SYSTEM_TYPES).describe('Kind of system: sqlite, ldap, postgres, scim, kubernetes or keycloak.'),
    ldap: ldapSettings.optional(),
    postgres: postgresSettings.optional(),
    scim: scimSettings.optional(),
    kubernetes: kubernetesSettings.optional(),
    sqlite: sqliteSettings.optional(),
    keycloak: keycloakSettings.optional(),
    credentials: credentialsPolicy.optional(),
    credentialsSecretRef: secretRef
      .optional()
      .describe(
        'Secret with the credentials Rollcall uses to connect (and optionally ca.crt); it must be labelled rollcall.dev/credentials: "true". Its annotations rollcall.dev/allowed-systems: "a,b" narrow it to those systems, ' +
          'rollcall.dev/allowed-hosts: "host,host:port,*.domain" to those destinations, and a plaintext transport needs rollcall.dev/allow-insecure: "true".',
      ),
    insecure: z
      .boolean()
      .default(false)
      .describe(
        'Allow a plaintext transport: ldap:// without startTLS, http:// for scim, ssl disable for postgres; the credentials Secret must consent with rollcall.dev/allow-insecure: "true". Shown as the condition Insecure.',
      ),
    allowPrivateNetwork: z
      .boolean()
      .default(false)
      .describe(
        'Allow connecting to a loopback, link-local or cluster-internal address (refused by default, so a tenant cannot aim Rollcall at internal services). Shown as the condition PrivateNetwork.',
      ),
    allowedEntitlements: z
      .array(z.string().min(1))
      .optional()
      .describe(
        'Glob patterns (* any run of characters, ? one character, whole name matched): only entitlements matching one are granted; others are refused.',
      ),
    deprovision: z
      .object({
        policy: z.enum(DEPROVISION_POLICIES).default('disable').describe('disable, delete, or disableThenDelete after retention.'),
        retention: duration('How long a disabled account is kept before it is deleted (disableThenDelete).').optional(),
      })
      .meta({
        'x-kubernetes-validations': [
          {
            rule: "self.policy != 'disableThenDelete' || has(self.retention)",
            message: 'retention is required for disableThenDelete',
            fieldPath: '.retention',
          },
        ],
      })
      .default({ policy: 'disable' })
      .describe('What happens to the account of a leaver.'),
    orphans: z.enum(ORPHAN_POLICIES).default('report').describe('What happens to managed accounts that no User declares: report, disable, delete or ignore.'),
    deletionGuard: z
      .object({
        maxCount: z.number().int().min(0).optional().describe('Most accounts one pass may disable, delete or revoke entitlements from.'),
        maxPercent: z
          .number()
          .int()
          .min(0)
          .max(100)
          .optional()
          .describe('Most accounts one pass may disable, delete or revoke entitlements from, as a percentage of managed accounts.'),
      })
      .optional()
      .describe(
        'Stops a pass that would take access from too many accounts at once (disables, deletes and revokes, counted per account over the last resyncInterval) until a person approves it. ' +
          'When set, the strictest of maxCount and maxPercent applies. Always on: without maxCount and maxPercent the default is 10 accounts or 20% of managed accounts, whichever is larger. ' +
          'The percentage counts no account of a User created within the last resyncInterval (fillers cannot raise it). ' +
          'maxPercent: 100 effectively turns it off.',
      ),
    resyncInterval: duration('How often the whole system is listed to correct drift and find orphans (at least 1s).').default('5m'),
    suspend: z.boolean().default(false).describe('Stop all changes to this system.'),
    adoption: z
      .enum(ADOPTION_POLICIES)
      .default('never')
      .describe(
        "An account with a User's userName that this system does not manage: never (a Conflict on the User, the account is left alone), " +
          "matchUserName (take it over: mark it as this system's, then converge its attributes and entitlements), or matchEmail (take it over only when its email equals the User's).",
      ),
    deletionPolicy: z
      .enum(DELETION_POLICIES)
      .default('retain')
      .describe(
        'When this ConnectedSystem is deleted: retain (the default: its accounts stay as they are, so deleting or re-creating the object, or a pruning GitOps tool, never deprovisions a whole system by accident) ' +
          'or deprovision (disable, or delete under deprovision.policy delete, every account it manages before the finalizer goes, behind deletionGuard like any pass). Either way, deletion first waits for the Users of its namespace that are being deleted.',
      ),
  })
  .meta({
    'x-kubernetes-validations': [
      { rule: "self.type != 'ldap' || has(self.ldap)", message: 'ldap settings are required when type is ldap', fieldPath: '.ldap' },
      { rule: "self.type != 'postgres' || has(self.postgres)", message: 'postgres settings are required when type is postgres', fieldPath: '.postgres' },
      { rule: "self.type != 'scim' || has(self.scim)", message: 'scim settings are required when type is scim', fieldPath: '.scim' },
      { rule: "self.type != 'keycloak' || has(self.keycloak)", message: 'keycloak settings are required when type is keycloak', fieldPath: '.keycloak' },
      { rule: "self.type != 'sqlite' || has(self.sqlite)", message: 'sqlite settings are required when type is sqlite', fieldPath: '.sqlite' },
      { rule: 'self.type == oldSelf.type', message: 'type is immutable' },
      {
        // The controller refuses it again from the connector's capabilities (Capabilities.initialPassword).
        rule: "!has(self.credentials) || !has(self.credentials.policy) || self.credentials.policy != 'initialPassword' || self.type in ['ldap', 'postgres', 'keycloak', 'sqlite']",
        message: 'spec.credentials.policy initialPassword needs a system with local passwords: type ldap, postgres, keycloak or sqlite',
        fieldPath: '.credentials.policy',
      },
      minDuration('resyncInterval', '1s', 'spec.resyncInterval'),
      ldapPlaintextRule('self.insecure'),
      {
        rule: "!has(self.postgres) || !has(self.postgres.ssl) || self.postgres.ssl != 'disable' || (has(self.insecure) && self.insecure)",
        message: 'spec.postgres.ssl disable is plaintext: use verify-full or set spec.insecure: true',
        fieldPath: '.postgres.ssl',
      },
      {
        rule: "!has(self.scim) || self.scim.baseUrl.matches('^[hH][tT][tT][pP][sS]://') || (has(self.insecure) && self.insecure)",
        message: 'spec.scim.baseUrl is plaintext http://: use https:// or set spec.insecure: true',
        fieldPath: '.scim.baseUrl',
      },
      {
        rule: "!has(self.keycloak) || self.keycloak.url.matches('^[hH][tT][tT][pP][sS]://') || (has(self.insecure) && self.insecure)",
        message: 'spec.keycloak.url is plaintext http://: use https:// or set spec.insecure: true',
        fieldPath: '.keycloak.url',
      },
    ],
  })
  .describe('One target system and its policies.');

export const connectedSystemStatus = z.object({
  ...baseStatus,
  managed: z.number().int().optional().describe('Accounts in the managed scope at the last resync.'),
  drifted: z.number().int().optional().describe('Accounts corrected for drift at the last resync.'),
  orphaned: z.number().int().optional().describe('Managed accounts that no User declares.'),
  failing: z.number().int().optional().describe('Accounts whose last change failed.'),
  lastResyncTime: timestamp('When the system was last listed in full.').optional(),
  recentDeprovisions: z
    .array(
      z.object({
        userName: z.string().describe('The account that was disabled, deleted or had an entitlement revoked.'),
        at: timestamp('When.'),
      }),
    )
    .optional()
    .describe(
      'Deprovisions (disables, deletes, revokes) made within the last resyncInterval: the deletion guard counts them, so its window survives restarts and leader changes.',
    ),
  retained: z.number().int().optional().describe('Accounts of deleted Users kept disabled until their retention ends (the length of retainedAccounts).'),
  retainedAccounts: z
    .array(
      z.object({
        userName: z.string().describe('The disabled account.'),
        user: z.string().describe('The deleted User that held it (gone: its deletion ended once the account was disabled).'),
        deleteAfter: timestamp('When the retention ends: Rollcall deletes the account then (deprovision.policy disableThenDelete).'),
      }),
    )
    .optional()
    .describe(
      "Accounts of deleted Users under disableThenDelete: disabled at once, deleted by this system's controller when their retention ends, unless a User declares the userName again first.",
    ),
});

export const connectedSystemResource = resource('ConnectedSystem', connectedSystemSpec, connectedSystemStatus);
export type ConnectedSystem = z.infer<typeof connectedSystemResource>;
export type ConnectedSystemSpec = z.infer<typeof connectedSystemSpec>;
