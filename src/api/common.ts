// Building blocks shared by every kind: metadata, conditions, durations, references.
import { z } from 'zod';

export const GROUP = 'rollcall.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Go-style duration as Kubernetes users write it: 90s, 15m, 12h, 30d, 1h30m. */
export const DURATION_PATTERN = '^([0-9]+(ms|s|m|h|d))+$';
export const duration = (description: string) =>
  z.string().regex(new RegExp(DURATION_PATTERN), 'must be a duration such as 30s, 15m, 12h or 7d').describe(description);

/** RFC 3339 timestamp; the API server checks the format too. */
export const timestamp = (description: string) => z.iso.datetime({ offset: true }).describe(description);

/** A DNS-1123 label: the names of Kubernetes objects that we refer to. */
export const objectName = (description: string) =>
  z.string().min(1).max(253).regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a lowercase DNS-1123 name').describe(description);

export const secretRef = z
  .object({
    name: objectName('Name of a Secret in the same namespace.'),
  })
  .describe('Reference to a Secret in the same namespace. Credentials live only there.');

/**
 * CEL rule, on the object holding the URL field `key`: no `user:password@` in it. A URL is shown in
 * status, Events and logs; credentials belong in a Secret. Attached to the object rather than the
 * string, so the API server's refusal says `Invalid value: "object"` instead of echoing the
 * password. `field` names the field in the message.
 */
export const noUserinfo = (key: string, field: string) => ({
  rule: `!has(self.${key}) || !self.${key}.matches('^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*@')`,
  message: `${field} must not contain user:password@: put credentials in the Secret named by credentialsSecretRef`,
  fieldPath: `.${key}`,
});

/** Longest URL accepted: bounds the cost the API server estimates for the CEL rules on it. */
export const MAX_URL_LENGTH = 2048;

export const condition = z.object({
  type: z.string().describe('Condition type, e.g. Ready, Connected, DeletionGuardTripped.'),
  status: z.enum(['True', 'False', 'Unknown']).describe('True, False or Unknown.'),
  reason: z.string().describe('One CamelCase word that machines can match on.'),
  message: z.string().describe('What happened and what to do next, for a person.'),
  lastTransitionTime: timestamp('When status last changed.'),
  observedGeneration: z.number().int().optional().describe('The metadata.generation this condition was computed from.'),
});
export type Condition = z.infer<typeof condition>;

export const conditions = z.array(condition).optional().describe('Standard Kubernetes conditions.');

export const labelSelector = z
  .object({
    matchLabels: z.record(z.string(), z.string()).optional().describe('Labels that must all match exactly.'),
    matchExpressions: z
      .array(
        z.object({
          key: z.string().describe('Label key.'),
          operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']).describe('In, NotIn, Exists or DoesNotExist.'),
          values: z.array(z.string()).optional().describe('Values for In and NotIn.'),
        }),
      )
      .optional()
      .describe('Set-based requirements, all of which must match.'),
  })
  .describe('A standard Kubernetes label selector over Users.');
export type LabelSelector = z.infer<typeof labelSelector>;

export const objectMeta = z
  .object({
    name: z.string().min(1),
    namespace: z.string().optional(),
    uid: z.string().optional(),
    generation: z.number().int().optional(),
    resourceVersion: z.string().optional(),
    creationTimestamp: z.string().optional(),
    deletionTimestamp: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
    finalizers: z.array(z.string()).optional(),
  })
  .loose();
export type ObjectMeta = z.infer<typeof objectMeta>;

/** The envelope every kind shares: apiVersion, kind, metadata, spec, status. */
export function resource<K extends string, S extends z.ZodType, T extends z.ZodType>(kind: K, spec: S, status: T) {
  return z.object({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal(kind),
    metadata: objectMeta,
    spec,
    status: status.optional(),
  });
}

/** Fields that every status has. */
export const baseStatus = {
  observedGeneration: z.number().int().optional().describe('The metadata.generation the controller last acted on.'),
  conditions,
};
