import { z } from 'zod';
import { baseStatus, duration, objectName, resource, secretRef, timestamp } from './common.ts';

export const identitySourceSpec = z
  .object({
    type: z.enum(['configMap', 'http', 'scim']).describe('configMap (CSV or JSON in a ConfigMap), http (a URL) or scim (inbound SCIM).'),
    format: z.enum(['csv', 'json']).default('csv').describe('Format of the feed.'),
    configMapRef: z
      .object({ name: objectName('ConfigMap name.'), key: z.string().min(1).describe('Key holding the feed.') })
      .optional()
      .describe('Where the feed is, for type configMap.'),
    url: z.url().optional().describe('Where the feed is, for type http.'),
    credentialsSecretRef: secretRef.optional().describe('Secret with a bearer token (key token) for type http or scim.'),
    mapping: z
      .record(z.string(), z.string())
      .default({})
      .describe('User spec field to feed column, e.g. userName: login, email: mail. Unmapped fields are left alone.'),
    terminateMissing: z.boolean().default(true).describe('Terminate Users of this source that vanish from the feed.'),
    interval: duration('How often the feed is read.').default('15m'),
    changeGuard: z
      .object({
        maxPercent: z.number().int().min(0).max(100).optional().describe('Most Users one read may change, as a percentage.'),
        maxCount: z.number().int().min(0).optional().describe('Most Users one read may change.'),
      })
      .optional()
      .describe('Stops a read that would change too many Users until a person approves it.'),
  })
  .meta({
    'x-kubernetes-validations': [
      { rule: "self.type != 'configMap' || has(self.configMapRef)", message: 'configMapRef is required when type is configMap', fieldPath: '.configMapRef' },
      { rule: "self.type != 'http' || has(self.url)", message: 'url is required when type is http', fieldPath: '.url' },
    ],
  })
  .describe('An authoritative HR feed mapped onto Users.');

export const identitySourceStatus = z.object({
  ...baseStatus,
  lastSyncTime: timestamp('When the feed was last read.').optional(),
  users: z.number().int().optional().describe('Users this source manages.'),
});
export const identitySourceResource = resource('IdentitySource', identitySourceSpec, identitySourceStatus);
export type IdentitySource = z.infer<typeof identitySourceResource>;
