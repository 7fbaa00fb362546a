// `rollcall plan` changes nothing, not even by opening a system: a sqlite file that does not exist
// yet is planned as empty and is still not there afterwards.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planCommand } from '../../../src/cli/plan.ts';
import { aliceDirectory } from '../../helpers/alice-directory.ts';
import { writeManifests } from '../../helpers/manifests.ts';

describe('rollcall plan on a system that does not exist yet', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rollcall-plan-observe-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('plans the joiners and creates nothing', async () => {
    const db = join(dir, 'data', 'directory.db');
    const manifests = join(dir, 'manifests');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(manifests);
    writeManifests(manifests, 'all.yaml', aliceDirectory({ path: db, system: { deprovision: { policy: 'disable' } } }));
    const lines: string[] = [];
    const code = await planCommand(
      { dir: manifests, state: join(dir, 'state.json'), output: 'text' },
      { line: (t) => lines.push(t), error: (t) => lines.push(t) },
    );
    expect(lines.join('\n')).toMatch(/\+ alice\s+create account/);
    expect(code).toBe(2);
    expect(existsSync(db)).toBe(false);
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });
});
