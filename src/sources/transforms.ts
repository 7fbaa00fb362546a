// The mapping's value transforms: a closed set of pure string functions, configured by data.
// Nothing here evaluates code from a manifest; a regular expression is the most it accepts, and it
// runs on the linear-time engine (engine/linear-regex.ts), never on JavaScript's backtracking one.
import type { SourceTransform } from '../api/index.ts';
import { PatternError, replaceAllLinear } from '../engine/linear-regex.ts';
import { parseDate } from './dates.ts';

/** A value the record cannot give: the record is rejected with this reason. */
export class ValueError extends Error {}

/** `read` gives another field of the same record (for concat). */
export function applyTransforms(value: string, transforms: readonly SourceTransform[], read: (field: string) => string): string {
  let out = value;
  for (const t of transforms) out = applyTransform(out, t, read);
  return out;
}

function applyTransform(value: string, t: SourceTransform, read: (field: string) => string): string {
  switch (t.op) {
    case 'lower':
      return value.toLowerCase();
    case 'upper':
      return value.toUpperCase();
    case 'trim':
      return value.trim();
    case 'default':
      return value === '' ? (t.value ?? '') : value;
    case 'concat':
      return [value, ...(t.fields ?? []).map(read)].filter((part) => part !== '').join(t.separator ?? ' ');
    case 'split':
      return value.split(t.separator ?? ' ')[t.index ?? 0] ?? '';
    case 'regexReplace':
      try {
        return replaceAllLinear(value, t.pattern ?? '', t.replacement ?? '');
      } catch (error) {
        if (error instanceof PatternError) throw new ValueError(`the mapping's regexReplace pattern is invalid: ${error.message}`);
        throw error;
      }
    case 'date':
      if (value === '') return '';
      try {
        return parseDate(value, t.format ?? 'iso', t.timeZone ?? 'UTC', t.endOfDay ?? false);
      } catch (error) {
        throw new ValueError((error as Error).message);
      }
    case 'lookup':
      if (value === '') return '';
      if (t.table && Object.hasOwn(t.table, value)) return t.table[value]!;
      if (t.default !== undefined) return t.default;
      throw new ValueError(`"${value}" is not in the lookup table`);
  }
}
