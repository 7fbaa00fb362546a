// What every real test server started by test/servers/* lets a test do with it.
import { readFile } from 'node:fs/promises';
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

/**
 * Stops a process with SIGSTOP and resolves once the kernel shows it stopped. kill() returns as soon
 * as the signal is queued; on a busy machine the server's threads may still answer a request or two
 * before they stop, and a test that expects a hung server would then see it answer.
 */
export async function stopProcess(pid: number | undefined): Promise<void> {
  if (pid === undefined) return;
  process.kill(pid, 'SIGSTOP');
  const deadline = performance.now() + 5_000;
  while (performance.now() < deadline) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // The state is the first field after the command name, which is in parentheses.
    if (stat === '' || stat.slice(stat.lastIndexOf(')') + 2).startsWith('T')) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
