// A manifest value as the API server hands it to a CEL rule. The JSON alone is not enough: the
// schema decides the CEL type, so `validFrom < validUntil` compares instants (format date-time),
// not strings, and `maxCount > 0` compares ints, not doubles.
import type { CelInput } from '@bufbuild/cel';
import { fromJson } from '@bufbuild/protobuf';
import { TimestampSchema } from '@bufbuild/protobuf/wkt';

/** The parts of a Kubernetes structural schema node that CEL validation looks at. */
export interface SchemaNode {
  type?: string;
  format?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  'x-kubernetes-validations'?: ValidationRule[];
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
}

export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  fieldPath?: string;
  reason?: string;
}

export function celValue(schema: SchemaNode | undefined, value: unknown): CelInput {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map((item) => celValue(schema?.items, item));
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return new Map(entries.map(([key, child]) => [key, celValue(childSchema(schema, key), child)]));
  }
  if (typeof value === 'number') {
    // Without a schema (preserved unknown fields) the API server types whole numbers as int, too.
    const integer = schema?.type === 'integer' || (schema?.type !== 'number' && Number.isInteger(value));
    return integer ? BigInt(value) : value;
  }
  if (typeof value === 'string' && schema?.format === 'date-time') return timestamp(value);
  return value as CelInput;
}

export function childSchema(schema: SchemaNode | undefined, key: string): SchemaNode | undefined {
  const declared = schema?.properties && Object.hasOwn(schema.properties, key) ? schema.properties[key] : undefined;
  if (declared) return declared;
  return typeof schema?.additionalProperties === 'object' ? schema.additionalProperties : undefined;
}

function timestamp(text: string): CelInput {
  try {
    return fromJson(TimestampSchema, text);
  } catch {
    // The schema check already refused a malformed date; a rule then sees the string, as is.
    return text;
  }
}
