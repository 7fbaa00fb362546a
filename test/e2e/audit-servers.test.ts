// `rollcall audit` against a real PostgreSQL server: what rollcall run provisioned, then changed
// by hand, is reported as creep, missing and orphan.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditDocument } from '../../src/cli/audit-report.ts';
import { startPostgres, type PostgresServer } from '../servers/postgres.ts';

const ROLLCALL = join(import.meta.dirname, '..', '..', 'bin', 'rollcall.js');

function rollcall(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ROLLCALL, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('rollcall audit against PostgreSQL', () => {
  let postgres: PostgresServer;
  let root = '';
  let manifests = '';
  const sql = async (text: string) => {
    const client = new pg.Client({ host: postgres.host, port: postgres.port, user: postgres.adminUser, password: postgres.adminPassword, database: 'postgres' });
    await client.connect();
    try {
      await client.query(text);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    postgres = await startPostgres();
    for (const role of ['analysts', 'admins']) await sql(`CREATE ROLE ${role} NOLOGIN`);
    root = mkdtempSync(join(tmpdir(), 'rollcall-audit-pg-'));
    manifests = join(root, 'company');
    mkdirSync(manifests);
    const documents = [
      `apiVersion: v1\nkind: Secret\nmetadata: {name: db-credentials, namespace: acme, labels: {rollcall.dev/credentials: "true"}}\nstringData: {username: ${postgres.adminUser}, password: ${JSON.stringify(postgres.adminPassword)}}`,
      `apiVersion: rollcall.dev/v1alpha1\nkind: ConnectedSystem\nmetadata: {name: analytics, namespace: acme}\nspec: {type: postgres, insecure: true, postgres: {host: "${postgres.host}", port: ${postgres.port}, database: postgres, ssl: disable}, credentialsSecretRef: {name: db-credentials}, deprovision: {policy: delete}, orphans: report}`,
      'apiVersion: rollcall.dev/v1alpha1\nkind: AccessRole\nmetadata: {name: analyst, namespace: acme}\nspec: {grants: [{system: analytics, entitlements: [analysts]}]}',
      'apiVersion: rollcall.dev/v1alpha1\nkind: AccessBinding\nmetadata: {name: analysts, namespace: acme}\nspec: {role: analyst, users: [ann, ben]}',
      ...['ann', 'ben'].map((name) => `apiVersion: rollcall.dev/v1alpha1\nkind: User\nmetadata: {name: ${name}, namespace: acme}\nspec: {userName: ${name}}`),
    ];
    writeFileSync(join(manifests, 'all.yaml'), documents.join('\n---\n'));
    const run = await rollcall(['run', '--manifests', manifests, '--once', '--no-leader-elect'], root);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    // By hand, behind Rollcall's back: ann gets admins, ben loses analysts.
    await sql('GRANT admins TO ann');
    await sql('REVOKE analysts FROM ben');
  }, 300_000);
  afterAll(async () => {
    await postgres?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('reports the access granted and taken away by hand', async () => {
    const result = await rollcall(['audit', '-f', manifests, '-o', 'json', '--fail-on', '0'], root);
    expect(result.code, result.stderr).toBe(2);
    const doc = JSON.parse(result.stdout) as AuditDocument;
    expect(doc.systems.map((s) => [s.name, s.type, s.status])).toEqual([['analytics', 'postgres', 'audited']]);
    expect(doc.systems[0]!.findings.map((f) => [f.kind, f.userName, f.entitlement])).toEqual([
      ['creep', 'ann', 'admins'],
      ['missing', 'ben', 'analysts'],
    ]);
  });
});
