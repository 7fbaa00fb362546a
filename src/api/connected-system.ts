import { z } from 'zod';
import { baseStatus, duration, resource, secretRef, timestamp } from './common.ts';

export const SYSTEM_TYPES = ['sqlite', 'ldap', 'postgres', 'scim', 'kubernetes'] as const;
export type SystemType = (typeof SYSTEM_TYPES)[number];

const ldapSettings = z
  .object({
    url: z.string().regex(/^ldaps?:\/\//, 'must start with ldap:// or ldaps://').describe('ldap://host:389 or ldaps://host:636.'),
    startTLS: z.boolean().default(false).describe('Upgrade an ldap:// connection with StartTLS.'),
    caSecretRef: secretRef.optional().describe('Secret whose key ca.crt holds the CA that signed the server certificate.'),
    flavour: z.enum(['openldap', 'activeDirectory']).default('openldap').describe('openldap (ppolicy locking) or activeDirectory (userAccountControl).'),
    peopleDN: z.string().min(1).describe('Base DN under which Rollcall creates and manages user entries.'),
    groupsDN: z.string().min(1).describe('Base DN of the groups that entitlements name.'),
    userObjectClasses: z.array(z.string()).optional().describe('Object classes of new user entries; defaults per flavour.'),
    groupType: z.enum(['groupOfNames', 'posixGroup']).default('groupOfNames').describe('groupOfNames (member DN) or posixGroup (memberUid).'),
    attributeMap: z
      .record(z.string(), z.string())
      .optional()
      .describe('Rollcall attribute name to LDAP attribute name, overriding the defaults (email: mail, employeeId: employeeNumber, ...).'),
  })
  .describe('Settings for type ldap.');

const postgresSettings = z
  .object({
    host: z.string().min(1).describe('Server host name or address.'),
    port: z.number().int().min(1).max(65535).default(5432).describe('Server port.'),
    database: z.string().min(1).default('postgres').describe('Database to connect to.'),
    ssl: z.enum(['disable', 'require', 'verify-full']).default('disable').describe('TLS mode.'),
    managedRole: z
      .string()
      .min(1)
      .max(63)
      .default('rollcall_managed')
      .describe('Marker role: Rollcall manages exactly the login roles that are members of it, nothing else.'),
    onDelete: z.enum(['drop', 'reassign']).default('drop').describe('drop owned objects, or reassign them to reassignTo, before dropping a role.'),
    reassignTo: z.string().max(63).optional().describe('Role that receives owned objects when onDelete is reassign.'),
  })
  .meta({
    'x-kubernetes-validations': [
      { rule: "self.onDelete != 'reassign' || has(self.reassignTo)", message: 'reassignTo is required when onDelete is reassign', fieldPath: '.reassignTo' },
    ],
  })
  .describe('Settings for type postgres.');

const scimSettings = z
  .object({
    baseUrl: z.url().describe('SCIM 2.0 base URL, e.g. https://app.example.com/scim/v2.'),
    auth: z.enum(['bearer', 'basic']).default('bearer').describe('bearer (Secret key token) or basic (Secret keys username, password).'),
    pageSize: z.number().int().min(1).max(1000).default(100).describe('Page size when listing accounts.'),
  })
  .describe('Settings for type scim.');

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

export const connectedSystemSpec = z
  .object({
    type: z.enum(SYSTEM_TYPES).describe('Kind of system: sqlite, ldap, postgres, scim or kubernetes.'),
    ldap: ldapSettings.optional(),
    postgres: postgresSettings.optional(),
    scim: scimSettings.optional(),
    kubernetes: kubernetesSettings.optional(),
    sqlite: sqliteSettings.optional(),
    credentialsSecretRef: secretRef.optional().describe('Secret with the credentials Rollcall uses to connect.'),
    deprovision: z
      .object({
        policy: z.enum(DEPROVISION_POLICIES).default('disable').describe('disable, delete, or disableThenDelete after retention.'),
        retention: duration('How long a disabled account is kept before it is deleted (disableThenDelete).').optional(),
      })
      .meta({
        'x-kubernetes-validations': [
          { rule: "self.policy != 'disableThenDelete' || has(self.retention)", message: 'retention is required for disableThenDelete', fieldPath: '.retention' },
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
          'maxPercent: 100 effectively turns it off.',
      ),
    resyncInterval: duration('How often the whole system is listed to correct drift and find orphans.').default('5m'),
    suspend: z.boolean().default(false).describe('Stop all changes to this system.'),
  })
  .meta({
    'x-kubernetes-validations': [
      { rule: "self.type != 'ldap' || has(self.ldap)", message: 'ldap settings are required when type is ldap', fieldPath: '.ldap' },
      { rule: "self.type != 'postgres' || has(self.postgres)", message: 'postgres settings are required when type is postgres', fieldPath: '.postgres' },
      { rule: "self.type != 'scim' || has(self.scim)", message: 'scim settings are required when type is scim', fieldPath: '.scim' },
      { rule: "self.type != 'sqlite' || has(self.sqlite)", message: 'sqlite settings are required when type is sqlite', fieldPath: '.sqlite' },
      { rule: 'self.type == oldSelf.type', message: 'type is immutable' },
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
    .describe('Deprovisions (disables, deletes, revokes) made within the last resyncInterval: the deletion guard counts them, so its window survives restarts and leader changes.'),
});

export const connectedSystemResource = resource('ConnectedSystem', connectedSystemSpec, connectedSystemStatus);
export type ConnectedSystem = z.infer<typeof connectedSystemResource>;
export type ConnectedSystemSpec = z.infer<typeof connectedSystemSpec>;
