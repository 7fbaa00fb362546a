// `rollcall audit -f DIR` over what `rollcall run --manifests DIR` left: real sqlite system, real CLI.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditDocument } from '../../../src/cli/audit-report.ts';
import { rollcall } from '../../helpers/rollcall-cli.ts';

describe('rollcall audit -f DIR', { timeout: 90_000 }, () => {
  let root = '';
  let manifests = '';

  function write(staff: string[]): void {
    const db = JSON.stringify(join(root, 'directory.db'));
    const documents = [
      `kind: ConnectedSystem\nmetadata: {name: directory, namespace: acme}\nspec: {type: sqlite, sqlite: {path: ${db}}, deprovision: {policy: disable}}`,
      'kind: AccessRole\nmetadata: {name: staff, namespace: acme}\nspec: {grants: [{system: directory, entitlements: [all-staff]}], conflictsWith: [payroll]}',
      'kind: AccessRole\nmetadata: {name: payroll, namespace: acme}\nspec: {grants: [{system: directory, entitlements: [payroll]}]}',
      'kind: AccessRole\nmetadata: {name: root, namespace: acme}\nspec: {requiresApproval: true, grants: [{system: directory, entitlements: [root]}]}',
      `kind: AccessBinding\nmetadata: {name: staff, namespace: acme}\nspec: {role: staff, users: [${staff.join(', ')}]}`,
      'kind: AccessBinding\nmetadata: {name: ann-payroll, namespace: acme}\nspec: {role: payroll, users: [ann]}',
      'kind: AccessBinding\nmetadata: {name: ann-root, namespace: acme}\nspec: {role: root, users: [ann], requestedBy: ann}',
      ...['ann', 'ben'].map((name) => `kind: User\nmetadata: {name: ${name}, namespace: acme}\nspec: {userName: ${name}}`),
    ];
    writeFileSync(join(manifests, 'all.yaml'), documents.map((d) => `apiVersion: rollcall.dev/v1alpha1\n${d}\n`).join('---\n'));
  }

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rollcall-audit-'));
    manifests = join(root, 'company');
    mkdirSync(manifests);
    write(['ann', 'ben']);
    const run = await rollcall(['run', '--manifests', manifests, '--once', '--no-leader-elect'], root);
    expect(run.code, run.stderr).toBe(0);
    write(['ann']); // ben keeps all-staff in the system, now undeclared
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('-o json: creep, conflicts and pending approvals, per system', async () => {
    const result = await rollcall(['audit', '-f', manifests, '-o', 'json'], root);
    expect(result.code, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout) as AuditDocument;
    expect(doc.format).toBe('rollcall.dev/audit/v1');
    expect(doc.systems.map((s) => [s.name, s.status])).toEqual([['directory', 'audited']]);
    expect(doc.systems[0]!.findings.map((f) => [f.kind, f.userName ?? f.binding, f.entitlement ?? f.role ?? ''])).toEqual([
      ['creep', 'ben', 'all-staff'],
      ['conflict', 'ann', 'payroll + staff'],
      ['pendingApproval', 'ann-root', 'root'],
    ]);
    expect(doc.totals).toMatchObject({ findings: 3, creep: 1, conflict: 1, pendingApproval: 1, errors: 0 });
  });

  it('--fail-on exits 2 when findings exceed it; csv and markdown render the same findings', async () => {
    expect((await rollcall(['audit', '-f', manifests, '--fail-on', '3'], root)).code).toBe(0);
    const csv = await rollcall(['audit', '-f', manifests, '-o', 'csv', '--fail-on', '2'], root);
    expect(csv.code).toBe(2);
    expect(csv.stdout.split('\n')).toEqual([
      'namespace,system,kind,user,entitlement,role,binding,at,detail',
      'acme,directory,creep,ben,all-staff,,,,held but not declared',
      'acme,directory,conflict,ann,,payroll + staff,"ann-payroll, staff",,separation of duties: staff conflicts with payroll',
      expect.stringMatching(/^acme,directory,pendingApproval,,,root,ann-root,,awaiting approval: requested by ann; /),
      '',
    ]);
    const md = await rollcall(['audit', '-f', manifests, '-o', 'markdown', '--system', 'acme/directory'], root);
    expect(md.stdout).toMatch(/^## acme\/directory \(sqlite\)$/m);
    expect(md.stdout).toMatch(/^\| creep \| ben \| all-staff \|/m);
    const none = await rollcall(['audit', '-f', manifests, '--namespace', 'other'], root);
    expect(none.stdout).toMatch(/0 finding\(s\) in 0 system\(s\)/);
  });
});
