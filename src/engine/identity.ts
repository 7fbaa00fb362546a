// Whether two names are one person. The API server authenticates an approver as whatever its
// authenticator says (`carol`, `carol@example.org`, `Carol@Example.org`); a User is known by its
// object name, its userName and its e-mail. The rule, the same in the admission policy's CEL
// (src/api/admission-policy.ts): compare lower-case, up to the first "@". It errs towards "the same
// person" (carol@a.org and carol@b.org count as one), which only ever refuses an approval.

import type { User } from '../api/index.ts';

/** The part of an identity two names are compared by: lower-case, before the first "@". */
export function personKey(identity: string): string {
  const lower = identity.toLowerCase();
  const at = lower.indexOf('@');
  return at === -1 ? lower : lower.slice(0, at);
}

export function samePerson(a: string, b: string): boolean {
  return personKey(a) === personKey(b);
}

/** Whether `identity` is the User: its object name, its userName or its e-mail (typed, or in attributes). */
export function isPerson(identity: string, user: User): boolean {
  return [user.metadata.name, user.spec.userName, user.spec.email, user.spec.attributes?.email].some(
    (name) => name !== undefined && samePerson(identity, name),
  );
}
