// The example a newcomer copies must stay valid as the API evolves.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { connectedSystemResource } from '../../../src/api/index.ts';
import { outOfReach, parseEntitlement } from '../../../src/connectors/kubernetes/index.ts';

const file = join(import.meta.dirname, '../../../examples/systems/kubernetes.yaml');

describe('examples/systems/kubernetes.yaml', () => {
  const text = readFileSync(file, 'utf8');

  it('is a valid kubernetes ConnectedSystem in namespace default', () => {
    const system = connectedSystemResource.parse(parse(text));
    expect(system.spec.type).toBe('kubernetes');
    expect(system.metadata.namespace).toBe('default');
    expect(system.spec.kubernetes?.subjectName).toBe('userName');
  });

  it('documents entitlements the connector accepts', () => {
    const documented = [...text.matchAll(/^#\s+((?:Cluster)?Role\/\S+)/gm)].map((m) => m[1]!);
    expect(documented).toHaveLength(5);
    for (const entitlement of documented) expect(parseEntitlement(entitlement).entitlement).toBe(entitlement);
  });

  it('says which entitlements are refused without an allowance, as the connector decides', () => {
    const lines = [...text.matchAll(/^#\s+((?:Cluster)?Role\/\S+)\s+(.*)$/gm)].map((m) => ({ entitlement: m[1]!, said: m[2]! }));
    const none = { cluster: false, namespaces: [] };
    for (const { entitlement, said } of lines) {
      const refused = outOfReach('default/cluster-rbac', 'default', none, parseEntitlement(entitlement)) !== undefined;
      expect(refused, entitlement).toBe(said.includes('refused'));
    }
    expect(lines.filter((l) => l.said.includes('refused'))).toHaveLength(3);
  });
});
