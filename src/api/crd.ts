// CustomResourceDefinitions derived from the zod schemas, so types, runtime validation and the
// API server's validation can never disagree.
import { z } from 'zod';
import { GROUP, VERSION } from './common.ts';
import { KINDS, KIND_NAMES, type KindInfo } from './kinds.ts';

type Json = Record<string, unknown>;

const SAFE_INT_BOUNDS = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);

/** Turns zod's OpenAPI 3.0 output into a Kubernetes structural schema. */
export function toStructural(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toStructural);
  if (node === null || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node as Json)) {
    if (key === '$schema' || key === 'propertyNames') continue;
    // Kubernetes forbids additionalProperties beside properties; unknown fields are pruned anyway.
    if (key === 'additionalProperties' && value === false) continue;
    // zod adds regexes for formats the API server already checks natively.
    if (key === 'pattern' && 'format' in (node as Json)) continue;
    if ((key === 'minimum' || key === 'maximum') && SAFE_INT_BOUNDS.has(value as number)) continue;
    out[key] = key === 'properties' ? mapValues(value as Json, toStructural) : toStructural(value);
  }
  return out;
}

function mapValues(obj: Json, fn: (v: unknown) => unknown): Json {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, fn(v)]));
}

export function openApiSchema(info: KindInfo): Json {
  const convert = (schema: z.ZodType) => toStructural(z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input' })) as Json;
  return {
    type: 'object',
    description: info.description,
    required: ['spec'],
    properties: {
      apiVersion: { type: 'string', description: 'rollcall.dev/v1alpha1' },
      kind: { type: 'string', description: info.kind },
      metadata: { type: 'object' },
      spec: convert(info.spec),
      status: convert(info.status),
    },
  };
}

export function customResourceDefinition(info: KindInfo): Json {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${info.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/name': 'rollcall', 'app.kubernetes.io/part-of': 'rollcall' },
    },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: {
        kind: info.kind,
        listKind: `${info.kind}List`,
        plural: info.plural,
        singular: info.singular,
        shortNames: info.shortNames,
        categories: ['rollcall'],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: info.printerColumns,
          schema: { openAPIV3Schema: openApiSchema(info) },
        },
      ],
    },
  };
}

export function allCustomResourceDefinitions(): Json[] {
  return KIND_NAMES.map((name) => customResourceDefinition(KINDS[name]));
}
