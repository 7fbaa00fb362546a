// A loopback TCP proxy in front of a real server that a test file shares with others (Keycloak: one
// per run), so the file can make "its" server go down or hang without touching the server itself:
// stop() closes the port (connections are refused), freeze() keeps every connection open but moves
// no byte (a hung server), thaw() and restart() undo them.
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { ServerControl } from './test-server.ts';

export interface TcpProxy extends ServerControl {
  port: number;
}

export async function startProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const held: Socket[] = [];
  let frozen = false;
  let server: Server | undefined;
  let port = 0;

  const forward = (client: Socket) => {
    const upstream = connect(targetPort, targetHost);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  };
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        sockets.add(client);
        client.on('close', () => sockets.delete(client));
        client.on('error', () => undefined);
        if (frozen) {
          client.pause();
          held.push(client);
        } else forward(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const address = server!.address();
        if (typeof address === 'object' && address) port = address.port;
        resolve();
      });
    });
  const stop = async () => {
    const running = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    held.length = 0;
    if (running) await new Promise<void>((resolve) => running.close(() => resolve()));
  };

  await listen();
  return {
    get port() {
      return port;
    },
    stop,
    restart: async () => {
      await stop();
      await listen();
    },
    freeze: () => {
      frozen = true;
      for (const socket of sockets) socket.pause();
    },
    thaw: () => {
      frozen = false;
      for (const socket of sockets) socket.resume();
      for (const client of held.splice(0)) {
        client.resume();
        forward(client);
      }
    },
    close: stop,
  };
}
