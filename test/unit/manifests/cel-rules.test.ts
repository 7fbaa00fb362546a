// Standalone mode refuses what the API server refuses, with the same field and message, because it
// evaluates the same CEL expressions (test/e2e/invalid-manifests.test.ts runs this table against a
// real API server). And every rule in crds/ has a row in the table.
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CRD_DIR } from '../../../src/api/write-crds.ts';
import { loadManifests, parseManifests } from '../../../src/manifests/load.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import { CEL_EXPECTATIONS, beforeOf, manifestOf, type CelExpectation } from '../../fixtures/invalid/expectations.ts';
import { capturedLogger } from '../../helpers/captured-logger.ts';
import { storeFromManifests } from '../../helpers/store-from-manifests.ts';

describe("standalone mode evaluates the CRDs' CEL rules", () => {
  let store: MemoryStore | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await store?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    store = dir = undefined;
  });

  const create = CEL_EXPECTATIONS.filter((row) => !existsSync(beforeOf(row)));
  const change = CEL_EXPECTATIONS.filter((row) => existsSync(beforeOf(row)));

  it.each(create.map((row) => [row.fixture, row] as const))('%s', (_, row) => {
    const { errors } = loadManifests(dirname(manifestOf(row)));
    expect(errors.map(({ kind, name, field, message }) => ({ kind, name, field, message }))).toEqual([
      { kind: row.kind, name: row.name, field: row.field, message: row.message },
    ]);
  });

  // The running store holds before.yaml; the file then changes to manifest.yaml and is refused on reload.
  it.each(change.map((row) => [row.fixture, row] as const))('%s (a change)', async (_, row) => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-cel-'));
    const file = join(dir, 'object.yaml');
    copyFileSync(beforeOf(row), file);
    const { logger, records } = capturedLogger();
    const opened = storeFromManifests(dir, { logger });
    store = opened.store;
    await store.start();
    const before = structuredClone(store.get(row.kind, { namespace: 'acme', name: row.name }));
    expect(before).toBeDefined();

    copyFileSync(manifestOf(row), file);
    opened.directory.reload();
    const problems = records.filter((r) => r.level === 50 && r.errors === undefined).map((r) => r.msg);
    expect(problems).toEqual([`${row.kind} "${row.name}": ${row.field}: ${row.message}`]);
    expect(store.get(row.kind, { namespace: 'acme', name: row.name })).toEqual(before);
  });

  it('types values by the schema: date-times compare as instants, not as text', () => {
    const user = (from: string, until: string) =>
      `{apiVersion: rollcall.dev/v1alpha1, kind: User, metadata: {name: alice}, spec: {userName: alice, validFrom: "${from}", validUntil: "${until}"}}`;
    // As text "…T02:00+02:00" sorts after "…T01:00Z"; as instants it is an hour before.
    expect(parseManifests(user('2026-12-01T02:00:00+02:00', '2026-12-01T01:00:00Z'), 'u.yaml').errors).toEqual([]);
    expect(parseManifests(user('2026-12-01T01:00:00.5Z', '2026-12-01T01:00:00.25Z'), 'u.yaml').errors.map((e) => e.message)).toEqual([
      'validFrom must be before validUntil',
    ]);
  });
});

interface CrdRule {
  kind: string;
  /** The field the API server would name, with [*] for any list index or map key. */
  field: string;
  message: string;
  rule: string;
}

/** Every x-kubernetes-validations rule in crds/*.yaml, where it is attached, plus its fieldPath. */
function crdRules(): CrdRule[] {
  const out: CrdRule[] = [];
  type Node = {
    properties?: Record<string, Node>;
    items?: Node;
    additionalProperties?: Node | boolean;
    'x-kubernetes-validations'?: Array<{ rule: string; message?: string; fieldPath?: string }>;
  };
  const walk = (kind: string, node: Node, path: string) => {
    for (const { rule, message, fieldPath } of node['x-kubernetes-validations'] ?? []) {
      const field = `${path}${fieldPath ?? ''}`.replace(/^\./, '').replace(/\['([^']*)'\]/g, '.$1');
      out.push({ kind, field, rule, message: message ?? `failed rule: ${rule}` });
    }
    for (const [key, child] of Object.entries(node.properties ?? {})) walk(kind, child, `${path}.${key}`);
    if (node.items) walk(kind, node.items, `${path}[*]`);
    if (typeof node.additionalProperties === 'object') walk(kind, node.additionalProperties, `${path}[*]`);
  };
  for (const file of readdirSync(CRD_DIR).filter((name) => name.endsWith('.rollcall.dev.yaml'))) {
    const crd = parse(readFileSync(join(CRD_DIR, file), 'utf8'));
    for (const version of crd.spec.versions) walk(crd.spec.names.kind, version.schema.openAPIV3Schema, '');
  }
  return out;
}

const covers = (row: CelExpectation, rule: CrdRule) =>
  row.kind === rule.kind && row.message === rule.message && row.field.replace(/\[[^\]]*\]/g, '[*]') === rule.field;

describe('the table of invalid fixtures', () => {
  it('covers every CEL rule in crds/ with at least one fixture', () => {
    const rules = crdRules();
    expect(rules.length).toBeGreaterThan(10);
    const uncovered = rules.filter((rule) => !CEL_EXPECTATIONS.some((row) => covers(row, rule)));
    expect(uncovered, 'add a fixture under test/fixtures/invalid and a row to expectations.ts').toEqual([]);
  });

  it('names only rules that exist, each row a fixture of its own', () => {
    const rules = crdRules();
    expect(CEL_EXPECTATIONS.filter((row) => !rules.some((rule) => covers(row, rule)))).toEqual([]);
    expect(new Set(CEL_EXPECTATIONS.map((row) => row.fixture)).size).toBe(CEL_EXPECTATIONS.length);
  });
});
