// The only two ways the LDAP connector puts a value into a DN or a filter. Pure, so unit tests
// pin them down; every DN and filter the connector sends goes through one of them.

const DN_SPECIAL = new Set(['"', '+', ',', ';', '<', '>', '\\', '=']);

/**
 * Escapes one attribute value for use in a DN (RFC 4514, section 2.4): the special characters get a
 * backslash, NUL becomes \00, and a leading space or '#' and a trailing space are escaped so the
 * server does not trim or reinterpret them. Other characters, UTF-8 included, are left as they are.
 */
export function escapeDNValue(value: string): string {
  let out = '';
  const chars = [...value];
  chars.forEach((char, index) => {
    if (char === '\u0000') out += '\\00';
    else if (DN_SPECIAL.has(char)) out += `\\${char}`;
    else if (index === 0 && (char === ' ' || char === '#')) out += `\\${char}`;
    else if (index === chars.length - 1 && char === ' ') out += '\\ ';
    else out += char;
  });
  return out;
}

const FILTER_ESCAPES: Record<string, string> = { '\\': '\\5c', '*': '\\2a', '(': '\\28', ')': '\\29', '\u0000': '\\00' };

/**
 * Escapes one assertion value for use in a search filter (RFC 4515, section 3): '*', '(', ')',
 * '\' and NUL become \XX. Non-ASCII stays UTF-8 (the RFC allows it), because ldapts decodes each
 * \XX escape as a single character and would garble an escaped multi-byte sequence.
 */
export function escapeFilterValue(value: string): string {
  return [...value].map((char) => FILTER_ESCAPES[char] ?? char).join('');
}
