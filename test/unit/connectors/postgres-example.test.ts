// The example a newcomer copies must stay valid as the API evolves.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { connectedSystemResource } from '../../../src/api/index.ts';

const file = join(import.meta.dirname, '../../../examples/systems/postgres.yaml');

describe('examples/systems/postgres.yaml', () => {
  const documents = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS());

  it('is a valid postgres ConnectedSystem whose Secret has the keys the connector reads', () => {
    const system = connectedSystemResource.parse(documents.find((d) => d.kind === 'ConnectedSystem'));
    expect(system.spec.type).toBe('postgres');
    const secret = documents.find((d) => d.kind === 'Secret');
    expect(secret.metadata.name).toBe(system.spec.credentialsSecretRef?.name);
    expect(Object.keys(secret.stringData).sort()).toEqual(['password', 'username']);
  });
});
