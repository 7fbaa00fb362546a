// The example a newcomer copies must stay valid as the API evolves, and its Secret must hold what
// the connector reads.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { connectedSystemResource, PermanentError } from '../../../src/api/index.ts';
import { createKeycloakConnector } from '../../../src/connectors/keycloak/index.ts';

const file = join(import.meta.dirname, '../../../examples/systems/keycloak.yaml');
const logger = pino({ level: 'silent' });

describe('examples/systems/keycloak.yaml', () => {
  const documents = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS());
  const system = connectedSystemResource.parse(documents.find((d) => d.kind === 'ConnectedSystem'));
  const secret = documents.find((d) => d.kind === 'Secret');

  it('is a valid keycloak ConnectedSystem whose Secret has the key its client credentials grant needs', async () => {
    expect(system.spec.type).toBe('keycloak');
    expect(secret.metadata.name).toBe(system.spec.credentialsSecretRef?.name);
    expect(Object.keys(secret.stringData)).toEqual(['clientSecret']);
    const connector = await createKeycloakConnector({ system: 'default/sso', namespace: 'default', spec: system.spec, credentials: secret.stringData, logger });
    expect(connector.capabilities).toMatchObject({ endsSessions: true, initialPassword: true });
    await connector.close();
  });

  it('without the key, the connector names the missing key, never a value', async () => {
    const error = await createKeycloakConnector({
      system: 'default/sso',
      namespace: 'default',
      spec: system.spec,
      credentials: { password: 'hunter2-secret' },
      logger,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toContain('has no key "clientSecret"');
    expect((error as Error).message).not.toContain('hunter2-secret');
  });

  it('refuses plaintext http:// without spec.insecure', async () => {
    const spec = { ...system.spec, keycloak: { ...system.spec.keycloak!, url: 'http://sso.example.com' } };
    await expect(createKeycloakConnector({ system: 'default/sso', namespace: 'default', spec, credentials: secret.stringData, logger })).rejects.toThrow(
      'spec.keycloak.url is http://',
    );
  });
});
