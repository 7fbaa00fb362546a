// Reading values out of ldapts search entries: it returns a string for one value and an array for
// several, and attribute names in whatever case the server chose.
import type { Entry } from 'ldapts';

export function values(entry: Entry, attribute: string): string[] {
  const wanted = attribute.toLowerCase();
  for (const [key, raw] of Object.entries(entry)) {
    if (key.toLowerCase() !== wanted || key === 'dn') continue;
    const list = Array.isArray(raw) ? raw : [raw];
    return list.map((value) => (Buffer.isBuffer(value) ? value.toString('utf8') : value));
  }
  return [];
}

export function first(entry: Entry, attribute: string): string | undefined {
  return values(entry, attribute)[0];
}
