// What `rollcall plan` and `rollcall audit` observe with: connectors that create nothing, and the
// egress guard `rollcall run` has. A system named by a host that resolves to a cluster-internal
// address (--cluster-cidr) is refused before any connection: the resolver maps the test's name to
// 10.0.0.1 and the guard refuses the address it answers, so no packet leaves.
import type { LookupAddress } from 'node:dns';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectedSystem } from '../../../src/api/index.ts';
import { observingConnections } from '../../../src/cli/plan.ts';
import type { Resolver } from '../../../src/connectors/egress/guard.ts';
import { connectedSystem, credentialsSecret, sqliteSystem, writeManifests } from '../../helpers/manifests.ts';
import { storeFromManifests } from '../../helpers/store-from-manifests.ts';
import { rollcall } from '../../helpers/rollcall-cli.ts';

const logger = pino({ level: 'silent' });
const signal = () => AbortSignal.timeout(10_000);

describe('observing connections (plan, audit)', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('refuse a system whose host resolves into --cluster-cidr, asking the resolver and connecting nowhere', async () => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-observing-'));
    const meta = { name: 'corp', namespace: 'acme' };
    writeManifests(dir, 'system.yaml', [
      connectedSystem(meta, {
        type: 'ldap',
        insecure: true,
        credentialsSecretRef: { name: 'corp-credentials' },
        ldap: { url: 'ldap://directory.example.test:389', peopleDN: 'ou=people,dc=example,dc=test', groupsDN: 'ou=groups,dc=example,dc=test' },
      }),
      credentialsSecret({ name: 'corp-credentials', namespace: 'acme' }, { bindDN: 'cn=admin,dc=example,dc=test', password: 'secret' }),
    ]);
    const { store } = storeFromManifests(dir, { logger });
    const asked: string[] = [];
    const resolve: Resolver = (hostname, _options, callback) => {
      asked.push(hostname);
      callback(null, [{ address: '10.0.0.1', family: 4 } satisfies LookupAddress]);
    };
    const connections = await observingConnections({ clusterCidrs: ['10.0.0.0/8'] }, store, logger, undefined, resolve);
    const system = store.get('ConnectedSystem', meta) as ConnectedSystem;
    try {
      await expect(connections.use(system, (connector) => connector.check(signal()))).rejects.toThrow(
        /spec\.ldap\.url resolves to 10\.0\.0\.1, a cluster-internal address/,
      );
      expect(asked).toContain('directory.example.test');
    } finally {
      await connections.closeAll();
    }
  });

  it('rollcall audit creates nothing: an embedded system whose file is missing stays missing', async () => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-observing-'));
    const db = join(dir, 'data', 'directory.db');
    mkdirSync(join(dir, 'manifests'));
    writeManifests(join(dir, 'manifests'), 'system.yaml', [sqliteSystem({ name: 'directory', namespace: 'acme' }, db)]);
    const result = await rollcall(['audit', '-f', join(dir, 'manifests'), '--state', join(dir, 'state.json'), '-o', 'json'], dir);
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(db)).toBe(false);
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });
});
