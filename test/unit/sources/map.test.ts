// Feeds to desired Users: every kind of bad record is rejected with its record and field named,
// and the good records around it proceed.
import { describe, expect, it } from 'vitest';
import { identitySourceSpec, type IdentitySourceSpec } from '../../../src/api/index.ts';
import { mapRecords, specProblems } from '../../../src/sources/map.ts';
import { parseCsv, parseJson } from '../../../src/sources/parse.ts';
import { FeedError, Rejections } from '../../../src/sources/records.ts';

const NOW = new Date('2026-11-30T12:00:00Z');

function spec(overrides: Record<string, unknown> = {}): IdentitySourceSpec {
  return identitySourceSpec.parse({
    type: 'csv',
    configMapRef: { name: 'hr', key: 'people.csv' },
    idField: 'id',
    mapping: [
      { to: 'userName', from: 'login', transforms: [{ op: 'trim' }, { op: 'lower' }] },
      { to: 'givenName', from: 'first' },
      { to: 'familyName', from: 'last' },
      { to: 'displayName', from: 'first', transforms: [{ op: 'concat', fields: ['last'] }] },
      { to: 'email', from: 'mail', transforms: [{ op: 'lower' }] },
      { to: 'department', from: 'dept', transforms: [{ op: 'lookup', table: { S: 'Sales', F: 'Finance' } }] },
      { to: 'labels/team', from: 'dept', transforms: [{ op: 'lower' }] },
      { to: 'validFrom', from: 'start', transforms: [{ op: 'date', format: 'yyyy-mm-dd', timeZone: 'Europe/Berlin' }] },
      { to: 'attributes/costCentre', from: 'cc', transforms: [{ op: 'regexReplace', pattern: '^CC-', replacement: '' }] },
      { to: 'employeeType', from: 'kind', transforms: [{ op: 'default', value: 'employee' }] },
    ],
    terminationField: { field: 'status', values: ['left'] },
    terminationDate: { field: 'end', format: 'yyyy-mm-dd', timeZone: 'Europe/Berlin' },
    ...overrides,
  });
}

const HEADER = 'id,login,first,last,mail,dept,start,cc,kind,status,end';
const GOOD = 'E1,Alice ,Alice,Smith,Alice@Example.com,S,2026-12-01,CC-100,,active,';

function mapCsv(lines: string[], s = spec()) {
  const rejections = new Rejections(50);
  const records = parseCsv([HEADER, ...lines].join('\n'), rejections);
  return { ...mapRecords(records, s, NOW, rejections), rejections };
}

describe('mapping a CSV feed', () => {
  it('maps a good record with every transform', () => {
    const { users, rejections } = mapCsv([GOOD]);
    expect(rejections.count).toBe(0);
    expect(users).toEqual([
      {
        name: 'e1',
        id: 'E1',
        ref: 'line 2',
        leaver: false,
        labels: { team: 's' },
        spec: {
          userName: 'alice',
          givenName: 'Alice',
          familyName: 'Smith',
          displayName: 'Alice Smith',
          email: 'alice@example.com',
          department: 'Sales',
          validFrom: '2026-11-30T23:00:00Z',
          attributes: { costCentre: '100' },
          employeeType: 'employee',
        },
      },
    ]);
  });

  it('a termination date in the future is validUntil to the second; a passed one or the termination field makes a leaver', () => {
    const { users } = mapCsv([
      'E1,alice,A,S,a@x.io,S,2026-01-01,1,,active,2026-12-31',
      'E2,bob,B,S,b@x.io,S,2026-01-01,1,,active,2026-11-29',
      'E3,carol,C,S,c@x.io,S,2026-01-01,1,,left,',
    ]);
    expect(users.map((u) => [u.name, u.leaver, u.spec.validUntil])).toEqual([
      ['e1', false, '2026-12-31T23:00:00Z'],
      ['e2', true, undefined],
      ['e3', true, undefined],
    ]);
  });

  // At least ten kinds of bad record, each named, with the good records still mapped.
  it.each([
    ['a row with too few fields', 'E9,bad', 'line 3', undefined, 'malformed row: 2 fields where the header has 11'],
    [
      'a row with an unterminated quote',
      'E9,"bad,B,S,b@x.io,S,2026-01-01,1,,active,\nE3,carol,C,S,c@x.io,S,2026-01-01,1,,active,',
      'line',
      undefined,
      'malformed row',
    ],
    ['an empty id', ',bob,B,S,b@x.io,S,2026-01-01,1,,active,', 'line 3', 'id', 'the id is empty'],
    ['an id that cannot name a User', 'E 9,bob,B,S,b@x.io,S,2026-01-01,1,,active,', 'E 9 (line 3)', 'id', 'cannot name a User'],
    ['an invalid e-mail', 'E9,bob,B,S,not-an-email,S,2026-01-01,1,,active,', 'E9 (line 3)', 'mail', 'email'],
    ['a value not in the lookup table', 'E9,bob,B,S,b@x.io,X,2026-01-01,1,,active,', 'E9 (line 3)', 'dept', '"X" is not in the lookup table'],
    ['an unparseable start date', 'E9,bob,B,S,b@x.io,S,soon,1,,active,', 'E9 (line 3)', 'start', 'not a date'],
    ['an impossible termination date', 'E9,bob,B,S,b@x.io,S,2026-01-01,1,,active,2026-02-30', 'E9 (line 3)', 'end', 'not a valid date'],
    ['a userName the API refuses', 'E9,Bob Smith!,B,S,b@x.io,S,2026-01-01,1,,active,', 'E9 (line 3)', 'login', 'userName'],
    ['a wrong enum value', 'E9,bob,B,S,b@x.io,S,2026-01-01,1,robot,active,', 'E9 (line 3)', 'kind', 'employeeType'],
    ['bytes that were not UTF-8', 'E9,bob,B\uFFFD,S,b@x.io,S,2026-01-01,1,,active,', 'E9 (line 3)', 'first', 'not valid UTF-8'],
    ['control characters', 'E9,bob,B\u0001,S,b@x.io,S,2026-01-01,1,,active,', 'E9 (line 3)', 'first', 'control characters'],
    ['a start after the end', 'E9,bob,B,S,b@x.io,S,2027-06-01,1,,active,2027-01-01', 'E9 (line 3)', 'end', 'validFrom must be before validUntil'],
  ])('%s', (_title, line, record, field, reason) => {
    const { users, rejections } = mapCsv([GOOD, line]);
    expect(users.map((u) => u.name)).toContain('e1');
    expect(rejections.count).toBeGreaterThanOrEqual(1);
    const rejected = rejections.first[0]!;
    expect(rejected.record).toContain(record);
    expect(rejected.field).toBe(field);
    expect(rejected.reason).toContain(reason);
  });

  it('rejects a label value the API refuses and a missing column, naming the field', () => {
    const s = spec({
      mapping: [
        { to: 'labels/team', from: 'first' },
        { to: 'title', from: 'role' },
      ],
    });
    const { users, rejections } = mapCsv(['E1,alice,Not A Label,S,a@x.io,S,,1,,active,'], s);
    expect(users).toEqual([]);
    expect(rejections.first).toEqual([{ record: 'E1 (line 2)', field: 'first', reason: '"Not A Label" is not a valid label value for team' }]);
    const missing = mapCsv(['E1,alice,Alice,S,a@x.io,S,,1,,active,'], spec({ mapping: [{ to: 'title', from: 'role' }] }));
    expect(missing.rejections.first).toEqual([{ record: 'E1 (line 2)', field: 'role', reason: 'the feed has no column "role"' }]);
    expect(missing.protectedNames).toEqual(new Set(['e1']));
  });

  it('rejects every record of a duplicate id and protects the User it names', () => {
    const { users, rejections, protectedNames } = mapCsv([GOOD, GOOD.replace('Alice ', 'alice2'), 'E2,bob,B,S,b@x.io,S,,1,,active,']);
    expect(users.map((u) => u.name)).toEqual(['e2']);
    expect(rejections.first.map((r) => [r.record, r.reason])).toEqual([
      ['E1 (line 2)', 'duplicate id: also at line 3'],
      ['E1 (line 3)', 'duplicate id: also at line 2'],
    ]);
    expect(protectedNames).toEqual(new Set(['e1']));
  });

  it('counts every rejection but keeps only the first N', () => {
    const rejections = new Rejections(2);
    const records = parseCsv([HEADER, ',a', ',b', ',c'].join('\n'), rejections);
    mapRecords(records, spec(), NOW, rejections);
    expect(rejections.count).toBe(3);
    expect(rejections.first).toHaveLength(2);
  });

  it('refuses a feed it cannot read at all', () => {
    expect(() => parseCsv('', new Rejections())).toThrow(FeedError);
    expect(() => parseCsv('id,id\n1,2', new Rejections())).toThrow('names column "id" twice');
    expect(() => parseJson('{"people": ', undefined, new Rejections())).toThrow(FeedError);
    expect(() => parseJson('{"people": {}}', 'people', new Rejections())).toThrow('is not an array of records');
  });

  it('finds problems in the spec that no record can fix', () => {
    const s = spec({
      mapping: [
        {
          to: 'title',
          from: 'x',
          transforms: [
            { op: 'regexReplace', pattern: '(' },
            { op: 'date', timeZone: 'Nowhere/City' },
          ],
        },
      ],
    });
    expect(specProblems(s)).toEqual([
      expect.stringContaining('spec.mapping[0].transforms[0].pattern'),
      'spec.mapping[0].transforms[1].timeZone: unknown time zone Nowhere/City',
    ]);
  });
});

describe('mapping a JSON feed', () => {
  const jsonSpec = spec({
    type: 'json',
    jsonPath: 'data.people',
    idField: 'employeeNumber',
    mapping: [
      { to: 'email', from: 'contact.email' },
      { to: 'title', from: 'title' },
      { to: 'attributes/level', from: 'level' },
    ],
    terminationField: { field: 'active', values: ['false'] },
    terminationDate: undefined,
  });

  it('reads nested fields and numbers, and rejects wrong types and non-objects', () => {
    const rejections = new Rejections();
    const text = JSON.stringify({
      data: {
        people: [
          { employeeNumber: 101, contact: { email: 'a@x.io' }, title: 'Rep', level: 3, active: true },
          { employeeNumber: 'E2', contact: { email: 'b@x.io' }, title: ['a', 'b'], active: true },
          'not a person',
          { employeeNumber: 'E3', contact: { email: 'c@x.io' }, active: false },
          { employeeNumber: null, title: 'nobody' },
        ],
      },
    });
    const mapped = mapRecords(parseJson(text, 'data.people', rejections), jsonSpec, NOW, rejections);
    expect(mapped.users.map((u) => [u.name, u.spec, u.leaver])).toEqual([
      ['101', { userName: '101', email: 'a@x.io', title: 'Rep', attributes: { level: '3' } }, false],
      ['e3', { userName: 'e3', email: 'c@x.io' }, true],
    ]);
    expect(rejections.first).toEqual([
      { record: 'record 3', reason: 'not an object but string' },
      { record: 'E2 (record 2)', field: 'title', reason: 'title is an array, not text' },
      { record: 'record 5', field: 'employeeNumber', reason: 'the id is empty' },
    ]);
    expect(mapped.unidentified).toBe(1);
  });
});
