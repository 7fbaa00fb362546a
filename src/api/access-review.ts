import { z } from 'zod';
import { baseStatus, duration, labelSelector, minDuration, objectName, resource, timestamp } from './common.ts';

export const reviewDecision = z.enum(['keep', 'revoke']).describe('keep certifies the access; revoke removes it.');

export const accessReviewSpec = z
  .object({
    scope: z
      .object({
        roles: z.array(objectName('Name of an AccessRole.')).optional().describe('Review grants of these roles (default: every role).'),
        systems: z.array(objectName('Name of a ConnectedSystem.')).optional().describe('Review grants that reach these systems (default: every system).'),
        userSelector: labelSelector.optional().describe('Review these Users (default: every User of the namespace).'),
      })
      .default({})
      .describe('Which access is reviewed: every grant in force when the review was created that matches all given fields.'),
    reviewers: z
      .array(z.string().min(1).max(256))
      .min(1)
      .describe('Kubernetes user names who may decide; each also needs the RBAC verb approve on accessreviews.'),
    dueDate: timestamp('When undecided items get defaultDecision.'),
    defaultDecision: reviewDecision.default('keep').describe('What happens at dueDate to an item nobody decided.'),
    schedule: duration(
      'Recurring campaigns: the next review is due this long after this one (at least 1h); missed periods are skipped, not created.',
    ).optional(),
    decisions: z
      .array(
        z.object({
          user: objectName('The User whose access is decided.'),
          binding: objectName('The AccessBinding that grants it.'),
          decision: reviewDecision,
          decidedBy: z.string().min(1).max(256).describe('The reviewer: their own Kubernetes user name (the admission policy checks it).'),
          comment: z.string().max(1024).optional().describe('Why, for the audit.'),
        }),
      )
      .optional()
      .describe('Decisions, appended by reviewers through the API server; never changed or removed.'),
  })
  .meta({ 'x-kubernetes-validations': [minDuration('schedule', '1h', 'spec.schedule')] })
  .describe('An access-review campaign: reviewers certify or revoke access in scope by the due date.');

export const accessReviewStatus = z.object({
  ...baseStatus,
  phase: z.enum(['Open', 'Completed']).optional().describe('Open until the due date; Completed after it (kept as a record).'),
  items: z
    .array(
      z.object({
        user: z.string().describe('The User.'),
        binding: z.string().describe('The AccessBinding granting the access.'),
        role: z.string().describe('The AccessRole granted.'),
        grantedAt: z.string().optional().describe('When the binding was created (or its validFrom).'),
        grantedBy: z.string().optional().describe('Who approved it, else who requested it.'),
        how: z.enum(['name', 'selector']).optional().describe('Whether the binding names the User or selects it by label.'),
        decision: reviewDecision.optional(),
        decidedBy: z.string().optional().describe('The reviewer, or "default" when the due date decided.'),
        decidedAt: z.string().optional().describe('When Rollcall first saw the decision.'),
      }),
    )
    .optional()
    .describe('The access under review and what was decided.'),
  completedAt: timestamp('When the review completed.').optional(),
  nextReview: z.string().optional().describe('The next campaign created by schedule.'),
});
export const accessReviewResource = resource('AccessReview', accessReviewSpec, accessReviewStatus);
export type AccessReview = z.infer<typeof accessReviewResource>;
