// Maps what pg throws onto the two errors the work queue understands. Messages name the system and
// the step; they carry the server's own words but never a password (the server never has one to say).
import { PermanentError, RetryableError, errorMessage } from '../../api/index.ts';

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

export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export function toConnectorError(error: unknown, where: { system: string; username: string; what: string }): Error {
  if (error instanceof RetryableError || error instanceof PermanentError) return error;
  const prefix = `${where.system}: ${where.what}`;
  const code = sqlState(error);
  if (code === '28P01' || code === '28000') {
    return new PermanentError(`${prefix}: authentication failed for ${where.system} as ${where.username}; check the credentials Secret`);
  }
  if (code !== undefined) {
    const reason = `${errorMessage(error)} (SQLSTATE ${code})`;
    return retryableSqlState(code) ? new RetryableError(`${prefix}: ${reason}`, { cause: error }) : new PermanentError(`${prefix}: ${reason}`);
  }
  const nodeCode = (error as { code?: unknown } | null)?.code;
  if (typeof nodeCode === 'string' && NETWORK_CODES.has(nodeCode)) {
    return new RetryableError(`${prefix}: ${nodeCode} (${errorMessage(error)})`, { cause: error });
  }
  // pg's own client errors (connection timeout, "Connection terminated", query read timeout) carry
  // no code; anything without a SQLSTATE happened on the way, not in the server: try again later.
  return new RetryableError(`${prefix}: ${errorMessage(error)}`, { cause: error });
}
