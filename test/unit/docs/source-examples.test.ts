// Every IdentitySource type has a complete example in examples/sources/ and a minimal manifest in the
// README, and both are valid: the same schema and CEL rules the API server applies.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SOURCE_TYPES, type IdentitySource } from '../../../src/api/index.ts';
import { formatManifestError, parseManifests, type ConfigMapObject } from '../../../src/manifests/load.ts';
import { mapRecords } from '../../../src/sources/map.ts';
import { parseCsv } from '../../../src/sources/parse.ts';
import { Rejections } from '../../../src/sources/records.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Identity sources'), readme.indexOf('\n## ', readme.indexOf('## Identity sources') + 1));

/** The README's yaml blocks in the Identity sources section, keyed by the type their first comment names. */
function readmeManifests(): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const [, body] of section.matchAll(/```yaml\n([\s\S]*?)```/g)) {
    const type = body!.match(/^# (\w+) —/)?.[1];
    if (type) blocks.set(type, body!);
  }
  return blocks;
}

describe.each(SOURCE_TYPES)('IdentitySource type %s', (type) => {
  it(`examples/sources/${type}.yaml is valid and declares a source of that type`, () => {
    const file = `examples/sources/${type}.yaml`;
    const { objects, errors } = parseManifests(readFileSync(join(ROOT, file), 'utf8'), file);
    expect(errors.map(formatManifestError)).toEqual([]);
    const sources = objects.filter((o): o is IdentitySource => o.kind === 'IdentitySource');
    expect(sources.map((s) => s.spec.type)).toEqual([type]);
    // A Secret or ConfigMap it names is in the same file, so the example applies on its own.
    const ref = sources[0]!.spec.credentialsSecretRef?.name ?? sources[0]!.spec.configMapRef?.name;
    if (ref) expect(objects.map((o) => o.metadata.name)).toContain(ref);
  });

  it('the README shows a minimal manifest for it that is valid', () => {
    const block = readmeManifests().get(type);
    expect(block, `README "Identity sources" has no yaml block starting "# ${type} —"`).toBeDefined();
    const manifest = `apiVersion: rollcall.dev/v1alpha1\nkind: IdentitySource\nmetadata: {name: readme}\n${block}`;
    const { objects, errors } = parseManifests(manifest, 'README.md');
    expect(errors.map(formatManifestError)).toEqual([]);
    expect((objects[0] as IdentitySource).spec.type).toBe(type);
  });
});

it('a README block that breaks a rule is caught (the check above can fail)', () => {
  const { errors } = parseManifests(
    'apiVersion: rollcall.dev/v1alpha1\nkind: IdentitySource\nmetadata: {name: readme}\nspec: {type: ldap, idField: uid}\n',
    'README.md',
  );
  expect(errors.map(formatManifestError).join()).toMatch(/ldap settings are required/);
});

describe('examples/sources/csv.yaml does what its comments say', () => {
  const { objects } = parseManifests(readFileSync(join(ROOT, 'examples/sources/csv.yaml'), 'utf8'), 'csv.yaml');
  const source = objects.find((o): o is IdentitySource => o.kind === 'IdentitySource')!;
  const feed = (objects.find((o) => o.kind === 'ConfigMap') as ConfigMapObject).data![source.spec.configMapRef!.key]!;
  // Times relative to the date the example itself names, so this passes on any date.
  const lastDay = feed.match(/,(\d{4}-\d{2}-\d{2})\s*$/m)![1]!;
  // The instant the day ends in Europe/Berlin (winter time): midnight after it.
  const endOfLastDay = Date.parse(`${lastDay}T23:59:59+01:00`) + 1000;
  const map = (now: number) => {
    const rejections = new Rejections(10);
    const mapped = mapRecords(parseCsv(feed, rejections), source.spec, new Date(now), rejections);
    expect(rejections.count).toBe(0);
    return new Map(mapped.users.map((u) => [u.spec.userName, u]));
  };

  it('before the last day: a User per row, labelled by department, the leaver working until the end of that day in Berlin', () => {
    const users = map(endOfLastDay - 30 * 86_400_000);
    expect([...users.keys()].sort()).toEqual(['alice', 'bob']);
    expect(users.get('alice')).toMatchObject({ name: 'e1001', leaver: false, labels: { department: 'sales' } });
    expect(users.get('bob')!.leaver).toBe(false);
    expect(Date.parse(users.get('bob')!.spec.validUntil!)).toBe(endOfLastDay);
  });

  it('after it: the leaver is terminated', () => {
    expect(map(endOfLastDay - 1000).get('bob')!.leaver).toBe(false);
    expect(map(endOfLastDay).get('bob')!.leaver).toBe(true);
  });
});
