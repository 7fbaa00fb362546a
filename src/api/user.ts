import { z } from 'zod';
import { baseStatus, resource, timestamp } from './common.ts';

export const USER_STATES = ['active', 'suspended', 'terminated'] as const;
/** What a User is now, spec and dates together: expired past validUntil, pending before validFrom, deleting once deleted. */
export const EFFECTIVE_USER_STATES = [...USER_STATES, 'expired', 'pending', 'deleting'] as const;
export type EffectiveUserState = (typeof EFFECTIVE_USER_STATES)[number];
export const EMPLOYEE_TYPES = ['employee', 'contractor', 'vendor', 'service'] as const;
export const ACCOUNT_STATES = ['present', 'disabled', 'absent', 'error'] as const;

/** No control characters: a line break, tab or NUL in a name or an attribute breaks LDAP entries and SQL strings. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NO_CONTROL = /^[^\x00-\x1f\x7f]*$/; // \x escapes: RE2 (the API server) reads them as JavaScript does
const text = (max: number) => z.string().max(max).regex(NO_CONTROL, 'must not contain control characters (line breaks, tabs, NUL)');

/**
 * The typed fields' limits. spec.attributes may carry the same names (a typed field, when absent,
 * is taken from there), so the same limits apply to them: one validation path, checked by the API server.
 */
const TYPED_LIMITS = { givenName: 256, familyName: 256, displayName: 256, email: 254, employeeId: 64, department: 256, title: 256, manager: 64 } as const;
const ATTRIBUTE_VALUE_MAX = 1024;
const ATTRIBUTES_MAX = 64;

function attributeRules(): Array<{ rule: string; message: string; fieldPath: string }> {
  const has = (name: string) => `!has(self.attributes) || !('${name}' in self.attributes)`;
  const limits = `{${Object.entries(TYPED_LIMITS)
    .map(([name, max]) => `'${name}': ${max}`)
    .join(', ')}}`;
  const byLimit = Object.entries(TYPED_LIMITS)
    .map(([name, max]) => `${name} ${max}`)
    .join(', ');
  return [
    {
      rule: "!has(self.attributes) || self.attributes.all(k, k.matches('^[A-Za-z][A-Za-z0-9._-]{0,63}$'))",
      message: 'attribute names are letters, digits, ".", "_" or "-", start with a letter, and have at most 64 characters',
      fieldPath: '.attributes',
    },
    {
      rule: `!has(self.attributes) || self.attributes.all(k, !(k in ${limits}) || size(self.attributes[k]) <= ${limits}[k])`,
      message: `an attribute named like a typed field has that field's length limit: ${byLimit}`,
      fieldPath: '.attributes',
    },
    {
      rule: `${has('email')} || self.attributes['email'].matches('^[^@ ]+@[^@ ]+[.][^@ ]+$')`,
      message: 'attributes.email must be an e-mail address, like spec.email',
      fieldPath: '.attributes',
    },
    {
      rule: `${has('employeeType')} || self.attributes['employeeType'] in ${JSON.stringify([...EMPLOYEE_TYPES])}`,
      message: `attributes.employeeType must be one of ${EMPLOYEE_TYPES.join(', ')}, like spec.employeeType`,
      fieldPath: '.attributes',
    },
  ];
}

export const userSpec = z
  .object({
    userName: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/, 'must be lowercase letters, digits, ".", "_" or "-", starting and ending with a letter or digit')
      .describe('Login name in every connected system. Immutable: accounts are keyed by it.')
      .meta({ 'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'userName is immutable' }] }),
    givenName: text(TYPED_LIMITS.givenName).optional().describe('Given (first) name.'),
    familyName: text(TYPED_LIMITS.familyName).optional().describe('Family (last) name.'),
    displayName: text(TYPED_LIMITS.displayName).optional().describe('Full name as shown to people; defaults to "givenName familyName".'),
    email: z.email().max(TYPED_LIMITS.email).optional().describe('Primary e-mail address.'),
    employeeId: text(TYPED_LIMITS.employeeId).optional().describe('Identifier in the HR system.'),
    department: text(TYPED_LIMITS.department).optional().describe('Department or cost centre.'),
    title: text(TYPED_LIMITS.title).optional().describe('Job title.'),
    manager: text(TYPED_LIMITS.manager).optional().describe('userName of the manager.'),
    employeeType: z.enum(EMPLOYEE_TYPES).default('employee').describe('employee, contractor, vendor or service.'),
    state: z
      .enum(USER_STATES)
      .default('active')
      .describe("active gets access; suspended and terminated lose it everywhere, per each system's deprovision policy."),
    validFrom: timestamp("No access before this instant (a joiner's start date).").optional(),
    validUntil: timestamp("All access ends at this instant (a contractor's end date).").optional(),
    attributes: z
      .record(z.string(), text(ATTRIBUTE_VALUE_MAX))
      .meta({ maxProperties: ATTRIBUTES_MAX })
      .optional()
      .describe(
        `Free attributes, mapped onto connected systems by their attribute mapping: at most ${ATTRIBUTES_MAX}, values of at most ${ATTRIBUTE_VALUE_MAX} characters without control characters. A name that is also a typed field (displayName, email, ...) obeys that field's limits.`,
      ),
  })
  .meta({
    'x-kubernetes-validations': [
      {
        rule: '!has(self.validFrom) || !has(self.validUntil) || self.validFrom < self.validUntil',
        message: 'validFrom must be before validUntil',
        fieldPath: '.validUntil',
      },
      ...attributeRules(),
    ],
  })
  .describe('One person or service identity.');

export const accountStatus = z.object({
  system: z.string().describe('Name of the ConnectedSystem.'),
  id: z.string().optional().describe("The account's identifier in that system (DN, role name, SCIM id, ...)."),
  state: z.enum(ACCOUNT_STATES).describe('present, disabled, absent or error.'),
  entitlements: z.array(z.string()).optional().describe('Entitlements applied in that system.'),
  lastSyncTime: timestamp('When the account was last confirmed in sync.').optional(),
  disabledAt: timestamp('When Rollcall disabled the account; disableThenDelete counts its retention from here.').optional(),
  message: z.string().optional().describe('The last error, for a person.'),
  adopted: z
    .enum(['legacyMarker', 'matchUserName', 'matchEmail'])
    .optional()
    .describe(
      'Rollcall took this existing account over, and why: it carried the marker shared before markers named their system, or spec.adoption matched it.',
    ),
  adoptedAt: timestamp('When Rollcall took the account over.').optional(),
  initialPassword: z
    .object({
      secretName: z.string().describe('The Secret in this namespace, labelled rollcall.dev/initial-password-for, that holds the first password.'),
      expiresAt: timestamp('When the Secret is deleted (spec.credentials.ttl of the system).'),
    })
    .optional()
    .describe(
      'A first password was delivered for this account (spec.credentials.policy initialPassword): where, and until when. The password itself is never in status.',
    ),
});
export type AccountStatus = z.infer<typeof accountStatus>;

export const userStatus = z.object({
  ...baseStatus,
  state: z
    .enum(EFFECTIVE_USER_STATES)
    .optional()
    .describe('The state in effect, as kubectl get shows it: spec.state, or expired once validUntil passed, pending before validFrom, deleting once deleted.'),
  systems: z.string().optional().describe('Systems in sync / systems that should hold an account, e.g. "2/3".'),
  accessEndsAt: timestamp("When this User's access ends, if it is time-boxed.").optional(),
  deprovisionStartedAt: timestamp('When the controller first saw this User suspended, terminated or deleted.').optional(),
  retainedUntil: timestamp(
    'A deleted User under disableThenDelete: its accounts are disabled, and deleted at this instant (the latest retention end) by their systems, which keep the record (ConnectedSystem status.retainedAccounts) once the User is gone.',
  ).optional(),
  accounts: z.array(accountStatus).optional().describe('One entry per ConnectedSystem that holds or held an account.'),
});

export const userResource = resource('User', userSpec, userStatus);
export type User = z.infer<typeof userResource>;
export type UserSpec = z.infer<typeof userSpec>;
export type UserStatus = z.infer<typeof userStatus>;
