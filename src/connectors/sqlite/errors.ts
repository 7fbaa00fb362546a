// SQLite failures mapped to the two errors the work queue understands, each naming the system.
import { errorMessage, PermanentError, RetryableError } from '../../api/index.ts';

const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_CANTOPEN = 14;
// A value the file refuses (a constraint, a string too big) fails the same way on every retry.
const REFUSED_VALUE = new Set([18 /* TOOBIG */, 19 /* CONSTRAINT */, 20 /* MISMATCH */]);

export function connectorError(where: { system: string; path: string }, what: string, error: unknown): Error {
  if (error instanceof RetryableError || error instanceof PermanentError) return error;
  const context = `sqlite system ${where.system}: ${what}`;
  if (isLocked(error)) return new RetryableError(`${context}: database is locked by another connection; will retry`, { cause: error });
  if (isAbort(error)) return new RetryableError(`${context}: aborted`, { cause: error });
  const code = primaryCode(error);
  if (code !== undefined && REFUSED_VALUE.has(code)) return new PermanentError(`${context}: ${errorMessage(error)}`, { cause: error });
  if (code === SQLITE_CANTOPEN) {
    return new RetryableError(`${context}: cannot open ${where.path}; check spec.sqlite.path and that the file can be read and written`, {
      cause: error,
      scope: 'system',
    });
  }
  // Anything else (disk full, I/O error, no permission to create the directory) may pass: retry with backoff.
  return new RetryableError(`${context}: ${errorMessage(error)}`, { cause: error });
}

/** Extended result codes keep the primary code in the low byte. */
export function primaryCode(error: unknown): number | undefined {
  const code = (error as { errcode?: unknown } | null | undefined)?.errcode;
  return typeof code === 'number' ? code & 0xff : undefined;
}

/** Another connection holds a lock on the file. */
export function isLocked(error: unknown): boolean {
  const code = primaryCode(error);
  return code === SQLITE_BUSY || code === SQLITE_LOCKED;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}
