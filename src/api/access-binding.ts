import { z } from 'zod';
import { baseStatus, labelSelector, objectName, resource, timestamp } from './common.ts';

/** What an approval approved: a copy of the binding's fields that decide who gets what, when. */
export const approvalScope = z
  .object({
    role: objectName('The role approved.'),
    users: z.array(objectName('A User approved by name.')).optional().describe('The users approved.'),
    userSelector: labelSelector.optional().describe('The selector approved.'),
    validFrom: timestamp('The start approved.').optional(),
    validUntil: timestamp('The end approved.').optional(),
  })
  .describe('What was approved: role, users, userSelector, validFrom and validUntil as they were when approved.');

export const accessBindingSpec = z
  .object({
    role: objectName('Name of the AccessRole granted.'),
    users: z.array(objectName('Name of a User in the same namespace.')).optional().describe('Users granted the role by name.'),
    userSelector: labelSelector.optional().describe('Users granted the role by label.'),
    validFrom: timestamp('The grant starts at this instant.').optional(),
    validUntil: timestamp('The grant ends at this instant (temporary access).').optional(),
    reason: z.string().max(1024).optional().describe('Why the access is granted, for the audit.'),
    ticket: z.string().max(256).optional().describe('Change or request ticket.'),
    requestedBy: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .describe(
        'Who asked for the access: set on create to your own Kubernetes user name (the admission policy checks it against the request) and never changed. Required on create when the role has requiresApproval; a binding without it cannot be approved.',
      ),
    approval: z
      .object({
        approvedBy: z.string().min(1).max(256).describe('Who approved: the approver\'s own Kubernetes user name, who holds the RBAC verb approve on accessbindings.'),
        approvedAt: timestamp('When it was approved.').optional(),
        scope: approvalScope,
      })
      .optional()
      .describe(
        'Approval, required when the role has requiresApproval. It is void once role, users, userSelector, validFrom or validUntil differ from its scope.',
      ),
  })
  .meta({
    'x-kubernetes-validations': [
      { rule: 'has(self.users) || has(self.userSelector)', message: 'users or userSelector is required' },
      {
        rule: '!has(self.validFrom) || !has(self.validUntil) || self.validFrom < self.validUntil',
        message: 'validFrom must be before validUntil',
        fieldPath: '.validUntil',
      },
    ],
  })
  .describe('Grants one AccessRole to Users.');

export const accessBindingStatus = z.object({
  ...baseStatus,
  subjects: z.number().int().optional().describe('Users this binding currently matches.'),
  accessEndsAt: timestamp('When the grant ends, after any maxDuration cap.').optional(),
  approval: z
    .object({
      state: z.enum(['NotRequired', 'Pending', 'Granted', 'Voided']).describe('Granted: in force; Voided: the binding changed after it was approved.'),
      approvedBy: z.string().optional().describe('Who approved.'),
      approvedAt: timestamp('When Rollcall first saw the approval.').optional(),
      message: z.string().optional().describe('Why, in words.'),
    })
    .optional()
    .describe('Whether the approval the role requires is in force.'),
});
export const accessBindingResource = resource('AccessBinding', accessBindingSpec, accessBindingStatus);
export type AccessBinding = z.infer<typeof accessBindingResource>;
