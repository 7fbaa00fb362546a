// The API server itself rejects bad input, with a message naming the field (schema + CEL).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CEL_EXPECTATIONS, INVALID_FIXTURES, beforeOf, manifestOf } from '../fixtures/invalid/expectations.ts';
import { createNamespace, kubectl, kubectlOk } from './kube.ts';

// Refused by the schema itself: [fixture, what the API server's message must name]. The CEL rules
// are in the shared table, which test/unit/manifests/cel-rules.test.ts runs in standalone mode.
const rejected: [string, RegExp][] = [
  ['bad-enum', /spec\.state.*Unsupported value: "retired"/],
  ['missing-username', /spec\.userName.*Required value/],
  ['wrong-type', /spec\.suspend.*must be of type boolean|spec\.suspend.*boolean/],
  ['bad-email', /spec\.email.*email/],
  ['bad-duration', /spec\.maxDuration.*should match/],
  ['wrong-api-version', /no matches for kind "User" in version "rollcall\.dev\/v2"|rollcall\.dev\/v2/],
  ['bad-username', /spec\.userName.*should match/],
];

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('the API server rejects invalid manifests with the field named', () => {
  let namespace: string;
  beforeAll(() => {
    namespace = createNamespace('invalid');
  });
  const inNamespace = (file: string) => readFileSync(file, 'utf8').replaceAll('namespace: acme', `namespace: ${namespace}`);

  it.each(rejected)('%s', (fixture, message) => {
    const result = kubectl(['apply', '-f', '-'], inNamespace(join(INVALID_FIXTURES, fixture, 'manifest.yaml')));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(message);
  });

  // For a rule about a change, before.yaml is applied first and manifest.yaml is the change refused.
  it.each(CEL_EXPECTATIONS.map((row) => [row.fixture, row] as const))('CEL: %s', (_, row) => {
    if (existsSync(beforeOf(row))) kubectlOk(['apply', '-f', '-'], inNamespace(beforeOf(row)));
    const result = kubectl(['apply', '-f', '-'], inNamespace(manifestOf(row)));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(new RegExp(`${row.kind}(\\.rollcall\\.dev)? "${row.name}" is invalid`));
    // Older API servers also print the type of the node the rule is attached to ("object").
    expect(result.stderr).toMatch(new RegExp(`${escape(row.field)}: Invalid value: (?:"[a-z]+": )?${escape(row.message)}`));
    // The userinfo fixtures carry the password hunter2 in a URL: the refusal never repeats it.
    expect(result.stderr).not.toContain('hunter2');
  });
});
