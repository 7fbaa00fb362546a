// The example a newcomer copies must stay valid as the API evolves.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { connectedSystemResource } from '../../../src/api/index.ts';

const file = join(import.meta.dirname, '../../../examples/systems/ldap.yaml');

describe('examples/systems/ldap.yaml', () => {
  const documents = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS());

  it('is a valid ldap ConnectedSystem whose Secrets have the keys the connector reads', () => {
    const system = connectedSystemResource.parse(documents.find((d) => d.kind === 'ConnectedSystem'));
    expect(system.spec.type).toBe('ldap');
    const secret = (name: string | undefined) => documents.find((d) => d.kind === 'Secret' && d.metadata.name === name);
    expect(Object.keys(secret(system.spec.credentialsSecretRef?.name).stringData).sort()).toEqual(['bindDN', 'password']);
    expect(Object.keys(secret(system.spec.ldap?.caSecretRef?.name).stringData)).toEqual(['ca.crt']);
  });
});
