import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runShutdownHandlers } from '../../../src/process/shutdown.ts';

describe('runShutdownHandlers', () => {
  it('runs handlers last-registered first, one at a time', async () => {
    const order: string[] = [];
    const result = await runShutdownHandlers(
      [
        () => void order.push('close store'),
        async () => {
          await new Promise((r) => setTimeout(r, 10));
          order.push('drain queues');
        },
        () => void order.push('release lease'),
      ],
      1_000,
    );
    expect(order).toEqual(['release lease', 'drain queues', 'close store']);
    expect(result).toEqual({ ok: true, timedOut: false });
  });

  it('keeps going after a failing handler and reports the failure', async () => {
    const order: string[] = [];
    const result = await runShutdownHandlers(
      [
        () => void order.push('first'),
        () => {
          throw new Error('boom');
        },
      ],
      1_000,
    );
    expect(order).toEqual(['first']);
    expect(result).toEqual({ ok: false, timedOut: false });
  });

  it('gives up at the deadline', async () => {
    const started = Date.now();
    const result = await runShutdownHandlers([() => new Promise<void>(() => undefined)], 50);
    expect(result).toEqual({ ok: false, timedOut: true });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

// The signal handling itself, in a real process that receives a real SIGTERM.
describe('onShutdown', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rollcall-shutdown-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const module = resolve(import.meta.dirname, '../../../src/process/shutdown.ts');

  function runChild(body: string): Promise<{ code: number | null; stdout: string; ms: number }> {
    const script = join(dir, `child-${Math.random().toString(36).slice(2)}.ts`);
    writeFileSync(
      script,
      `import { onShutdown, configureShutdown } from ${JSON.stringify(module)};\n${body}\nsetInterval(() => {}, 1000);\nconsole.log('READY');\n`,
    );
    return new Promise((resolvePromise, reject) => {
      const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let stdout = '';
      let sentAt = 0;
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (!sentAt && stdout.includes('READY')) {
          sentAt = Date.now();
          child.kill('SIGTERM');
        }
      });
      child.on('error', reject);
      child.on('exit', (code) => resolvePromise({ code, stdout, ms: Date.now() - sentAt }));
    });
  }

  it('runs every handler in reverse order on SIGTERM, then exits 0', async () => {
    const { code, stdout } = await runChild(`
      onShutdown(() => console.log('stop health server'));
      onShutdown(async () => { await new Promise((r) => setTimeout(r, 50)); console.log('drain queues'); });
      onShutdown(() => console.log('release lease'));
    `);
    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toEqual(['READY', 'release lease', 'drain queues', 'stop health server']);
  });

  it('exits 1 at the deadline when a handler hangs', async () => {
    const { code, stdout, ms } = await runChild(`
      configureShutdown({ deadlineMs: 200 });
      onShutdown(() => console.log('never reached'));
      onShutdown(() => new Promise(() => {}));
    `);
    expect(code).toBe(1);
    expect(stdout).not.toContain('never reached');
    expect(ms).toBeLessThan(5_000);
  });
});
