// Maps what pg throws onto the two errors the work queue understands. Messages name the system and
// the step; they carry the server's own words but never a password (the server never has one to say).
import { PermanentError, RetryableError, errorMessage, type FailureScope } from '../../api/index.ts';
import { socketFailureScope } from '../unreachable.ts';

/** Node socket errors: the server is down, restarting or unreachable right now. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** SQLSTATEs that a later attempt can outlive: shutdown, startup, too many connections, timeouts, conflicts. */
function retryableSqlState(code: string): boolean {
  return (
    code.startsWith('08') || // connection exception
    code.startsWith('53') || // insufficient resources, 53300 too many connections
    ['57P01', '57P02', '57P03', '57014', '40001', '40P01', '55P03'].includes(code)
  );
}

/** A SQLSTATE error from the server, after which the connection is still usable. */
export function isStatementError(error: unknown): boolean {
  const code = sqlState(error);
  return code !== undefined && !code.startsWith('08') && !code.startsWith('57P');
}

/**
 * Whom a SQLSTATE blames. Data (22), integrity (23), syntax or access rule (42), program limit (54)
 * and a protocol violation (08P01: the request itself was malformed, e.g. a NUL in a string) are
 * this request's; a retry of the same request fails the same way. A transaction rollback (40) or a
 * lock not available (55P03) is this request meeting another. Connection failures (08), too many
 * connections (53), a shutting-down server (57P01-3) and wrong credentials (28) are the system's.
 * Anything else (57014 a statement timeout) cannot tell.
 */
export function sqlStateScope(code: string): FailureScope | undefined {
  if (code === '08P01' || ['22', '23', '42', '54', '40'].includes(code.slice(0, 2)) || code === '55P03') return 'account';
  if (['08', '53', '28'].includes(code.slice(0, 2)) || ['57P01', '57P02', '57P03'].includes(code)) return 'system';
  return undefined;
}

export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export function toConnectorError(error: unknown, where: { system: string; username: string; what: string }): Error {
  if (error instanceof RetryableError || error instanceof PermanentError) return error;
  const prefix = `${where.system}: ${where.what}`;
  const code = sqlState(error);
  if (code === '28P01' || code === '28000') {
    return new PermanentError(`${prefix}: authentication failed for ${where.system} as ${where.username}; check the credentials Secret`, { scope: 'system' });
  }
  if (code !== undefined) {
    const reason = `${errorMessage(error)} (SQLSTATE ${code})`;
    const scope = sqlStateScope(code);
    // A protocol violation is retryable by its class (08), but the same request violates it again.
    return retryableSqlState(code) && code !== '08P01'
      ? new RetryableError(`${prefix}: ${reason}`, { cause: error, scope })
      : new PermanentError(`${prefix}: ${reason}`, { scope });
  }
  const nodeCode = (error as { code?: unknown } | null)?.code;
  if (typeof nodeCode === 'string' && NETWORK_CODES.has(nodeCode)) {
    const scope = socketFailureScope(nodeCode);
    return new RetryableError(`${prefix}: ${nodeCode} (${errorMessage(error)})`, { cause: error, scope });
  }
  // pg's own client errors (connection timeout, "Connection terminated", query read timeout) carry
  // no code; anything without a SQLSTATE happened on the way, not in the server: try again later.
  // Whether one request or the whole server is to blame, only asking the server tells (no scope).
  return new RetryableError(`${prefix}: ${errorMessage(error)}`, { cause: error });
}
