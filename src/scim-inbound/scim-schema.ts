// The User and Group schemas inbound SCIM serves, derived from what sources/scim.ts keeps: SCIMMY
// declares the whole of RFC 7643, and a client believed it (an attribute accepted with 201 and
// dropped; `externalId eq` finding nothing). Here every attribute not kept is removed from the
// schema, mutability is what the User can do, and the two things SCIMMY leaves to its caller are
// done against that same schema: refusing an attribute it does not declare (SCIMMY drops it
// silently), and comparing a caseExact: false attribute such as userName case-insensitively in a
// filter (SCIMMY's Filter.match compares exactly).
import SCIMMY from 'scimmy';
import { EMAIL_TYPES, GROUP_MUTABILITY, KEPT_GROUP_ATTRIBUTES, KEPT_USER_ATTRIBUTES, USER_MUTABILITY } from '../sources/scim.ts';

type Definition = InstanceType<typeof SCIMMY.Types.SchemaDefinition>;
type Attribute = InstanceType<typeof SCIMMY.Types.Attribute>;
type Filter = InstanceType<typeof SCIMMY.Types.Filter>;

/** Attributes every resource has and a client may send (ignored or checked by SCIMMY): never refused. */
const COMMON = new Set(['schemas', 'id', 'meta']);

/**
 * Truncates SCIMMY's User and Group schemas (process-wide: SCIMMY keeps one of each) to the kept
 * attributes, with their mutability. Idempotent: a second server in the same process finds them done.
 */
export function declareKeptSchemas(): void {
  keepOnly(SCIMMY.Schemas.User.definition, Object.keys(KEPT_USER_ATTRIBUTES), USER_MUTABILITY);
  keepOnly(SCIMMY.Schemas.Group.definition, Object.keys(KEPT_GROUP_ATTRIBUTES), GROUP_MUTABILITY);
  (SCIMMY.Schemas.User.definition.attribute('emails.type') as Attribute).config.canonicalValues = [...EMAIL_TYPES];
  // A group's members are Users: a Group in a Group has no label to become.
  (SCIMMY.Schemas.Group.definition.attribute('members.type') as Attribute).config.canonicalValues = ['User'];
  (SCIMMY.Schemas.Group.definition.attribute('members.$ref') as Attribute).config.referenceTypes = ['User'];
}

function keepOnly(definition: Definition, kept: string[], mutability: Record<string, string>): void {
  const keptPaths = new Set(kept.flatMap((path) => [path, path.split('.')[0]!]));
  for (const attribute of [...(definition.attributes as Attribute[])]) {
    if (COMMON.has(attribute.name)) continue;
    if (!keptPaths.has(attribute.name)) {
      definition.truncate(attribute.name);
      continue;
    }
    for (const sub of [...(attribute.subAttributes ?? [])]) if (!keptPaths.has(`${attribute.name}.${sub.name}`)) attribute.truncate(sub.name);
  }
  // RFC 7643 3: "schemas" is in every representation, an answer to attributes= included.
  (definition.attribute('schemas') as Attribute).config.returned = 'always';
  for (const [path, value] of Object.entries(mutability)) (definition.attribute(path) as Attribute).config.mutable = value;
}

/** Attribute paths in a request body that the schema does not declare, e.g. ["nickName", "name.middleName"]. */
export function undeclaredAttributes(definition: Definition, body: unknown): string[] {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return [];
  const found: string[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (COMMON.has(key)) continue;
    const attribute = declared(definition, key);
    if (!attribute) {
      found.push(key);
      continue;
    }
    if (attribute.type !== 'complex') continue;
    for (const item of Array.isArray(value) ? value : [value]) {
      if (!item || typeof item !== 'object') continue;
      for (const sub of Object.keys(item)) if (!declared(definition, `${attribute.name}.${sub}`)) found.push(`${attribute.name}.${sub}`);
    }
  }
  return [...new Set(found)];
}

/**
 * The same for a PatchOp body: SCIMMY refuses a path the schema lacks, but drops undeclared
 * attributes inside a value (`add emails [{value, display}]`, or `add {name: {middleName}}` with no path).
 */
export function undeclaredInPatch(definition: Definition, body: unknown): string[] {
  const operations = (body as { Operations?: unknown } | undefined)?.Operations;
  if (!Array.isArray(operations)) return [];
  return [
    ...new Set(
      operations.flatMap((operation: { path?: unknown; value?: unknown }) => {
        if (operation?.value === undefined) return [];
        if (typeof operation.path !== 'string' || operation.path === '') return undeclaredAttributes(definition, operation.value);
        // "urn:...:User:emails[type eq \"work\"]" → "emails"; a path into a sub-attribute carries a simple value.
        const path = operation.path.startsWith('urn:') ? operation.path.slice(operation.path.lastIndexOf(':') + 1) : operation.path;
        const attribute = /^[^[.]+/.exec(path)?.[0] ?? path;
        const intoSubAttribute = /^[^[.]+(\[[^\]]*\])?\./.test(path);
        // A path to an undeclared attribute is SCIMMY's to refuse, as RFC 7644 3.5.2 says: invalidPath.
        return intoSubAttribute || !declared(definition, attribute) ? [] : undeclaredAttributes(definition, { [attribute]: operation.value });
      }),
    ),
  ];
}

function declared(definition: Definition, path: string): Attribute | undefined {
  try {
    const attribute = definition.attribute(path);
    return attribute instanceof SCIMMY.Types.Attribute ? attribute : undefined;
  } catch {
    return undefined; // SCIMMY throws for a name it does not declare
  }
}

/**
 * The resources a filter matches, comparing every string attribute the schema marks caseExact: false
 * (userName, displayName, emails.value, ...) without regard to case, as RFC 7644 3.4.2.2 asks.
 * Both sides are folded to lower case and SCIMMY matches the folded copies, one resource at a time.
 */
export function matchFilter<T extends object>(definition: Definition, filter: Filter, resources: T[]): T[] {
  const folded = new SCIMMY.Types.Filter(filter.map((expression: object) => foldExpression(definition, expression, '')));
  return resources.filter((resource) => {
    try {
      return folded.match([foldValue(definition, resource, '')]).length > 0;
    } catch (error) {
      // SCIMMY 1.3 throws on a complex filter (emails[...], members[...]) over a resource without
      // that attribute; such a resource does not match, and the others are still answered (not a 500).
      if (error instanceof TypeError) return false;
      throw error;
    }
  });
}

function caseless(definition: Definition, path: string): boolean {
  const attribute = declared(definition, path);
  return attribute !== undefined && ['string', 'reference'].includes(String(attribute.type)) && attribute.config.caseExact !== true;
}

function foldExpression(definition: Definition, expression: object, prefix: string): object {
  const out: Record<string, unknown> = {};
  for (const [key, condition] of Object.entries(expression)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (!Array.isArray(condition)) out[key] = foldExpression(definition, condition as object, path);
    else if (!caseless(definition, path)) out[key] = condition;
    // One condition ["eq", "x"] or several [["eq", "x"], ["ne", "y"]]: lower-case the values compared.
    else out[key] = Array.isArray(condition[0]) ? condition.map(foldCondition) : foldCondition(condition);
  }
  return out;
}

/** [comparator, value] or ["not", comparator, value]: the value is last. */
const foldCondition = (condition: unknown[]) =>
  condition.map((part, index) => (index === condition.length - 1 && typeof part === 'string' ? part.toLowerCase() : part));

function foldValue(definition: Definition, value: unknown, path: string): unknown {
  if (Array.isArray(value)) return value.map((item) => foldValue(definition, item, path));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, foldValue(definition, item, path ? `${path}.${key}` : key)]));
  return typeof value === 'string' && caseless(definition, path) ? value.toLowerCase() : value;
}
