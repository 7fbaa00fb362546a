// 9. The standalone path: `rollcall run --manifests DIR --once` (no API server) with the same world
// in fresh scopes of the same servers, timed from process start to exit, then checked like the
// operator's world.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openProbes, mismatches } from '../probes/index.ts';
import { now } from '../pool.ts';
import { nodeArgs, nodeBinary, procStats, type ProcessStats } from '../rollcall.ts';
import { allGroups, connectedSystems, Declared, rolesAndBindings, secrets, userObject, type Endpoints, type Scope, type SystemKind } from '../world.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');

export interface StandaloneResult {
  totalMs: number | null;
  exitCode: number | null;
  mismatches: Partial<Record<SystemKind, { count: number; examples: string[] }>>;
  cpuSeconds: number;
  peakRssBytes: number;
}

export async function standalone(endpoints: Endpoints, users: number, kinds: SystemKind[], timeoutMs: number): Promise<StandaloneResult> {
  const scope: Scope = { tag: 's', namespace: 'bench-once', systems: kinds };
  const probes = openProbes(endpoints, scope);
  const dir = mkdtempSync(join(tmpdir(), 'rollcall-scale-once-'));
  try {
    await Promise.all(kinds.map((kind) => probes.all[kind].prepare(allGroups(scope))));
    const manifests = join(dir, 'manifests');
    const documents = (objects: unknown[]) => objects.map((o) => JSON.stringify(o)).join('\n---\n') + '\n';
    mkdirSync(manifests);
    writeFileSync(join(manifests, 'secrets.yaml'), documents(secrets(scope, endpoints)));
    writeFileSync(join(manifests, 'systems.yaml'), documents(connectedSystems(scope, endpoints, { resyncInterval: '5m' })));
    writeFileSync(join(manifests, 'access.yaml'), documents(rolesAndBindings(scope)));
    writeFileSync(join(manifests, 'users.yaml'), documents(Array.from({ length: users }, (_, i) => userObject(scope, i))));

    const args = [join(ROOT, 'bin', 'rollcall.js'), 'run', '--manifests', manifests, '--once', '--state', join(dir, 'state.json')];
    const started = now();
    const child = spawn(nodeBinary(), [...nodeArgs(), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    // Sampled from /proc while it runs: the last sample before exit is close enough for CPU and peak RSS.
    let last: ProcessStats = { cpuSeconds: Number.NaN, rssBytes: Number.NaN, peakRssBytes: Number.NaN };
    // The highest VmHWM seen: a sample taken as the process exits can read 0.
    let peakRssBytes = 0;
    const sampler = setInterval(() => {
      try {
        last = procStats(child.pid!);
        if (last.peakRssBytes > peakRssBytes) peakRssBytes = last.peakRssBytes;
      } catch {
        // exited between two samples
      }
    }, 250);
    const stderr: string[] = [];
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr.push(chunk.toString());
      if (stderr.length > 50) stderr.shift();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const exitCode = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    clearTimeout(timer);
    clearInterval(sampler);
    const totalMs = exitCode === 0 ? now() - started : null;
    if (exitCode !== 0) process.stderr.write(`  standalone run exited with ${exitCode}:\n${stderr.join('').slice(-2000)}\n`);

    const expected = new Declared(scope, users).expected(scope);
    const found: StandaloneResult['mismatches'] = {};
    for (const kind of kinds) found[kind] = mismatches(expected, await probes.all[kind].accounts());
    return { totalMs, exitCode, mismatches: found, cpuSeconds: last.cpuSeconds, peakRssBytes };
  } finally {
    await probes.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
