// The canonical attributes a User carries into every connected system.
import { CANONICAL_ATTRIBUTES, type Attributes, type User } from '../api/index.ts';

/**
 * spec.attributes first, then the canonical fields over them: the typed fields are the ones
 * the API validates, so a free attribute cannot contradict them. Empty values are omitted.
 */
export function accountAttributes(user: User): Attributes {
  const spec = user.spec;
  const attributes: Attributes = {};
  for (const [name, value] of Object.entries(spec.attributes ?? {})) {
    if (value !== '') attributes[name] = value;
  }
  const canonical: Record<(typeof CANONICAL_ATTRIBUTES)[number], string | undefined> = {
    givenName: spec.givenName,
    familyName: spec.familyName,
    displayName: spec.displayName ?? defaultDisplayName(spec.givenName, spec.familyName),
    email: spec.email,
    employeeId: spec.employeeId,
    department: spec.department,
    title: spec.title,
    manager: spec.manager,
    employeeType: spec.employeeType,
  };
  for (const name of CANONICAL_ATTRIBUTES) {
    const value = canonical[name];
    if (value !== undefined && value !== '') attributes[name] = value;
  }
  return attributes;
}

function defaultDisplayName(givenName: string | undefined, familyName: string | undefined): string | undefined {
  if (givenName === undefined && familyName === undefined) return undefined;
  return `${givenName ?? ''} ${familyName ?? ''}`.trim();
}

/**
 * The User's field(s) an account attribute comes from, as a person finds them in the manifest:
 * `spec.email` for a typed field, `spec.attributes.mail` for a free one; a displayName made of the
 * two names points at both. The same precedence as accountAttributes: a typed field wins. Empty
 * when the User does not set it.
 */
export function attributeFields(user: User, attribute: string): string[] {
  const spec = user.spec as Record<string, unknown>;
  const set = (name: string) => typeof spec[name] === 'string' && spec[name] !== '';
  if ((CANONICAL_ATTRIBUTES as readonly string[]).includes(attribute) && set(attribute)) return [`spec.${attribute}`];
  if (attribute === 'displayName' && (spec['givenName'] !== undefined || spec['familyName'] !== undefined)) {
    return ['givenName', 'familyName'].filter((name) => spec[name] !== undefined).map((name) => `spec.${name}`);
  }
  return user.spec.attributes?.[attribute] ? [`spec.attributes.${attribute}`] : [];
}
