// Rollcall's inbound SCIM server (src/scim-inbound/) as the conformance tests meet it: one scim
// IdentitySource `okta` in namespace acme whose token Secret has opted in, on a free loopback port.
// A test reaches it at `base` with `token`, and reads the Users it wrote in `store`.
import { pino } from 'pino';
import { startScimServer } from '../../src/scim-inbound/scim-server.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import { credentialsSecret } from './credentials-secret.ts';

/** The bearer token of the IdentitySource okta. */
export const INBOUND_SCIM_TOKEN = 'okta-t0ken';

export interface InboundScim {
  store: MemoryStore;
  /** http://127.0.0.1:PORT/scim/v2 */
  base: string;
  close(): Promise<void>;
}

/** Starts the server over a store holding the okta source, its token Secret and `objects` (more Users, Secrets, sources). */
export async function startInboundScim(objects: ConstructorParameters<typeof MemoryStore>[0] = []): Promise<InboundScim> {
  const logger = pino({ level: 'silent' });
  const store = new MemoryStore(
    [
      // No allow-insecure: the consent is for credentials Rollcall sends in clear; this token is only compared.
      credentialsSecret('scim-token', { token: INBOUND_SCIM_TOKEN }, { allowInsecure: false }),
      {
        apiVersion: 'rollcall.dev/v1alpha1',
        kind: 'IdentitySource',
        metadata: { name: 'okta', namespace: 'acme', uid: 'source-uid' },
        spec: { type: 'scim', credentialsSecretRef: { name: 'scim-token' } },
      } as never,
      ...objects,
    ],
    { logger },
  );
  const server = await startScimServer({ store, logger, port: 0, host: '127.0.0.1' });
  return { store, base: `http://127.0.0.1:${server.port}/scim/v2`, close: () => server.close() };
}
