// The CEL rules of the CRDs (`x-kubernetes-validations`, declared once in src/api), evaluated on
// manifests the way the API server evaluates them: each rule at the node it is attached to, with
// `self` (and `oldSelf` on update), its error naming the field the way `kubectl apply` does. So a
// manifest that `rollcall run --manifests` accepts is one a cluster accepts, with the same messages.
import { openApiSchema } from '../api/crd.ts';
import { KINDS, type KindName } from '../api/index.ts';
import type { AnyResource } from '../api/index.ts';
import { compile } from './cel.ts';
import { celValue, childSchema, type SchemaNode, type ValidationRule } from './cel-value.ts';

export interface RuleViolation {
  /** spec.validUntil: where the rule is attached, plus its fieldPath. */
  field: string;
  message: string;
}

/** Every rule that needs no previous version: what the API server checks on create. */
export function ruleViolations(kind: KindName, object: AnyResource): RuleViolation[] {
  const out: RuleViolation[] = [];
  walk(schemaOf(kind), object, undefined, '', 'create', out);
  return out;
}

/** Transition rules (those reading oldSelf): checked when an object already stored changes. */
export function transitionViolations(kind: KindName, before: AnyResource, after: AnyResource): RuleViolation[] {
  const out: RuleViolation[] = [];
  walk(schemaOf(kind), after, { value: before }, '', 'transition', out);
  return out;
}

// The very schema object that src/api/write-crds.ts writes into crds/.
const schemas = new Map<KindName, SchemaNode>();
function schemaOf(kind: KindName): SchemaNode {
  let schema = schemas.get(kind);
  if (!schema) {
    schema = openApiSchema(KINDS[kind]) as SchemaNode;
    schemas.set(kind, schema);
  }
  return schema;
}

type Mode = 'create' | 'transition';
/** The old value at the same place, when there is one: oldSelf exists only where it correlates. */
type Old = { value: unknown } | undefined;

function walk(schema: SchemaNode, value: unknown, old: Old, path: string, mode: Mode, out: RuleViolation[]): void {
  if (value === undefined || value === null) return;
  for (const rule of schema['x-kubernetes-validations'] ?? []) {
    const violation = check(rule, schema, value, old, mode);
    if (violation !== undefined) out.push({ field: joinFieldPath(path, rule.fieldPath), message: violation });
  }
  if (Array.isArray(value)) {
    if (!schema.items) return;
    value.forEach((item, index) => walk(schema.items!, item, correlatedItem(schema, item, old), `${path}[${index}]`, mode, out));
    return;
  }
  if (typeof value !== 'object') return;
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const node = childSchema(schema, key);
    if (!node) continue;
    const oldChild = isObject(old?.value) && Object.hasOwn(old.value, key) ? { value: old.value[key] } : undefined;
    const childPath = schema.properties && Object.hasOwn(schema.properties, key) ? (path ? `${path}.${key}` : key) : `${path}[${key}]`;
    walk(node, child, oldChild, childPath, mode, out);
  }
}

/** The message for a refused rule, or undefined when it holds (or does not apply in this mode). */
function check(rule: ValidationRule, schema: SchemaNode, value: unknown, old: Old, mode: Mode): string | undefined {
  const program = compile(rule.rule);
  if (program.transition !== (mode === 'transition')) return undefined;
  if (program.transition && old === undefined) return undefined;
  const bindings = { self: celValue(schema, value), ...(program.transition ? { oldSelf: celValue(schema, old!.value) } : {}) };
  const result = program.run(bindings);
  if ('error' in result) return `failed to evaluate rule ${rule.rule}: ${result.error}`;
  if (result.value === true) return undefined;
  if (result.value !== false) return `rule ${rule.rule} must evaluate to a bool`;
  if (rule.messageExpression) {
    const message = compile(rule.messageExpression).run(bindings);
    if ('value' in message && typeof message.value === 'string' && message.value.trim()) return message.value;
  }
  // As the API server words it when a rule has no message.
  return rule.message?.trim() || `failed rule: ${rule.rule.trim()}`;
}

/** The API server correlates list items with their old version only in map lists, by their keys. */
function correlatedItem(schema: SchemaNode, item: unknown, old: Old): Old {
  const keys = schema['x-kubernetes-list-map-keys'];
  if (schema['x-kubernetes-list-type'] !== 'map' || !keys || !Array.isArray(old?.value) || !isObject(item)) return undefined;
  const match = old.value.find((candidate) => isObject(candidate) && keys.every((key) => candidate[key] === item[key]));
  return match === undefined ? undefined : { value: match };
}

/** fieldPath `.a.b` or `.a['b.c']` appended to the node's path, as the API server names fields. */
function joinFieldPath(path: string, fieldPath: string | undefined): string {
  if (!fieldPath) return path;
  let out = path;
  for (const [, plain, quoted] of fieldPath.matchAll(/\.([^.[]+)|\['((?:[^'\\]|\\.)*)'\]/g)) {
    const name = plain ?? quoted!.replace(/\\(.)/g, '$1');
    out = out ? `${out}.${name}` : name;
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
