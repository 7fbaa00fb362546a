// Every malformed manifest gets an error naming the file, the resource, the field and the reason,
// and nothing is applied: the embedded directory file is never created.
import { existsSync, mkdtempSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';

function capture() {
  const lines: string[] = [];
  const errors: string[] = [];
  return { out: { line: (t: string) => lines.push(t), error: (t: string) => errors.push(t) }, lines, errors };
}

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'invalid');

// [fixture, resource named in the error, field, reason]
const cases: [string, RegExp, RegExp, RegExp][] = [
  ['bad-enum', /User "alice"/, /spec\.state/, /active|suspended|terminated/],
  ['valid-until-before-from', /User "alice"/, /spec\.validUntil/, /validFrom must be before validUntil/],
  ['missing-username', /User "alice"/, /spec\.userName/, /required|expected string/i],
  ['wrong-type', /ConnectedSystem "directory"/, /spec\.suspend/, /boolean/],
  ['bad-email', /User "alice"/, /spec\.email/, /email/i],
  ['bad-duration', /AccessRole "admin"/, /spec\.maxDuration/, /duration/],
  ['unknown-kind', /Person/, /kind/, /unknown|not supported|unsupported/i],
  ['wrong-api-version', /User/, /apiVersion/, /rollcall\.dev\/v1alpha1/],
  ['missing-settings', /ConnectedSystem "corp-ldap"/, /spec\.ldap/, /required when type is ldap/],
  ['binding-without-subjects', /AccessBinding "grant"/, /spec/, /users or userSelector is required/],
  ['bad-username', /User "alice"/, /spec\.userName/, /lowercase/],
  ['invalid-yaml', /manifest\.yaml/, /line \d+|:\d+/, /yaml|flow|collection|expected/i],
  ['retention-missing', /ConnectedSystem "directory"/, /spec\.deprovision\.retention/, /retention is required/],
  ['duplicate', /User "alice"/, /metadata\.name/, /duplicate|already/i],
];

describe('rollcall plan and run on malformed manifests', () => {
  it.each(cases)('%s: names the file, resource, field and reason', async (fixture, resource, field, reason) => {
    const { out, errors } = capture();
    const code = await main(['plan', '-f', join(FIXTURES, fixture)], out);
    expect(code).toBe(1);
    const text = errors.join('\n');
    expect(text).toContain(join(fixture, 'manifest.yaml'));
    expect(text).toMatch(resource);
    expect(text).toMatch(field);
    expect(text).toMatch(reason);
  });

  it('applies nothing from a directory where one manifest is invalid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollcall-invalid-'));
    cpSync(join(import.meta.dirname, '..', '..', '..', 'examples', 'quickstart'), dir, { recursive: true });
    cpSync(join(FIXTURES, 'bad-enum', 'manifest.yaml'), join(dir, 'zz-bad.yaml'));
    const dbPath = join(dir, 'directory.db');
    const { out, errors } = capture();
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect(await main(['run', '--manifests', dir, '--once'], out)).toBe(1);
    } finally {
      process.chdir(cwd);
    }
    expect(errors.join('\n')).toMatch(/zz-bad\.yaml: User "alice"/);
    expect(existsSync(join(dir, '.rollcall', 'quickstart.db'))).toBe(false);
    expect(existsSync(dbPath)).toBe(false);
  });

  it('explains usage errors', async () => {
    const { out, errors } = capture();
    expect(await main(['plan'], out)).toBe(1);
    expect(errors.join('\n')).toMatch(/-f DIR is required/);
    expect(await main(['plan', '-f', 'dir', '--kubeconfig', 'kc', '--state', 's.json'], out)).toBe(1);
    expect(errors.join('\n')).toMatch(/--state FILE only goes without --kubeconfig/);
    expect(await main(['plan', '-f', 'dir', '--namespace', 'acme'], out)).toBe(1);
    expect(errors.join('\n')).toMatch(/--namespace NS only goes with --kubeconfig/);
    expect(await main(['plan', '-f', 'dir', '-o', 'yaml'], out)).toBe(1);
    expect(errors.join('\n')).toMatch(/-o must be text or json, not "yaml"/);
    expect(await main(['frobnicate'], out)).toBe(1);
    expect(errors.join('\n')).toMatch(/unknown command "frobnicate"/);
    expect(await main(['run', '--bogus'], out)).toBe(1);
    expect(errors.join('\n')).toMatch(/bogus/);
  });

  it('prints help for every command and the version', async () => {
    for (const command of ['run', 'plan', 'version']) {
      const { out, lines } = capture();
      expect(await main([command, '--help'], out)).toBe(0);
      expect(lines.join('\n')).toMatch(new RegExp(`rollcall ${command}`));
    }
    const { out, lines } = capture();
    expect(await main(['version'], out)).toBe(0);
    expect(lines.join('\n')).toMatch(/^rollcall \d+\.\d+\.\d+/);
  });
});
