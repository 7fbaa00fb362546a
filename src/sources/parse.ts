// Feeds to records. A record that cannot be read is rejected on its own (named by its line or
// index) and the rest proceed; only a feed that cannot be read at all is a FeedError, and then
// nothing happens to anyone: a parse error is never a leaver.
import { parse as parseCsvText, type CsvError } from 'csv-parse/sync';
import { FeedError, type FeedRecord, type Rejections } from './records.ts';

export function parseCsv(text: string, rejections: Rejections): FeedRecord[] {
  const skipped: Array<{ line: number; reason: string }> = [];
  let rows: Array<{ record: string[]; info: { lines: number } }>;
  try {
    rows = parseCsvText(text, {
      bom: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      on_skip: (error: CsvError | undefined) => {
        skipped.push({ line: Number((error as { lines?: number } | undefined)?.lines ?? 0), reason: error?.message ?? 'unreadable row' });
        return undefined;
      },
    }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
  } catch (error) {
    throw new FeedError(`the CSV cannot be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  for (const { line, reason } of skipped) rejections.add({ record: `line ${line}`, reason: `malformed row: ${reason}` });
  const [header, ...body] = rows;
  if (!header) throw new FeedError('the CSV is empty: it has no header row');
  const columns = header.record.map((c) => c.trim());
  const duplicate = columns.find((c, i) => columns.indexOf(c) !== i);
  if (duplicate !== undefined) throw new FeedError(`the CSV header names column "${duplicate}" twice`);
  if (columns.some((c) => c === '')) throw new FeedError('the CSV header has an empty column name');
  const records: FeedRecord[] = [];
  for (const { record, info } of body) {
    const ref = `line ${info.lines}`;
    if (record.length !== columns.length) {
      rejections.add({ record: ref, reason: `malformed row: ${record.length} fields where the header has ${columns.length}` });
      continue;
    }
    records.push({ ref, columns, fields: Object.fromEntries(columns.map((c, i) => [c, record[i]])) });
  }
  return records;
}

/**
 * JSON: an array of objects, at `path` (dot-separated) or the document itself. Nested objects are
 * read as dotted fields (address.city); an element that is not an object is rejected.
 */
export function parseJson(text: string, path: string | undefined, rejections: Rejections): FeedRecord[] {
  let document: unknown;
  try {
    document = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new FeedError(`the JSON cannot be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  let list = document;
  for (const step of path ? path.split('.') : []) {
    list = isObject(list) ? list[step] : undefined;
  }
  if (!Array.isArray(list)) throw new FeedError(`the JSON ${path ? `at ${path} ` : ''}is not an array of records`);
  const records: FeedRecord[] = [];
  list.forEach((element, index) => {
    const ref = `record ${index + 1}`;
    if (!isObject(element)) {
      rejections.add({ record: ref, reason: `not an object but ${Array.isArray(element) ? 'an array' : element === null ? 'null' : typeof element}` });
      return;
    }
    records.push({ ref, fields: flatten(element) });
  });
  return records;
}

function flatten(object: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [key, value] of Object.entries(object)) {
    if (isObject(value)) flatten(value, `${prefix}${key}.`, out);
    else out[`${prefix}${key}`] = value;
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
