// Reading DNs the server sends back. Building them is escape.ts's job; this only compares and
// takes them apart, because a server may return the same DN with other spacing, case or escaping.
import { escapeDNValue } from './escape.ts';

interface AttributeValueAssertion {
  type: string;
  value: string;
}

/** Splits on `separator` where it is not escaped by a backslash. */
function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === '\\' && i + 1 < text.length) {
      current += char + text[i + 1];
      i++;
    } else if (char === separator) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

/** Undoes RFC 4514 escaping: `\XX` hex pairs are UTF-8 bytes, `\c` is the character c. */
function unescapeValue(raw: string): string {
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  let i = 0;
  while (i < raw.length) {
    const char = raw[i]!;
    if (char === '\\' && /^[0-9a-fA-F]{2}$/.test(raw.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(raw.slice(i + 1, i + 3), 16));
      i += 3;
    } else if (char === '\\' && i + 1 < raw.length) {
      const next = String.fromCodePoint(raw.codePointAt(i + 1)!);
      bytes.push(...encoder.encode(next));
      i += 1 + next.length;
    } else {
      const next = String.fromCodePoint(raw.codePointAt(i)!);
      bytes.push(...encoder.encode(next));
      i += next.length;
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** Trims unescaped surrounding spaces, which RFC 4514 does not count as part of a value. */
function trimRaw(raw: string): string {
  let text = raw.replace(/^ +/, '');
  while (text.endsWith(' ') && !text.endsWith('\\ ')) text = text.slice(0, -1);
  return text;
}

function parseRDN(rdn: string): AttributeValueAssertion[] {
  return splitUnescaped(rdn, '+').map((ava) => {
    const [type = '', ...rest] = splitUnescaped(ava, '=');
    return { type: type.trim().toLowerCase(), value: unescapeValue(trimRaw(rest.join('='))) };
  });
}

/** The RDNs of a DN, leaf first. */
export function parseDN(dn: string): AttributeValueAssertion[][] {
  if (dn.trim() === '') return [];
  return splitUnescaped(dn, ',').map(parseRDN);
}

/**
 * One spelling per DN, for comparing DNs: attribute types and values lower-cased (the naming
 * attributes Rollcall uses, uid, cn, ou and dc, all match case-insensitively), escaping redone.
 */
export function normalizeDN(dn: string): string {
  return formatNormalized(parseDN(dn));
}

function formatNormalized(rdns: AttributeValueAssertion[][]): string {
  return rdns
    .map((rdn) =>
      rdn
        .map((ava) => `${ava.type}=${escapeDNValue(ava.value.toLowerCase())}`)
        .sort()
        .join('+'),
    )
    .join(',');
}

export function sameDN(a: string, b: string): boolean {
  return normalizeDN(a) === normalizeDN(b);
}

/** The value of the leaf RDN, e.g. "engineering" for cn=engineering,ou=groups,dc=example,dc=org. */
export function leafValue(dn: string): string | undefined {
  return parseDN(dn)[0]?.[0]?.value;
}

/** The DN one level up, normalised. */
export function parentDN(dn: string): string {
  return formatNormalized(parseDN(dn).slice(1));
}

/** "example.test" from the dc= components of a DN, for Active Directory user principal names. */
export function dnsDomainOf(dn: string): string {
  return parseDN(dn)
    .flat()
    .filter((ava) => ava.type === 'dc')
    .map((ava) => ava.value)
    .join('.');
}
