// SCRAM-SHA-256 password verifiers (RFC 5802 / RFC 7677) in the form PostgreSQL stores in
// pg_authid.rolpassword. Sending the verifier instead of the password keeps the clear text out of
// the statement, the server log and pg_stat_statements; the server never sees it.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/** PostgreSQL's own default (scram_iterations). */
export const SCRAM_ITERATIONS = 4096;

export interface ScramKeys {
  storedKey: Buffer;
  serverKey: Buffer;
}

const hmac = (key: Buffer, text: string) => createHmac('sha256', key).update(text, 'utf8').digest();

/** The two keys a server keeps for one password, salt and iteration count. */
export function scramKeys(password: string, salt: Buffer, iterations: number): ScramKeys {
  const salted = pbkdf2Sync(Buffer.from(saslPrep(password), 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = hmac(salted, 'Client Key');
  return { storedKey: createHash('sha256').update(clientKey).digest(), serverKey: hmac(salted, 'Server Key') };
}

/** `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, ready for `ALTER ROLE … PASSWORD '<verifier>'`. */
export function scramVerifier(password: string, options: { salt?: Buffer; iterations?: number } = {}): string {
  const salt = options.salt ?? randomBytes(16);
  const iterations = options.iterations ?? SCRAM_ITERATIONS;
  const { storedKey, serverKey } = scramKeys(password, salt, iterations);
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

// RFC 3454 tables C.1.2 (non-ASCII spaces, mapped to a space) and B.1 (mapped to nothing).
const NON_ASCII_SPACES = new Set([
  0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x200b, 0x202f, 0x205f, 0x3000,
]);
const MAPPED_TO_NOTHING = new Set([
  0xad,
  0x34f,
  0x1806,
  0x180b,
  0x180c,
  0x180d,
  0x200c,
  0x200d,
  0x2060,
  0xfeff,
  ...Array.from({ length: 16 }, (_, i) => 0xfe00 + i), // variation selectors
]);

/**
 * The password normalisation PostgreSQL applies before hashing (src/common/saslprep.c). Pure ASCII
 * passes unchanged, as there. Otherwise this maps spaces, drops invisible characters and applies
 * NFKC; it skips the prohibited-character and bidi checks (after which PostgreSQL would fall back to
 * the raw password), so such exotic passwords would not match.
 */
export function saslPrep(password: string): string {
  const codePoints = [...password].map((c) => c.codePointAt(0)!);
  if (codePoints.every((cp) => cp < 0x80)) return password;
  return String.fromCodePoint(...codePoints.filter((cp) => !MAPPED_TO_NOTHING.has(cp)).map((cp) => (NON_ASCII_SPACES.has(cp) ? 0x20 : cp))).normalize('NFKC');
}
