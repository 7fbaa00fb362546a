// A system's credentials Secret is read once, not once per account change: at 10,000 Users a read
// per call would be 10,000 API requests for one pass.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { ConnectedSystem } from '../../../src/api/index.ts';
import { Connections } from '../../../src/connections/connections.ts';
import { MemoryStore, type ResourceInput } from '../../../src/store/memory-store.ts';
import type { ObjectKey } from '../../../src/store/store.ts';

class CountingStore extends MemoryStore {
  reads = 0;
  override async getSecret(key: ObjectKey): Promise<Record<string, string> | undefined> {
    this.reads++;
    return super.getSecret(key);
  }
}

describe('Connections', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rollcall-credentials-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads a system's credentials Secret once for many calls", async () => {
    const logger = pino({ level: 'silent' });
    const system = {
      apiVersion: 'rollcall.dev/v1alpha1',
      kind: 'ConnectedSystem',
      metadata: { name: 'directory', namespace: 'acme' },
      spec: { type: 'sqlite', sqlite: { path: join(dir, 'd.db') }, credentialsSecretRef: { name: 'directory-credentials' } },
    } as ResourceInput;
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'directory-credentials', namespace: 'acme', labels: { 'rollcall.dev/credentials': 'true' } },
      data: { passphrase: 'correct-horse' },
    };
    const store = new CountingStore([system, secret as never], { logger });
    const connections = new Connections({ store, logger });
    const csys = store.get('ConnectedSystem', { namespace: 'acme', name: 'directory' }) as ConnectedSystem;
    for (let i = 0; i < 100; i++) await connections.use(csys, (connector) => connector.check(AbortSignal.timeout(5000)));
    await connections.closeAll();
    expect(store.reads).toBe(1);
  });
});
