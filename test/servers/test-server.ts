// What every real test server started by test/servers/* lets a test do with it.
import { createServer } from 'node:net';

export interface ServerControl {
  /** Stops the server; its data stays for restart(). */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data. */
  restart(): Promise<void>;
  /** Makes it hang without closing connections (SIGSTOP, or a held lock). */
  freeze(): void | Promise<void>;
  /** Undoes freeze(). */
  thaw(): void | Promise<void>;
  /** Stops the server and removes its directory. */
  close(): Promise<void>;
}

/** A port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}
