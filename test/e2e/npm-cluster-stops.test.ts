// `npm run cluster` stopped with SIGTERM (as a service manager or `kill` stops it) takes its API
// server with it: no rollcall-controlplane process is left and its port is closed. npm passes the
// signal to the `sh -c` it runs the script in, which dies without passing it on.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

/** Processes whose command line mentions `text`, by pid. */
function processesMentioning(text: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => (socket.destroy(), resolve(true)));
    socket.on('error', () => resolve(false));
  });

describe('npm run cluster', () => {
  it('SIGTERM to npm stops the control plane: no process left, the port closed', { timeout: 240_000 }, async () => {
    // Its own process group, so whatever this test leaves behind on failure can be killed at once.
    const npm = spawn('npm', ['run', 'cluster'], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    npm.stdout.on('data', (c: Buffer) => (output += c.toString()));
    npm.stderr.on('data', (c: Buffer) => (output += c.toString()));
    try {
      const deadline = performance.now() + 200_000;
      while (!/export KUBECONFIG=(\S+)/.test(output) && performance.now() < deadline && npm.exitCode === null) await new Promise((r) => setTimeout(r, 250));
      const kubeconfig = output.match(/export KUBECONFIG=(\S+)/)?.[1];
      expect(kubeconfig, output).toBeDefined();
      const port = Number(readFileSync(kubeconfig!, 'utf8').match(/server: https?:\/\/[^:]+:(\d+)/)?.[1]);
      const dir = join(kubeconfig!, '..');
      expect(processesMentioning(dir).length, 'the control plane runs').toBeGreaterThan(0);
      expect(await portOpen(port)).toBe(true);

      process.kill(npm.pid!, 'SIGTERM');
      const gone = performance.now() + 30_000;
      while (processesMentioning(dir).length > 0 && performance.now() < gone) await new Promise((r) => setTimeout(r, 250));
      expect(processesMentioning(dir), `left running after SIGTERM:\n${output}`).toEqual([]);
      expect(await portOpen(port)).toBe(false);
    } finally {
      try {
        process.kill(-npm.pid!, 'SIGKILL');
      } catch {
        // the group is already gone
      }
    }
  });
});
