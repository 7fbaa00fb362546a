import { z } from 'zod';
import { baseStatus, labelSelector, objectName, resource, timestamp } from './common.ts';

export const accessBindingSpec = z
  .object({
    role: objectName('Name of the AccessRole granted.'),
    users: z.array(objectName('Name of a User in the same namespace.')).optional().describe('Users granted the role by name.'),
    userSelector: labelSelector.optional().describe('Users granted the role by label.'),
    validFrom: timestamp('The grant starts at this instant.').optional(),
    validUntil: timestamp('The grant ends at this instant (temporary access).').optional(),
    reason: z.string().max(1024).optional().describe('Why the access is granted, for the audit.'),
    ticket: z.string().max(256).optional().describe('Change or request ticket.'),
    approval: z
      .object({
        approvedBy: z.string().min(1).describe('Who approved.'),
        approvedAt: timestamp('When it was approved.').optional(),
      })
      .optional()
      .describe('Approval, required when the role has requiresApproval.'),
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
});
export const accessBindingResource = resource('AccessBinding', accessBindingSpec, accessBindingStatus);
export type AccessBinding = z.infer<typeof accessBindingResource>;
