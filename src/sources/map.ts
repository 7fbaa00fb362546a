// Records to the Users they describe. Every record is mapped on its own: one that cannot be (a
// missing id or column, a wrong type, an invalid value, an encoding error, a duplicate id) is
// rejected with its field named and the rest proceed. A rejected record's id is remembered, so the
// User it describes is left alone, never taken for a leaver.
import { userSpec, type IdentitySourceSpec, type UserSpec } from '../api/index.ts';
import { patternProblem } from '../engine/linear-regex.ts';
import { isValidTimeZone, parseDate } from './dates.ts';
import type { FeedRecord, Rejections } from './records.ts';
import { ValueError, applyTransforms } from './transforms.ts';

/** The part of a User an identity source decides. */
export interface DesiredUser {
  /** metadata.name: the record's id, lowercased. */
  name: string;
  id: string;
  ref: string;
  /** Only the fields the mapping names (plus userName, and validUntil from terminationDate). */
  spec: Partial<Record<ManagedField, string>> & { attributes?: Record<string, string> };
  labels: Record<string, string>;
  /** Marked as gone by terminationField, or its terminationDate has passed. */
  leaver: boolean;
}
type ManagedField = Exclude<keyof UserSpec, 'attributes' | 'state'>;

export interface MappedFeed {
  users: DesiredUser[];
  /** Names of Users whose record was rejected: left as they are, never terminated as missing. */
  protectedNames: Set<string>;
  /** Rejected records whose id could not be read: then nobody is taken for missing. */
  unidentified: number;
}

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/** Problems of the spec that no record can fix (an invalid pattern or time zone): nothing is read. */
export function specProblems(spec: IdentitySourceSpec): string[] {
  const problems: string[] = [];
  spec.mapping.forEach((m, i) =>
    (m.transforms ?? []).forEach((t, j) => {
      const at = `spec.mapping[${i}].transforms[${j}]`;
      if (t.op === 'regexReplace') {
        const problem = patternProblem(t.pattern ?? '');
        if (problem !== undefined) problems.push(`${at}.pattern: ${problem}`);
      }
      if (t.op === 'date' && t.timeZone !== undefined && !isValidTimeZone(t.timeZone)) problems.push(`${at}.timeZone: unknown time zone ${t.timeZone}`);
    }),
  );
  if (spec.terminationDate && !isValidTimeZone(spec.terminationDate.timeZone))
    problems.push(`spec.terminationDate.timeZone: unknown time zone ${spec.terminationDate.timeZone}`);
  return problems;
}

class RecordError extends Error {
  readonly field: string | undefined;
  constructor(field: string | undefined, reason: string) {
    super(reason);
    this.field = field;
  }
}

export function mapRecords(records: readonly FeedRecord[], spec: IdentitySourceSpec, now: Date, rejections: Rejections): MappedFeed {
  const idField = spec.idField ?? 'userName';
  const protectedNames = new Set<string>();
  let unidentified = 0;
  const byName = new Map<string, DesiredUser[]>();
  for (const record of records) {
    const read = reader(record);
    let id: string;
    try {
      id = read(idField).trim();
      if (id === '') throw new RecordError(idField, 'the id is empty');
    } catch (error) {
      unidentified++;
      rejections.add({ record: record.ref, field: idField, reason: (error as Error).message });
      continue;
    }
    const name = id.toLowerCase();
    try {
      if (name.length > 253 || !NAME.test(name)) throw new RecordError(idField, `the id "${id}" cannot name a User (lowercase letters, digits, "-" and ".")`);
      const user = mapRecord(record, read, id, name, spec, now);
      byName.set(name, [...(byName.get(name) ?? []), user]);
    } catch (error) {
      protectedNames.add(name);
      rejections.add({ record: `${id} (${record.ref})`, field: error instanceof RecordError ? error.field : undefined, reason: (error as Error).message });
    }
  }
  const users: DesiredUser[] = [];
  for (const [name, same] of byName) {
    if (same.length === 1) {
      if (!protectedNames.has(name)) users.push(same[0]!);
      continue;
    }
    // Which of them is right is not ours to guess: all are rejected and the User stays as it is.
    protectedNames.add(name);
    for (const user of same) {
      rejections.add({
        record: `${user.id} (${user.ref})`,
        field: idField,
        reason: `duplicate id: also at ${same
          .filter((u) => u !== user)
          .map((u) => u.ref)
          .join(', ')}`,
      });
    }
  }
  return { users, protectedNames, unidentified };
}

function mapRecord(record: FeedRecord, read: (field: string) => string, id: string, name: string, spec: IdentitySourceSpec, now: Date): DesiredUser {
  const out: DesiredUser = { name, id, ref: record.ref, spec: {}, labels: {}, leaver: false };
  const fromOf = new Map<string, string>();
  for (const m of spec.mapping) {
    const field = m.from ?? m.to;
    let value: string;
    try {
      value = applyTransforms(m.from !== undefined ? read(m.from) : m.value!, m.transforms ?? [], read);
    } catch (error) {
      if (error instanceof ValueError) throw new RecordError(field, error.message);
      throw error;
    }
    value = value.trim();
    if (m.required && value === '') throw new RecordError(field, `${m.to} is required but the value is empty`);
    fromOf.set(m.to.startsWith('attributes/') ? `attributes.${m.to.slice(11)}` : m.to, field);
    if (m.to.startsWith('labels/')) {
      if (value.length > 63 || !LABEL_VALUE.test(value)) throw new RecordError(field, `"${value}" is not a valid label value for ${m.to.slice(7)}`);
      if (value !== '') out.labels[m.to.slice(7)] = value;
    } else if (m.to.startsWith('attributes/')) {
      if (value !== '') out.spec.attributes = { ...out.spec.attributes, [m.to.slice(11)]: value };
    } else if (value !== '') {
      out.spec[m.to as ManagedField] = value;
    }
  }
  out.spec.userName ??= name;

  if (spec.terminationField) {
    const value = read(spec.terminationField.field).trim().toLowerCase();
    out.leaver = spec.terminationField.values.some((v) => v.toLowerCase() === value);
  }
  if (spec.terminationDate) {
    const { field, format, timeZone } = spec.terminationDate;
    const text = read(field).trim();
    if (text !== '') {
      let until: string;
      try {
        until = parseDate(text, format, timeZone, true);
      } catch (error) {
        throw new RecordError(field, (error as Error).message);
      }
      // Honoured to the second: until then the person works, and validUntil ends access on time.
      if (Date.parse(until) <= now.getTime()) out.leaver = true;
      else out.spec.validUntil = until;
    }
  }

  // The same checks the API server makes: a record that would be refused is rejected here, its field named.
  const checked = userSpec.safeParse({ ...out.spec });
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const path = issue.path.join('.');
    throw new RecordError(fromOf.get(path) ?? path, `${path || 'record'}: ${issue.message}`);
  }
  if (out.spec.validFrom && out.spec.validUntil && Date.parse(out.spec.validFrom) >= Date.parse(out.spec.validUntil)) {
    throw new RecordError(fromOf.get('validUntil') ?? spec.terminationDate?.field, 'validFrom must be before validUntil');
  }
  return out;
}

/** Reads one field as text: a missing CSV column, a nested value or bytes that were not UTF-8 reject the record. */
function reader(record: FeedRecord): (field: string) => string {
  return (field) => {
    if (record.columns && !record.columns.includes(field)) throw new RecordError(field, `the feed has no column "${field}"`);
    // The field name is the source's mapping (tenant input): `constructor` is no field of a record.
    const value = Object.hasOwn(record.fields, field) ? record.fields[field] : undefined;
    if (value === undefined || value === null) return '';
    if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
    if (typeof value !== 'string') throw new RecordError(field, `${field} is ${Array.isArray(value) ? 'an array' : `a ${typeof value}`}, not text`);
    if (value.includes('\uFFFD')) throw new RecordError(field, `${field} is not valid UTF-8`);
    if ([...value].some(isControl)) throw new RecordError(field, `${field} contains control characters`);
    return value;
  };
}

/** C0 controls other than tab, line feed and carriage return: binary, not text. */
function isControl(char: string): boolean {
  const code = char.codePointAt(0)!;
  return code < 0x20 && char !== '\t' && char !== '\n' && char !== '\r';
}
