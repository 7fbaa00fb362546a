// The loader never crashes: keys that name JavaScript's own object machinery, alias bombs and
// oversized files each give an error naming the file, the document, the line and the field.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatManifestError, loadManifests, parseManifests } from '../../../src/manifests/load.ts';

const userWith = (spec: string, metadata = '') => `apiVersion: rollcall.dev/v1alpha1
kind: User
metadata: {name: alice, namespace: acme${metadata}}
spec: {userName: alice${spec}}
`;
const errorsOf = (text: string) => parseManifests(text, 'hostile.yaml').errors.map(formatManifestError);

describe('keys that name object machinery', () => {
  for (const key of ['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf']) {
    it(`"${key}" as an unknown spec field is an unknown field, named`, () => {
      expect(errorsOf(userWith(`, ${key}: x`))).toEqual([`hostile.yaml: User "alice" (document 1, line 4): spec.${key}: unknown field`]);
    });
    it(`"${key}" as an attribute name is an ordinary key`, () => {
      const { objects, errors } = parseManifests(userWith(`, attributes: {${key}: x}`), 'hostile.yaml');
      expect(errors).toEqual([]);
      expect(Object.entries((objects[0] as { spec: { attributes: Record<string, string> } }).spec.attributes)).toEqual([[key, 'x']]);
    });
  }

  it('"__proto__" anywhere is refused by path, never becomes a prototype', () => {
    expect(errorsOf(userWith(', attributes: {__proto__: {polluted: yes}}'))).toEqual([
      'hostile.yaml: object (document 1, line 4): spec.attributes.__proto__: the key "__proto__" is not allowed',
    ]);
    expect(errorsOf(userWith('', ', labels: {__proto__: x}'))).toEqual([
      'hostile.yaml: object (document 1, line 3): metadata.labels.__proto__: the key "__proto__" is not allowed',
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('one bad document does not hide the errors of the others', () => {
    const errors = errorsOf(`${userWith(', constructor: 1')}---\n${userWith(', attributes: {__proto__: x}').replace('alice,', 'bob,')}`);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toContain('(document 1, line 4): spec.constructor: unknown field');
    expect(errors[1]).toContain('(document 2, line 9): spec.attributes.__proto__');
  });
});

describe('strings that are not well-formed Unicode', () => {
  it('an unpaired surrogate escape in a value or a key is refused by path', () => {
    expect(errorsOf(userWith(', displayName: "Mal\\ud800lory"'))).toEqual([
      expect.stringMatching(/^hostile\.yaml: object \(document 1, line 4\): spec\.displayName: must be well-formed Unicode: it holds an unpaired surrogate/),
    ]);
    expect(errorsOf(userWith(', attributes: {"x\\udfff": y}'))).toEqual([expect.stringContaining('spec.attributes.x\udfff: must be well-formed Unicode')]);
  });
  it('a pair of surrogate escapes is one character (an emoji) and passes', () => {
    const { objects, errors } = parseManifests(userWith(', displayName: "Mal \\ud83e\\udd84"'), 'hostile.yaml');
    expect(errors).toEqual([]);
    expect((objects[0] as { spec: { displayName: string } }).spec.displayName).toBe('Mal \u{1f984}');
  });
});

describe('YAML resource attacks', () => {
  it('an alias bomb is refused with the file and document', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (const [i, name] of ['b', 'c', 'd', 'e', 'f', 'g'].entries()) {
      const previous = String.fromCharCode('a'.charCodeAt(0) + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(', ')}]`);
    }
    const errors = errorsOf(`---\n${userWith('')}---\n${levels.join('\n')}\n`);
    expect(errors).toEqual([expect.stringMatching(/^hostile\.yaml: object \(document 2\): invalid YAML: Excessive alias count/)]);
  });
});

describe('file size limit', () => {
  const dirs: string[] = [];
  const previous = process.env.ROLLCALL_MAX_MANIFEST_BYTES;
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    if (previous === undefined) delete process.env.ROLLCALL_MAX_MANIFEST_BYTES;
    else process.env.ROLLCALL_MAX_MANIFEST_BYTES = previous;
  });

  it('a 50 MB file is refused by name before it is read, and the other files still load', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollcall-big-'));
    dirs.push(dir);
    const user = userWith('');
    writeFileSync(join(dir, 'huge.yaml'), `${user}---\n`.repeat(Math.ceil(50_000_000 / (user.length + 4))));
    writeFileSync(join(dir, 'small.yaml'), userWith('').replace(/alice/g, 'bob'));
    const heapBefore = process.memoryUsage().heapUsed;
    const { objects, errors } = loadManifests(dir);
    expect(errors.map(formatManifestError)).toEqual([
      expect.stringMatching(new RegExp(`^${join(dir, 'huge.yaml')}: the file has \\d+ bytes, over the limit of 16777216 \\(ROLLCALL_MAX_MANIFEST_BYTES\\)`)),
    ]);
    expect(objects.map((o) => o.metadata.name)).toEqual(['bob']);
    // Refused unread: nowhere near the file's size in memory.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(20_000_000);
  });

  it('the limit is configurable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollcall-big-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'users.yaml'), userWith(''));
    process.env.ROLLCALL_MAX_MANIFEST_BYTES = '50';
    expect(loadManifests(dir).errors.map(formatManifestError)[0]).toMatch(/users\.yaml: the file has \d+ bytes, over the limit of 50/);
    process.env.ROLLCALL_MAX_MANIFEST_BYTES = '1000000';
    expect(loadManifests(dir).errors).toEqual([]);
  });
});

describe("spec.attributes obeys the typed fields' limits (one validation path)", () => {
  const refused = (attributes: string) => errorsOf(userWith(`, attributes: ${attributes}`));
  it("a value taken for a typed field has that field's limits and format", () => {
    expect(refused(`{displayName: "${'x'.repeat(257)}"}`)).toEqual([
      expect.stringContaining("an attribute named like a typed field has that field's length limit: givenName 256"),
    ]);
    expect(refused(`{manager: "${'x'.repeat(65)}", costCentre: "${'x'.repeat(300)}"}`)).toEqual([expect.stringContaining('manager 64')]);
    expect(refused('{email: "not-an-email *)(x"}')).toEqual([expect.stringContaining('attributes.email must be an e-mail address')]);
    expect(refused('{employeeType: admin}')).toEqual([expect.stringContaining('attributes.employeeType must be one of employee, contractor, vendor, service')]);
  });
  it('no control characters in any value or typed field, no over-long values, sane names', () => {
    expect(refused('{phone: "+1 555\\r\\nmail: x"}')).toEqual([expect.stringMatching(/spec\.attributes\.phone: must not contain control characters/)]);
    expect(refused('{note: "a\\u0000b"}')).toEqual([expect.stringMatching(/spec\.attributes\.note: must not contain control characters/)]);
    expect(errorsOf(userWith(', displayName: "Ann\\nMallory"'))).toEqual([expect.stringMatching(/spec\.displayName: must not contain control characters/)]);
    expect(refused(`{bio: "${'x'.repeat(1025)}"}`)).toEqual([expect.stringMatching(/spec\.attributes\.bio: .*1024/)]);
    expect(refused('{"bad name": x}')).toEqual([expect.stringContaining('attribute names are letters, digits')]);
  });
  it('ordinary attributes pass', () => {
    expect(refused('{displayName: "Ann Example", email: ann@example.org, employeeType: contractor, costCentre: "4711"}')).toEqual([]);
  });
});
