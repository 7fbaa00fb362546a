import { z } from 'zod';
import { ldapConnectionFields, ldapPlaintextRule, ldapUrlWithoutUserinfo } from './ldap-connection.ts';
import { MAX_URL_LENGTH, baseStatus, duration, minDuration, noUserinfo, objectName, resource, secretRef, timestamp } from './common.ts';

export const SOURCE_TYPES = ['csv', 'json', 'ldap', 'scim'] as const;
export type SourceType = (typeof SOURCE_TYPES)[number];
export const MISSING_POLICIES = ['terminate', 'suspend', 'ignore'] as const;

/** The User fields a mapping may set; `labels/<key>` and `attributes/<key>` name one label or attribute. */
export const MAPPABLE_USER_FIELDS = [
  'userName',
  'givenName',
  'familyName',
  'displayName',
  'email',
  'employeeId',
  'department',
  'title',
  'manager',
  'employeeType',
  'validFrom',
  'validUntil',
] as const;
export const MAPPING_TARGET_PATTERN = `^(${MAPPABLE_USER_FIELDS.join('|')}|labels/[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?|attributes/[A-Za-z0-9_.-]+)$`;

const fieldName = (description: string) => z.string().min(1).max(128).describe(description);

export const TRANSFORM_OPS = ['lower', 'upper', 'trim', 'default', 'concat', 'split', 'regexReplace', 'date', 'lookup'] as const;
export const DATE_FORMATS = ['iso', 'yyyy-mm-dd', 'dd.mm.yyyy', 'dd/mm/yyyy', 'mm/dd/yyyy'] as const;

/**
 * A small, closed set of value transforms: data, never code. One flat object (a structural schema
 * has no tagged unions); which fields an op needs is a CEL rule.
 */
export const sourceTransform = z
  .object({
    op: z.enum(TRANSFORM_OPS).describe('lower, upper, trim, default, concat, split, regexReplace, date or lookup.'),
    value: z.string().max(256).optional().describe('default: used when the value is empty.'),
    fields: z.array(fieldName('A record field.')).min(1).max(8).optional().describe('concat: record fields appended to the value, empty ones skipped.'),
    separator: z.string().max(8).optional().describe('concat: put between the parts (default a space); split: where to split.'),
    index: z.number().int().min(0).max(63).optional().describe('split: which part to keep (default 0, the first).'),
    pattern: z
      .string()
      .max(200)
      .optional()
      .describe(
        'regexReplace: a regular expression in RE2 syntax (linear time: no backreferences or lookaround), at most 200 characters; every match is replaced.',
      ),
    replacement: z.string().max(256).optional().describe('regexReplace: the replacement (default empty); $1 names a group.'),
    format: z.enum(DATE_FORMATS).optional().describe('date: how the record writes the date (default iso).'),
    timeZone: z.string().min(1).max(64).optional().describe('date: IANA time zone of a date without an offset, e.g. Europe/Berlin (default UTC).'),
    endOfDay: z.boolean().optional().describe('date: a date without a time means the end of that day (a last working day), not its start.'),
    table: z.record(z.string(), z.string()).optional().describe('lookup: value to replacement.'),
    default: z.string().max(256).optional().describe('lookup: for a value not in the table; without it such a record is rejected.'),
  })
  .meta({
    'x-kubernetes-validations': [
      {
        rule: "(self.op != 'default' || has(self.value)) && (self.op != 'concat' || has(self.fields)) && (self.op != 'split' || has(self.separator)) && (self.op != 'regexReplace' || has(self.pattern)) && (self.op != 'lookup' || has(self.table))",
        message: 'default needs value, concat needs fields, split needs separator, regexReplace needs pattern, lookup needs table',
      },
      {
        // What RE2 (the linear-time engine the pattern runs on) refuses, caught at admission; the
        // controller compiles it again and names the field (sources/map.ts specProblems).
        rule: String.raw`!has(self.pattern) || !self.pattern.matches(r'\\[1-9]|\\k<|[(][?]<?[=!]')`,
        message: 'pattern uses RE2 syntax: no backreferences (\\1, \\k<name>) or lookaround ((?=, (?!, (?<=, (?<!)',
        fieldPath: '.pattern',
      },
    ],
  })
  .describe('One step applied to the value.');
export type SourceTransform = z.infer<typeof sourceTransform>;

export const sourceMapping = z
  .object({
    to: z
      .string()
      .regex(new RegExp(MAPPING_TARGET_PATTERN), 'must be a User spec field, labels/<key> or attributes/<key>')
      .describe('User field (userName, email, ...), labels/<key> or attributes/<key>.'),
    from: fieldName('The record field the value comes from.').optional(),
    value: z.string().max(256).optional().describe('A constant value instead of a record field.'),
    transforms: z.array(sourceTransform).max(8).optional().describe('Applied in order.'),
    required: z.boolean().default(false).describe('Reject the record when the value ends up empty.'),
  })
  .meta({ 'x-kubernetes-validations': [{ rule: 'has(self.from) || has(self.value)', message: 'from or value is required' }] })
  .describe('Where one User field comes from.');
export type SourceMapping = z.infer<typeof sourceMapping>;

export const identitySourceSpec = z
  .object({
    type: z.enum(SOURCE_TYPES).describe('csv or json (a ConfigMap or a URL), ldap (a directory search) or scim (Rollcall serves SCIM 2.0).'),
    configMapRef: z
      .object({ name: objectName('ConfigMap name.'), key: z.string().min(1).describe('Key holding the feed.') })
      .optional()
      .describe('The feed in a ConfigMap of this namespace, for csv and json.'),
    url: z
      .url({ protocol: /^https?$/ })
      .max(MAX_URL_LENGTH)
      .optional()
      .describe('The feed over HTTP(S), for csv and json; read with a conditional GET (ETag, Last-Modified).'),
    insecure: z
      .boolean()
      .default(false)
      .describe(
        'Allow a plaintext http:// url (with credentials, they cross the network in clear); the credentials Secret must consent with rollcall.dev/allow-insecure: "true".',
      ),
    allowPrivateNetwork: z
      .boolean()
      .default(false)
      .describe(
        'Allow reading from a loopback, link-local or cluster-internal address (url, ldap.url; refused by default, redirects included). Only the host named in the spec: a redirect to another host is refused such an address all the same. Shown as the condition PrivateNetwork.',
      ),
    jsonPath: z.string().max(128).optional().describe('For json: dot-separated path to the array of records (default: the document is the array).'),
    credentialsSecretRef: secretRef
      .optional()
      .describe(
        'Secret labelled rollcall.dev/credentials: "true": token (bearer) or username/password for url; bindDN/password for ldap; token for scim. ' +
          'Its annotation rollcall.dev/allowed-hosts: "host,host:port,*.domain" pins where url or ldap.url may send them.',
      ),
    ldap: z
      .object({
        ...ldapConnectionFields('spec.ldap.insecure'),
        baseDN: z.string().min(1).describe('Where the search starts.'),
        filter: z.string().min(1).default('(objectClass=inetOrgPerson)').describe('Search filter for the people.'),
        insecure: z
          .boolean()
          .default(false)
          .describe(
            'Allow plaintext ldap:// without startTLS (credentials cross the network in clear); the credentials Secret must consent with rollcall.dev/allow-insecure: "true".',
          ),
        pageSize: z.number().int().min(1).max(5000).default(500).describe('Entries per page of the paged search.'),
      })
      .meta({ 'x-kubernetes-validations': [ldapUrlWithoutUserinfo] })
      .optional()
      .describe('The directory, for type ldap.'),
    idField: fieldName("The record's stable identifier; becomes the User's name (lowercased).").optional(),
    mapping: z.array(sourceMapping).max(100).default([]).describe('User fields from record fields; userName defaults to the User name.'),
    missingPolicy: z.enum(MISSING_POLICIES).default('terminate').describe('What happens to a User of this source that vanishes from the feed.'),
    terminationField: z
      .object({
        field: fieldName('The record field.'),
        values: z
          .array(z.string())
          .min(1)
          .default(['true', '1', 'terminated', 'inactive'])
          .describe('Values (case-insensitive) that mean the person has left.'),
      })
      .optional()
      .describe('A record field that marks a leaver still present in the feed.'),
    terminationDate: z
      .object({
        field: fieldName('The record field.'),
        format: z.enum(DATE_FORMATS).default('iso').describe('How the record writes the date.'),
        timeZone: z.string().min(1).max(64).default('UTC').describe('IANA time zone of a date without an offset.'),
      })
      .optional()
      .describe('A leaving date: in the future it becomes validUntil (honoured to the second); passed, the User is terminated.'),
    interval: duration('How often the feed is read (at least 1s).').default('15m'),
    changeGuard: z
      .object({
        maxPercent: z.number().int().min(0).max(100).default(10).describe('Most Users of this source one read may terminate or suspend, as a percentage.'),
        maxCount: z.number().int().min(0).default(5).describe('Most Users one read may terminate or suspend.'),
      })
      .default({ maxPercent: 10, maxCount: 5 })
      .describe('Holds every termination of a read that would terminate or suspend more than both limits until a person approves.'),
  })
  .meta({
    'x-kubernetes-validations': [
      {
        rule: "(self.type != 'csv' && self.type != 'json') || has(self.configMapRef) || has(self.url)",
        message: 'configMapRef or url is required when type is csv or json',
      },
      { rule: '!has(self.configMapRef) || !has(self.url)', message: 'configMapRef and url are mutually exclusive', fieldPath: '.url' },
      { rule: "self.type != 'ldap' || has(self.ldap)", message: 'ldap settings are required when type is ldap', fieldPath: '.ldap' },
      {
        rule: "self.type != 'scim' || has(self.credentialsSecretRef)",
        message: 'credentialsSecretRef is required when type is scim',
        fieldPath: '.credentialsSecretRef',
      },
      { rule: "self.type == 'scim' || has(self.idField)", message: 'idField is required when type is csv, json or ldap', fieldPath: '.idField' },
      noUserinfo('url', 'spec.url'),
      ldapPlaintextRule('self.ldap.insecure'),
      minDuration('interval', '1s', 'spec.interval'),
      {
        rule: "!has(self.url) || !has(self.credentialsSecretRef) || self.url.matches('^[hH][tT][tT][pP][sS]://') || (has(self.insecure) && self.insecure)",
        message: 'spec.url is plaintext http:// and spec.credentialsSecretRef sends credentials: use https:// or set spec.insecure: true',
        fieldPath: '.url',
      },
    ],
  })
  .describe('An authoritative HR feed or directory mapped onto Users.');
export type IdentitySourceSpec = z.infer<typeof identitySourceSpec>;

export const rejectedRecord = z.object({
  record: z.string().describe('Which record: its id, or its line or index in the feed.'),
  field: z.string().optional().describe('The field at fault.'),
  reason: z.string().describe('Why it was rejected.'),
});
export type RejectedRecord = z.infer<typeof rejectedRecord>;

export const identitySourceStatus = z.object({
  ...baseStatus,
  lastSyncTime: timestamp('When the feed was last read and applied.').optional(),
  users: z.number().int().optional().describe('Users this source manages.'),
  created: z.number().int().optional().describe('Users the last sync created.'),
  updated: z.number().int().optional().describe('Users the last sync updated.'),
  terminated: z.number().int().optional().describe('Users the last sync terminated or suspended.'),
  unchanged: z.number().int().optional().describe('Users the last sync left as they were.'),
  rejected: z.number().int().optional().describe('Records the last sync rejected.'),
  rejectedRecords: z.array(rejectedRecord).optional().describe('The first rejected records, with the field and reason.'),
  pendingChanges: z.number().int().optional().describe('Terminations and suspensions the change guard holds; approve with rollcall.dev/approve-changes.'),
});
export const identitySourceResource = resource('IdentitySource', identitySourceSpec, identitySourceStatus);
export type IdentitySource = z.infer<typeof identitySourceResource>;
