// Salted scrypt hashes for the file's passphrase and for account passwords, compared in constant time.
// Asynchronous on purpose: scrypt is slow by design, and the connector must not stall other systems.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const derive = promisify(scrypt) as (secret: string, salt: Buffer, keyLength: number) => Promise<Buffer>;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

/** `scrypt$<salt>$<key>` in base64, with node's default cost parameters. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await derive(secret, salt, KEY_LENGTH);
  return `scrypt$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function secretMatches(secret: string, stored: string): Promise<boolean> {
  const [scheme, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || salt === undefined || key === undefined) return false;
  const expected = Buffer.from(key, 'base64');
  if (expected.length !== KEY_LENGTH) return false;
  const actual = await derive(secret, Buffer.from(salt, 'base64'), KEY_LENGTH);
  return timingSafeEqual(actual, expected);
}
