import { readdirSync, readFileSync } from 'node:fs';
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
  // Each directory is a set of its own: examples/cluster/ overrides a quick start object of the same name.
  it('every manifest under examples/ is valid', () => {
    const examples = join(import.meta.dirname, '..', '..', '..', 'examples');
    let count = 0;
    for (const dir of readdirSync(examples)) {
      const { objects, errors } = loadManifests(join(examples, dir));
      expect(errors.map((e) => `${e.file}: ${e.message}`)).toEqual([]);
      count += objects.length;
    }
    expect(count).toBeGreaterThan(10);
  });
});
