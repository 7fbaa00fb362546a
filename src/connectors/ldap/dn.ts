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

const HEX_PAIR = /^[0-9a-fA-F]{2}$/;

/**
 * Undoes RFC 4514 escaping: `\XX` hex pairs are UTF-8 bytes, `\c` is the character c. Runs once per
 * DN a server sends back (thousands per group), so a value without a backslash costs nothing and
 * only runs of hex pairs go through a byte decoder.
 */
function unescapeValue(raw: string): string {
  if (!raw.includes('\\')) return raw;
  let out = '';
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length === 0) return;
    out += Buffer.from(bytes).toString('utf8');
    bytes = [];
  };
  let i = 0;
  while (i < raw.length) {
    if (raw[i] === '\\' && HEX_PAIR.test(raw.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(raw.slice(i + 1, i + 3), 16));
      i += 3;
      continue;
    }
    flush();
    // `\c` stands for c; a lone backslash at the end stands for itself.
    if (raw[i] === '\\' && i + 1 < raw.length) i++;
    const next = String.fromCodePoint(raw.codePointAt(i)!);
    out += next;
    i += next.length;
  }
  flush();
  return out;
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

/** Normalised DNs by spelling; a group's members are compared over and over, so each is parsed once. */
const normalized = new Map<string, string>();
const MAX_NORMALIZED = 50_000;

/**
 * One spelling per DN, for comparing DNs: attribute types and values lower-cased (the naming
 * attributes Rollcall uses, uid, cn, ou and dc, all match case-insensitively), escaping redone.
 */
export function normalizeDN(dn: string): string {
  let result = normalized.get(dn);
  if (result !== undefined) return result;
  result = formatNormalized(parseDN(dn));
  // Oldest first out: a bound on memory, not a cache policy worth tuning.
  if (normalized.size >= MAX_NORMALIZED) normalized.delete(normalized.keys().next().value!);
  normalized.set(dn, result);
  return result;
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
