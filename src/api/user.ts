import { z } from 'zod';
import { baseStatus, resource, timestamp } from './common.ts';

export const USER_STATES = ['active', 'suspended', 'terminated'] as const;
export const EMPLOYEE_TYPES = ['employee', 'contractor', 'vendor', 'service'] as const;
export const ACCOUNT_STATES = ['present', 'disabled', 'absent', 'error'] as const;

export const userSpec = z
  .object({
    userName: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/, 'must be lowercase letters, digits, ".", "_" or "-", starting and ending with a letter or digit')
      .describe('Login name in every connected system. Immutable: accounts are keyed by it.')
      .meta({ 'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'userName is immutable' }] }),
    givenName: z.string().max(256).optional().describe('Given (first) name.'),
    familyName: z.string().max(256).optional().describe('Family (last) name.'),
    displayName: z.string().max(256).optional().describe('Full name as shown to people; defaults to "givenName familyName".'),
    email: z.email().max(254).optional().describe('Primary e-mail address.'),
    employeeId: z.string().max(64).optional().describe('Identifier in the HR system.'),
    department: z.string().max(256).optional().describe('Department or cost centre.'),
    title: z.string().max(256).optional().describe('Job title.'),
    manager: z.string().max(64).optional().describe('userName of the manager.'),
    employeeType: z.enum(EMPLOYEE_TYPES).default('employee').describe('employee, contractor, vendor or service.'),
    state: z
      .enum(USER_STATES)
      .default('active')
      .describe('active gets access; suspended and terminated lose it everywhere, per each system\'s deprovision policy.'),
    validFrom: timestamp('No access before this instant (a joiner\'s start date).').optional(),
    validUntil: timestamp('All access ends at this instant (a contractor\'s end date).').optional(),
    attributes: z
      .record(z.string(), z.string())
      .optional()
      .describe('Free attributes, mapped onto connected systems by their attribute mapping.'),
  })
  .meta({
    'x-kubernetes-validations': [
      {
        rule: '!has(self.validFrom) || !has(self.validUntil) || self.validFrom < self.validUntil',
        message: 'validFrom must be before validUntil',
        fieldPath: '.validUntil',
      },
    ],
  })
  .describe('One person or service identity.');

export const accountStatus = z.object({
  system: z.string().describe('Name of the ConnectedSystem.'),
  id: z.string().optional().describe('The account\'s identifier in that system (DN, role name, SCIM id, ...).'),
  state: z.enum(ACCOUNT_STATES).describe('present, disabled, absent or error.'),
  entitlements: z.array(z.string()).optional().describe('Entitlements applied in that system.'),
  lastSyncTime: timestamp('When the account was last confirmed in sync.').optional(),
  disabledAt: timestamp('When Rollcall disabled the account; disableThenDelete counts its retention from here.').optional(),
  message: z.string().optional().describe('The last error, for a person.'),
  adopted: z
    .enum(['legacyMarker', 'matchUserName', 'matchEmail'])
    .optional()
    .describe('Rollcall took this existing account over, and why: it carried the marker shared before markers named their system, or spec.adoption matched it.'),
  adoptedAt: timestamp('When Rollcall took the account over.').optional(),
});
export type AccountStatus = z.infer<typeof accountStatus>;

export const userStatus = z.object({
  ...baseStatus,
  systems: z.string().optional().describe('Systems in sync / systems that should hold an account, e.g. "2/3".'),
  accessEndsAt: timestamp('When this User\'s access ends, if it is time-boxed.').optional(),
  deprovisionStartedAt: timestamp('When the controller first saw this User suspended, terminated or deleted.').optional(),
  accounts: z.array(accountStatus).optional().describe('One entry per ConnectedSystem that holds or held an account.'),
});

export const userResource = resource('User', userSpec, userStatus);
export type User = z.infer<typeof userResource>;
export type UserSpec = z.infer<typeof userSpec>;
export type UserStatus = z.infer<typeof userStatus>;
