import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { KINDS, KIND_NAMES } from '../../../src/api/index.ts';
import { renderGenerated } from '../../../src/api/write-crds.ts';
import { loadManifests } from '../../../src/manifests/load.ts';

describe('generated CRDs', () => {
  it('crds/ and the chart match the zod schemas (run npm run crds when this fails)', () => {
    for (const [path, text] of renderGenerated()) expect(readFileSync(path, 'utf8'), path).toBe(text);
  });

  it('has a description on every spec field', () => {
    const missing: string[] = [];
    const walk = (node: unknown, path: string) => {
      if (!node || typeof node !== 'object') return;
      const schema = node as { properties?: Record<string, unknown>; items?: unknown; description?: string };
      for (const [name, child] of Object.entries(schema.properties ?? {})) {
        if (!(child as { description?: string }).description) missing.push(`${path}.${name}`);
        walk(child, `${path}.${name}`);
      }
      if (schema.items) walk(schema.items, `${path}[]`);
    };
    for (const kind of KIND_NAMES) walk(z.toJSONSchema(KINDS[kind].spec, { io: 'input' }), `${kind}.spec`);
    expect(missing).toEqual([]);
  });
});

describe('examples', () => {
  it('every manifest under examples/ is valid', () => {
    const { objects, errors } = loadManifests(join(import.meta.dirname, '..', '..', '..', 'examples'));
    expect(errors.map((e) => `${e.file}: ${e.message}`)).toEqual([]);
    expect(objects.length).toBeGreaterThan(10);
  });
});
