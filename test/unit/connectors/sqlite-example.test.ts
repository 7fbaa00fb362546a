// The example a newcomer copies must stay valid as the API evolves.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { connectedSystemResource } from '../../../src/api/index.ts';

const file = join(import.meta.dirname, '../../../examples/systems/sqlite.yaml');

describe('examples/systems/sqlite.yaml', () => {
  it('is a valid sqlite ConnectedSystem in namespace default that needs no Secret', () => {
    const system = connectedSystemResource.parse(parse(readFileSync(file, 'utf8')));
    expect(system.metadata.namespace).toBe('default');
    expect(system.spec.type).toBe('sqlite');
    expect(system.spec.sqlite?.path).toBe('.rollcall/directory.db');
    expect(system.spec.credentialsSecretRef).toBeUndefined();
  });
});
