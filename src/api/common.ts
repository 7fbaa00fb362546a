// Building blocks shared by every kind: metadata, conditions, durations, references.
import { z } from 'zod';

export const GROUP = 'rollcall.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Held by a User (and a ConnectedSystem) until its accounts are deprovisioned (controllers/finalizer.ts). */
export const FINALIZER = `${GROUP}/deprovision`;

/** Go-style duration as Kubernetes users write it: 90s, 15m, 12h, 30d, 1h30m. */
export const DURATION_PATTERN = '^([0-9]+(ms|s|m|h|d))+$';
export const duration = (description: string) =>
  z.string().max(MAX_DURATION_LENGTH).regex(new RegExp(DURATION_PATTERN), 'must be a duration such as 30s, 15m, 12h or 7d').describe(description);

/** Longest duration text: bounds the cost the API server estimates for the CEL rule of minDuration. */
export const MAX_DURATION_LENGTH = 32;

/** Milliseconds per duration unit, as parseDuration (engine/duration.ts) reads them. */
export const DURATION_UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * CEL rule, on the object holding the duration field `key`: the duration is at least `floor` (e.g.
 * '1s'), checked by the API server (and the standalone loader, which runs the same CEL): a loop a
 * tenant may set (a feed read, a system listing) must not spin. CEL has no duration with days, so
 * the rule is a regular expression: one part of the duration alone reaches the floor (1m, 2h,
 * 1500ms; "500ms500ms" does not, though it adds up). On the object rather than the string, so the
 * refusal reads `Invalid value: "object"` like the other rules; `field` names the field.
 */
export const minDuration = (key: string, floor: keyof typeof DURATION_FLOORS, field: string) => ({
  rule: `!has(self.${key}) || self.${key}.matches('${reachesFloorPattern(DURATION_FLOORS[floor])}')`,
  message: `${field} must be at least ${floor}`,
  fieldPath: `.${key}`,
});

/** The floors in use, in milliseconds. */
export const DURATION_FLOORS = { '1s': 1_000, '1h': 3_600_000 } as const;

/** RE2 pattern: some part of a duration is, alone, at least `floorMs`. */
export function reachesFloorPattern(floorMs: number): string {
  const parts = Object.entries(DURATION_UNIT_MS).map(([unit, ms]) => {
    const number = atLeast(Math.ceil(floorMs / ms));
    // "m" must not be the start of "ms": a minute part ends the text or is followed by a digit.
    return unit === 'm' ? `${number}m([0-9]|$)` : `${number}${unit}`;
  });
  return `(^|[a-z])0*(${parts.join('|')})`;
}

/** RE2 alternatives for a decimal number without leading zeros that is at least n (n >= 1). */
function atLeast(n: number): string {
  const digits = String(n);
  const k = digits.length;
  const options = [`[1-9][0-9]{${k},}`, digits];
  for (let i = 0; i < k; i++) {
    const d = Number(digits[i]);
    if (d === 9) continue;
    const low = i === 0 ? Math.max(d + 1, 1) : d + 1;
    options.push(`${digits.slice(0, i)}[${low}-9]${k - i - 1 > 0 ? `[0-9]{${k - i - 1}}` : ''}`);
  }
  return `(${options.join('|')})`;
}

/** RFC 3339 timestamp; the API server checks the format too. */
export const timestamp = (description: string) => z.iso.datetime({ offset: true }).describe(description);

/** A DNS-1123 label: the names of Kubernetes objects that we refer to. */
export const objectName = (description: string) =>
  z
    .string()
    .min(1)
    .max(253)
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a lowercase DNS-1123 name')
    .describe(description);

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
