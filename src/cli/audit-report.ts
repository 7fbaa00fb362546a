// `rollcall audit` output: one document (format rollcall.dev/audit/v1, fields only ever added) and
// its renderings as a table, CSV and Markdown. Pure: takes the findings, returns text.
import type { ConnectedSystem } from '../api/index.ts';
import { FINDING_KINDS, type Finding, type FindingKind } from '../engine/index.ts';

export const AUDIT_FORMAT = 'rollcall.dev/audit/v1';
export type AuditOutput = 'table' | 'json' | 'csv' | 'markdown';
export const AUDIT_OUTPUTS: readonly AuditOutput[] = ['table', 'json', 'csv', 'markdown'];

export type SystemAuditResult =
  { system: ConnectedSystem; findings: Finding[] } | { system: ConnectedSystem; suspended: true } | { system: ConnectedSystem; error: string };

export interface SystemAuditDocument {
  namespace: string;
  name: string;
  type: string;
  status: 'audited' | 'suspended' | 'error';
  error?: string;
  findings: Finding[];
}

export interface AuditDocument {
  format: typeof AUDIT_FORMAT;
  generatedAt: string;
  expiringWithinMs: number;
  totals: { systems: number; errors: number; findings: number } & Record<FindingKind, number>;
  systems: SystemAuditDocument[];
}

export function auditDocument(results: readonly SystemAuditResult[], now: Date, expiringWithinMs: number): AuditDocument {
  const systems = results.map((result): SystemAuditDocument => {
    const base = { namespace: result.system.metadata.namespace ?? 'default', name: result.system.metadata.name, type: result.system.spec.type };
    if ('suspended' in result) return { ...base, status: 'suspended', findings: [] };
    if ('error' in result) return { ...base, status: 'error', error: result.error, findings: [] };
    return { ...base, status: 'audited', findings: result.findings };
  });
  const all = systems.flatMap((s) => s.findings);
  const byKind = Object.fromEntries(FINDING_KINDS.map((kind) => [kind, all.filter((f) => f.kind === kind).length])) as Record<FindingKind, number>;
  return {
    format: AUDIT_FORMAT,
    generatedAt: now.toISOString(),
    expiringWithinMs,
    totals: { systems: systems.length, errors: systems.filter((s) => s.status === 'error').length, findings: all.length, ...byKind },
    systems,
  };
}

const COLUMNS = ['namespace', 'system', 'kind', 'user', 'entitlement', 'role', 'binding', 'at', 'detail'] as const;

function rows(doc: AuditDocument): string[][] {
  return doc.systems.flatMap((s) => {
    if (s.status !== 'audited') return [[s.namespace, s.name, s.status, '', '', '', '', '', s.error ?? 'suspended: not observed']];
    return s.findings.map((f) => [s.namespace, s.name, f.kind, f.userName ?? '', f.entitlement ?? '', f.role ?? '', f.binding ?? '', f.at ?? '', f.detail]);
  });
}

export function renderAudit(doc: AuditDocument, output: AuditOutput): string {
  switch (output) {
    case 'json':
      return JSON.stringify(doc, null, 2);
    case 'csv':
      return [COLUMNS.join(','), ...rows(doc).map((row) => row.map(csvField).join(','))].join('\n');
    case 'markdown':
      return markdown(doc);
    case 'table':
      return table(doc);
  }
}

function csvField(value: string): string {
  // A leading = + - @ would be a formula in a spreadsheet.
  const safe = /^[=+\-@]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

function table(doc: AuditDocument): string {
  const all = [COLUMNS.map((c) => c.toUpperCase()), ...rows(doc)];
  const widths = COLUMNS.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  const lines = all.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
  return [...lines, '', summary(doc)].join('\n');
}

function markdown(doc: AuditDocument): string {
  const cell = (value: string) => value.replaceAll('|', '\\|').replaceAll('\n', ' ');
  const out = [`# Access audit (${doc.generatedAt})`, '', summary(doc), ''];
  for (const s of doc.systems) {
    out.push(`## ${s.namespace}/${s.name} (${s.type})`, '');
    if (s.status !== 'audited') out.push(s.status === 'error' ? `Error: ${cell(s.error ?? '')}` : 'Suspended: not observed.', '');
    else if (s.findings.length === 0) out.push('No findings.', '');
    else {
      out.push('| kind | user | entitlement | role | binding | at | detail |', '|---|---|---|---|---|---|---|');
      for (const f of s.findings)
        out.push(`| ${[f.kind, f.userName ?? '', f.entitlement ?? '', f.role ?? '', f.binding ?? '', f.at ?? '', f.detail].map(cell).join(' | ')} |`);
      out.push('');
    }
  }
  return out.join('\n').trimEnd();
}

function summary(doc: AuditDocument): string {
  const counts = FINDING_KINDS.filter((kind) => doc.totals[kind] > 0).map((kind) => `${doc.totals[kind]} ${kind}`);
  const errors = doc.totals.errors ? `; ${doc.totals.errors} system(s) could not be observed` : '';
  return `${doc.totals.findings} finding(s) in ${doc.totals.systems} system(s)${counts.length ? `: ${counts.join(', ')}` : ''}${errors}.`;
}

/** 1: a system could not be observed; 2: more findings than --fail-on allows; else 0. */
export function auditExitCode(doc: AuditDocument, failOn: number | undefined): 0 | 1 | 2 {
  if (doc.totals.errors > 0) return 1;
  return failOn !== undefined && doc.totals.findings > failOn ? 2 : 0;
}
