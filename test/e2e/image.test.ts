// The container image, built daemonlessly by scripts/image/build.sh: the same inputs give the same
// digest; unpacked, it runs as its non-root user on a read-only root under runc (built from its Go
// module by test/node/build.sh); the Dockerfile says what the script builds.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNode } from '../node/node.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const buildImage = (...args: string[]) =>
  execFileSync('bash', [join(ROOT, 'scripts', 'image', 'build.sh'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();

interface ImageConfig {
  config: { User: string; WorkingDir: string; Env: string[]; Entrypoint: string[]; Cmd: string[] };
  rootfs: { diff_ids: string[] };
}

describe('the Rollcall image (scripts/image/build.sh)', () => {
  let image: string;
  let runc: string;
  const scratch = mkdtempSync(join(tmpdir(), 'rollcall-image-test-'));
  const blob = (digest: string) => readFileSync(join(image, 'oci', 'blobs', 'sha256', digest.replace('sha256:', '')), 'utf8');
  const config = (): ImageConfig => {
    const index = JSON.parse(readFileSync(join(image, 'oci', 'index.json'), 'utf8'));
    const manifest = JSON.parse(blob(index.manifests[0].digest));
    return JSON.parse(blob(manifest.config.digest));
  };

  /** Runs the unpacked image under runc as the image config says: its user, a read-only root, /tmp and a work dir writable. */
  const runImage = (args: string[]) => {
    const bundle = mkdtempSync(join(scratch, 'bundle-'));
    execFileSync(runc, ['spec'], { cwd: bundle });
    const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    const { User, Env, Entrypoint } = config().config;
    const [uid, gid] = User.split(':').map(Number);
    spec.root = { path: rootfsCopy, readonly: true };
    spec.process = { ...spec.process, terminal: false, user: { uid, gid }, cwd: '/work', args: [...Entrypoint, ...args], env: Env };
    for (const destination of ['/work', '/tmp']) spec.mounts.push({ destination, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] });
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
    const id = `rollcall-image-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const result = spawnSync(runc, ['--root', join(bundle, 'state'), 'run', '--bundle', bundle, id], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  // runc makes the mount points it needs (/dev, /proc, /sys, /work) in the root it is given: it gets a
  // hard-linked copy, so the cached image's root filesystem stays as built for the next run.
  let rootfsCopy: string;

  beforeAll(() => {
    image = buildImage();
    runc = buildNode().runc;
    rootfsCopy = join(scratch, 'rootfs');
    execFileSync('cp', ['-al', join(image, 'rootfs'), rootfsCopy]);
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('is reproducible: built again from the same inputs into another directory, it has the same digest', () => {
    const again = buildImage(join(scratch, 'again'));
    expect(readFileSync(join(again, 'digest'), 'utf8')).toBe(readFileSync(join(image, 'digest'), 'utf8'));
    expect(readFileSync(join(image, 'digest'), 'utf8')).toMatch(/^sha256:[0-9a-f]{64}\n$/);
  });

  it('runs as a non-root user, from scratch: the Node runtime, the app and its production dependencies only', () => {
    const { config: settings, rootfs } = config();
    expect(settings.User).toBe('65532:65532');
    expect(rootfs.diff_ids).toHaveLength(3);
    expect(readdirSync(join(image, 'rootfs')).sort()).toEqual(['app', 'etc', 'lib', 'lib64', 'tmp', 'usr']);
    const modules = readdirSync(join(image, 'rootfs', 'app', 'node_modules'));
    expect(modules).toContain('zod');
    for (const dev of ['vitest', 'typescript', 'eslint', 'node']) expect(modules).not.toContain(dev);
    // Its size, recorded: the layers as a registry stores them.
    const size = Number(readFileSync(join(image, 'size'), 'utf8'));
    console.log(`rollcall image: ${(size / 1048576).toFixed(1)} MiB compressed (${readFileSync(join(image, 'digest'), 'utf8').trim()})`);
    expect(size).toBeGreaterThan(10 * 1048576);
    expect(size).toBeLessThan(120 * 1048576);
  });

  it('answers --help under runc, as its user on a read-only root', () => {
    const result = runImage(['--help']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^rollcall \d+\.\d+\.\d+/);
  });

  it('converges the sqlite quick start under runc, its state in a writable directory', () => {
    const result = runImage(['run', '--manifests', '/app/examples/quickstart', '--once']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/alice\s+active\s+True\s+1\/1\s+directory: present/);
    expect(result.stdout).toMatch(/erin\s+terminated\s+True/);
  });

  it('agrees with the Dockerfile (built FROM scratch on the same root filesystem)', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const instruction = (name: string) => dockerfile.match(new RegExp(`^${name} (.+)$`, 'm'))?.[1];
    const { config: settings } = config();
    expect(instruction('FROM')).toBe('scratch');
    expect(instruction('USER')).toBe(settings.User);
    expect(instruction('WORKDIR')).toBe(settings.WorkingDir);
    expect(JSON.parse(instruction('ENTRYPOINT')!)).toEqual(settings.Entrypoint);
    expect(JSON.parse(instruction('CMD')!)).toEqual(settings.Cmd);
    expect(instruction('ENV')!.split(' ').sort()).toEqual([...settings.Env].sort());
  });
});
