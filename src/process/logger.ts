// Structured JSON logs (pino). Connectors and controllers log objects that may hold credentials
// (a bind password in a connection config, a token in request headers), so credential fields are
// censored at every depth we log at, by name, before anything reaches the output.
import { pino, type DestinationStream, type Logger } from 'pino';

/** Field names that hold secrets, in the spellings LDAP, AD, SCIM, HTTP and our own config use. */
export const CREDENTIAL_FIELDS = [
  'password',
  'passwd',
  'token',
  'secret',
  'bindPassword',
  'credentials',
  'authorization',
  'Authorization',
  'unicodePwd',
  'userPassword',
  'apiKey',
  'accessToken',
  'refreshToken',
  'clientSecret',
  'privateKey',
] as const;

// pino's wildcards match one level each; three levels cover `{ config: { auth: { password } } }`.
export const REDACT_PATHS = ['', '*.', '*.*.', '*.*.*.'].flatMap((prefix) => CREDENTIAL_FIELDS.map((field) => `${prefix}${field}`));

export const REDACTED = '[REDACTED]';

export interface LoggerOptions {
  level?: string;
  destination?: DestinationStream;
  name?: string;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const settings = {
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    name: options.name ?? 'rollcall',
    redact: { paths: REDACT_PATHS, censor: REDACTED },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

export type { Logger };
