import { z } from 'zod';
import { DIGEST_PATTERN } from './digest.ts';
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
        approvedBy: z
          .string()
          .min(1)
          .max(256)
          .describe("Who approved: the approver's own Kubernetes user name, who holds the RBAC verb approve on accessbindings."),
        approvedAt: timestamp('When it was approved.').optional(),
        scope: approvalScope,
        digest: z
          .string()
          .regex(DIGEST_PATTERN, 'must be sha256: followed by 64 lower-case hex digits')
          .optional()
          .describe(
            "sha256 of the content approved: the role's entitlements (includes flattened) and maxDuration, validFrom and validUntil, and the selected Users' names, uids and userNames (kubectl rollcall approve computes it from what it shows). Required: an approval whose digest differs from the content now is void.",
          ),
      })
      .optional()
      .describe(
        'Approval, required when the role has requiresApproval. It is void once role, users, userSelector, validFrom or validUntil differ from its scope, or the content (role entitlements, maxDuration, selected Users) differs from its digest.',
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

/** What Rollcall recorded as approved, to name what changed when the content no longer matches. */
export const approvedContent = z
  .object({
    role: objectName('The role approved.'),
    entitlements: z.array(z.string()).describe('system:entitlement, the role and its includes flattened, sorted.'),
    maxDuration: z.string().optional().describe('The shortest maxDuration over the role and its includes.'),
    validFrom: z.string().optional(),
    validUntil: z.string().optional(),
    users: z
      .array(z.object({ name: z.string(), uid: z.string().optional(), userName: z.string() }))
      .describe('The Users selected when approved, by name, uid and userName.'),
  })
  .describe('The content the approval pinned, as recorded when it came into force.');

export const accessBindingStatus = z.object({
  ...baseStatus,
  subjects: z.number().int().optional().describe('Users this binding currently matches.'),
  accessEndsAt: timestamp('When the grant ends, after any maxDuration cap.').optional(),
  approval: z
    .object({
      state: z
        .enum(['NotRequired', 'Pending', 'Granted', 'Voided'])
        .describe('Granted: in force; Voided: the binding or its content changed after it was approved.'),
      approvedBy: z.string().optional().describe('Who approved.'),
      approvedAt: timestamp('When Rollcall first saw the approval.').optional(),
      message: z.string().optional().describe('Why, in words.'),
      digest: z.string().optional().describe('The digest of the content approved (spec.approval.digest), recorded when the approval came into force.'),
      content: approvedContent.optional(),
    })
    .optional()
    .describe('Whether the approval the role requires is in force.'),
});
export const accessBindingResource = resource('AccessBinding', accessBindingSpec, accessBindingStatus);
export type AccessBinding = z.infer<typeof accessBindingResource>;
