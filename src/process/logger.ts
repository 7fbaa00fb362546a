// Structured logs (pino), on stderr: stdout belongs to what a command prints (run --once's table,
// plan's document). Connectors and controllers log objects that may hold credentials (a bind
// password in a connection config, a token in request headers), so credential fields are censored
// at every depth we log at, by name, before anything reaches the output, whatever the format.
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
  'initialPassword',
] as const;

// pino's wildcards match one level each; three levels cover `{ config: { auth: { password } } }`.
export const REDACT_PATHS = ['', '*.', '*.*.', '*.*.*.'].flatMap((prefix) => CREDENTIAL_FIELDS.map((field) => `${prefix}${field}`));

export const REDACTED = '[REDACTED]';

/** The values --log-level accepts: pino's levels. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
/** json: one JSON object a line (for collectors); text: one short line a record, for a person. */
export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LoggerOptions {
  level?: string;
  format?: LogFormat;
  /** Default: stderr, written synchronously so nothing is lost when the process exits. */
  destination?: DestinationStream;
  name?: string;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const text = options.format === 'text';
  const settings = {
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    name: options.name ?? 'rollcall',
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    ...(text ? { timestamp: pino.stdTimeFunctions.isoTime } : {}),
  };
  const destination = options.destination ?? pino.destination({ dest: 2, sync: true });
  // The text format rewrites pino's already redacted JSON line, so it never sees a credential either.
  return pino(settings, text ? { write: (line: string) => destination.write(textLine(line)) } : destination);
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields every record has that a person reading a terminal does not need. */
const QUIET_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name']);

/** `TIME LEVEL message key=value ...` from one JSON record; a line that is not JSON passes unchanged. */
export function textLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const fields = Object.entries(record)
    .filter(([key]) => !QUIET_FIELDS.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' && /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)}`);
  const level = LEVEL_NAMES[record.level as number] ?? String(record.level);
  return `${String(record.time)} ${level.padEnd(5)} ${String(record.msg ?? '')}${fields.length ? ` ${fields.join(' ')}` : ''}\n`;
}

export type { Logger };
