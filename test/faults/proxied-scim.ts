// The SCIM connector reaching the real scim2-server through the fault proxy (http-fault-proxy.ts),
// for tests of one fault at a time: the test sets the proxy's rules and reads what it recorded.
import { pino } from 'pino';
import { connectedSystemSpec } from '../../src/api/index.ts';
import { createScimConnector } from '../../src/connectors/scim/index.ts';
import type { Connector } from '../../src/connectors/types.ts';
import { start } from '../servers/scim.ts';
import { HttpFaultProxy } from './http-fault-proxy.ts';

export interface ProxiedScim {
  proxy: HttpFaultProxy;
  connector: Connector;
  close(): Promise<void>;
}

/** Starts the server (in memory: never restarted), the proxy and the connector, with the connector's discovery already done. */
export async function startProxiedScim(): Promise<ProxiedScim> {
  const server = await start({ durable: false });
  let proxy: HttpFaultProxy | undefined;
  let connector: Connector | undefined;
  const close = async () => {
    await connector?.close();
    await proxy?.close();
    await server.close();
  };
  try {
    proxy = await HttpFaultProxy.start(server.baseUrl);
    connector = await createScimConnector({
      system: 'acme/wiki',
      namespace: 'acme',
      spec: connectedSystemSpec.parse({
        type: 'scim',
        insecure: true,
        allowPrivateNetwork: true,
        scim: { baseUrl: proxy.via(server.baseUrl), auth: 'bearer' },
      }),
      credentials: { token: server.token },
      logger: pino({ level: 'silent' }),
      timeoutMs: 10_000,
    });
    // Discovery's requests are not the test's: they go through before the test sets any fault.
    await connector.check(AbortSignal.timeout(30_000));
    return { proxy, connector, close };
  } catch (error) {
    // The test's afterAll has nothing to close yet.
    await close();
    throw error;
  }
}
