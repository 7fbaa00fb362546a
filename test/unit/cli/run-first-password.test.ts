// Standalone mode (`rollcall run --manifests DIR`, no cluster): a joiner's first password is written
// beside the state file as a Secret manifest, 0600 in a 0700 directory, and it logs in; the output
// and the logs never show it.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { authenticate } from '../../../src/connectors/sqlite/directory.ts';
import { aliceDirectory } from '../../helpers/alice-directory.ts';
import { writeManifests } from '../../helpers/manifests.ts';
import { rollcall } from '../../helpers/rollcall-cli.ts';

const mode = (path: string) => statSync(path).mode & 0o777;

describe('rollcall run --manifests delivers a first password as a private file', () => {
  let root = '';

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'rollcall-first-password-cli-'));
    mkdirSync(join(root, 'company'));
    writeManifests(
      join(root, 'company'),
      'all.yaml',
      aliceDirectory({ path: '.rollcall/directory.db', system: { credentials: { policy: 'initialPassword' } } }),
    );
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes <state>.initial-passwords/<namespace>/<secret>.yaml, owner-only, whose password logs in', { timeout: 60_000 }, async () => {
    const run = await rollcall(['run', '--manifests', 'company', '--once'], root);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const directory = join(root, '.rollcall', 'company.state.initial-passwords', 'acme');
    const file = join(directory, 'initial-password-alice-directory.yaml');
    expect(mode(directory)).toBe(0o700);
    expect(mode(file)).toBe(0o600);
    const secret = parse(readFileSync(file, 'utf8'));
    expect(secret).toMatchObject({
      kind: 'Secret',
      metadata: { labels: { 'rollcall.dev/initial-password-for': 'alice' } },
      stringData: { userName: 'alice', system: 'directory' },
    });
    const password = secret.stringData.password as string;
    expect(await authenticate(join(root, '.rollcall', 'directory.db'), 'alice', password)).toBe(true);
    expect(run.stdout + run.stderr).not.toContain(password);
    // A second run neither writes a new password nor fails on the file the first one left.
    const again = await rollcall(['run', '--manifests', 'company', '--once'], root);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(parse(readFileSync(file, 'utf8')).stringData.password).toBe(password);
  });
});
