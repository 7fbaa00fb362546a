// Which network failures blame the system as a whole. Nobody answering at the address (refused,
// no route, no such host) is the system's, whoever asked; a reset connection or a timeout may be one
// request's doing (a value that made the server drop it), so connectors leave those unscoped and the
// connections layer finds out (connections/connections.ts).
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** The failure scope of a Node socket error code: 'system' when nobody answers, otherwise undefined (cannot tell). */
export function socketFailureScope(code: unknown): 'system' | undefined {
  return typeof code === 'string' && UNREACHABLE_CODES.has(code) ? 'system' : undefined;
}
