// PostgreSQL truncates identifiers longer than 63 bytes (NAMEDATALEN - 1), in DDL and in `name`
// comparisons alike: a longer user name would silently address a different role. Refuse it instead.
export const MAX_ROLE_NAME_BYTES = 63;

/** Why `name` cannot be a role name, or undefined when it can. */
export function roleNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.includes('\u0000')) return 'contains a NUL character';
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_ROLE_NAME_BYTES) return `is ${bytes} bytes long; PostgreSQL role names have at most ${MAX_ROLE_NAME_BYTES}`;
  return undefined;
}

/**
 * The role a name addresses: PostgreSQL cuts identifiers to their first 63 bytes, never inside a
 * character, so two names alike in those bytes are one role. Quoted, as Rollcall sends them, case counts.
 */
export function roleNameKey(name: string): string {
  let bytes = 0;
  let kept = '';
  for (const char of name) {
    bytes += Buffer.byteLength(char, 'utf8');
    if (bytes > MAX_ROLE_NAME_BYTES) break;
    kept += char;
  }
  return kept;
}
