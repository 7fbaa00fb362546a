// rollcall_leader says whether this process does the work: a run with no Lease to take (--manifests,
// like --no-leader-elect in a cluster) reconciles, so it reads 1 once the controllers run.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROLLCALL } from '../../helpers/rollcall-cli.ts';

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

describe('rollcall_leader', { timeout: 60_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'rollcall-leader-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reads 1 in a run that does the work without a Lease', async () => {
    const manifests = join(root, 'company');
    mkdirSync(manifests);
    writeFileSync(join(manifests, 'u.yaml'), 'apiVersion: rollcall.dev/v1alpha1\nkind: User\nmetadata: {name: ann, namespace: acme}\nspec: {userName: ann}\n');
    const port = await freePort();
    const child = spawn(process.execPath, [ROLLCALL, 'run', '--manifests', manifests, '--state', join(root, 'state.json'), '--health-port', String(port)], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    try {
      let text = '';
      for (let i = 0; i < 200 && !output.includes('Watching'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(output).toContain('Watching');
      text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(text).toMatch(/^rollcall_leader 1$/m);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});
