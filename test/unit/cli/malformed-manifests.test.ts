// Every malformed manifest gets an error naming the file, the resource, the field and the reason.
// plan refuses the whole directory; run applies the valid objects and fails at the end.
import { mkdtempSync, cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { describeDirectory } from '../../../src/connectors/sqlite/directory.ts';

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

  it('run applies the valid objects beside an invalid manifest, names it by file and line, and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollcall-invalid-'));
    cpSync(join(import.meta.dirname, '..', '..', '..', 'examples', 'quickstart'), dir, { recursive: true });
    writeFileSync(join(dir, 'zz-bad.yaml'), readFileSync(join(FIXTURES, 'bad-enum', 'manifest.yaml'), 'utf8').replaceAll('alice', 'zed'));
    const { out, lines } = capture();
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect(await main(['run', '--manifests', dir, '--once'], out)).toBe(1);
    } finally {
      process.chdir(cwd);
    }
    expect(lines.join('\n')).toMatch(
      /1 invalid manifest\(s\), not applied:\n\s+\S*zz-bad\.yaml: User "zed" \(document 1, line 4\): spec\.state: must be one of active, suspended, terminated/,
    );
    // Its bystanders converge: the quick start's Users have their accounts; the invalid one has none.
    const accounts = describeDirectory(join(dir, '.rollcall', 'quickstart.db')).map((a) => a.userName);
    expect(accounts).toEqual(expect.arrayContaining(['alice', 'bob']));
    expect(accounts).not.toContain('zed');
    rmSync(dir, { recursive: true, force: true });
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
