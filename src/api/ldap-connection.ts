// How Rollcall reaches a directory, the same for a ConnectedSystem's and an IdentitySource's spec.ldap:
// both open their sessions through one piece of code (connectors/ldap/open-session.ts), so they take
// the same fields, are held to the same plaintext rule, and trust a CA the same way.
import { z } from 'zod';
import { MAX_URL_LENGTH, noUserinfo, secretRef } from './common.ts';

/**
 * The fields spec.ldap shares. `insecureField` names where the object allows plaintext
 * (spec.insecure on a ConnectedSystem, spec.ldap.insecure on an IdentitySource).
 */
export function ldapConnectionFields(insecureField: string) {
  return {
    url: z
      .string()
      .max(MAX_URL_LENGTH)
      .regex(/^ldaps?:\/\//, 'must start with ldap:// or ldaps://')
      .describe(`ldaps://host:636, or ldap://host:389 with startTLS (plain ldap:// needs ${insecureField}).`),
    startTLS: z.boolean().default(false).describe('Upgrade an ldap:// connection with StartTLS.'),
    caSecretRef: secretRef
      .optional()
      .describe(
        'Secret whose key ca.crt holds the CA to trust; only that key is read, so it needs no opt-in label. A ca.crt key in the credentials Secret works too. ' +
          "Without either, the system's CAs are trusted.",
      ),
  };
}

/** CEL rule on spec.ldap: no user:password@ in its url. */
export const ldapUrlWithoutUserinfo = noUserinfo('url', 'spec.ldap.url');

/**
 * CEL rule on the spec: ldap:// only with StartTLS or the object's consent to plaintext, at the
 * CEL path `insecure` (self.insecure, self.ldap.insecure). ldapPlaintext says the same in TypeScript.
 */
export function ldapPlaintextRule(insecure: 'self.insecure' | 'self.ldap.insecure') {
  return {
    rule: `!has(self.ldap) || self.ldap.url.startsWith('ldaps://') || (has(self.ldap.startTLS) && self.ldap.startTLS) || (has(${insecure}) && ${insecure})`,
    message: `spec.ldap.url is plaintext ldap://: use ldaps://, set spec.ldap.startTLS, or set ${insecure.replace(/^self\./, 'spec.')}: true`,
    fieldPath: '.ldap.url',
  };
}

/** The plaintext connection spec.ldap asks for, in words naming the field, or undefined when it is encrypted (ldaps:// or StartTLS). */
export function ldapPlaintext(ldap: { url: string; startTLS?: boolean | undefined }): string | undefined {
  return /^ldap:\/\//i.test(ldap.url) && !ldap.startTLS ? 'spec.ldap.url is ldap:// without startTLS' : undefined;
}
