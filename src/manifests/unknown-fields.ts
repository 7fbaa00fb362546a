// zod strips fields it does not know. The API server with strict field validation (what
// `kubectl apply` asks for) rejects them instead, because a misspelt field silently ignored is a
// policy silently not applied (`validUtil: 2026-01-01` would grant access forever).
import type { z } from 'zod';

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  innerType?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  in?: z.ZodType;
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** Paths of every field in `input` that `schema` does not declare, in the order they appear. */
export function unknownFields(schema: z.ZodType, input: unknown, path: Array<string | number> = []): Array<Array<string | number>> {
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'default':
    case 'prefault':
    case 'nullable':
    case 'readonly':
    case 'nonoptional':
    case 'catch':
      return def.innerType ? unknownFields(def.innerType, input, path) : [];
    case 'pipe':
      return def.in ? unknownFields(def.in, input, path) : [];
    case 'array':
      if (!Array.isArray(input) || !def.element) return [];
      return input.flatMap((item, index) => unknownFields(def.element!, item, [...path, index]));
    case 'record':
      if (!isPlainObject(input) || !def.valueType) return [];
      return Object.entries(input).flatMap(([key, value]) => unknownFields(def.valueType!, value, [...path, key]));
    case 'object': {
      if (!isPlainObject(input) || !def.shape) return [];
      // A loose object (metadata) accepts anything beyond its shape.
      const open = def.catchall !== undefined && defOf(def.catchall).type !== 'never';
      const found: Array<Array<string | number>> = [];
      for (const [key, value] of Object.entries(input)) {
        // Own keys only: `constructor` or `__proto__` in a manifest is a field name, not the prototype's.
        const child = Object.hasOwn(def.shape, key) ? def.shape[key] : undefined;
        if (child) found.push(...unknownFields(child, value, [...path, key]));
        else if (!open) found.push([...path, key]);
      }
      return found;
    }
    default:
      return [];
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
