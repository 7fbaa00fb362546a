// One SCIM request over undici's fetch through the egress guard: authentication, a deadline, bounded retries of busy
// answers (429, 5xx), and the mapping of every failure onto RetryableError or PermanentError.
import { fetch as undiciFetch, type Agent } from 'undici';
import { PermanentError, RetryableError } from '../../api/index.ts';
import { privateNetworkRefusal, type EgressGuard } from '../egress/guard.ts';
import { guardedAgent } from '../egress/http.ts';
import { socketFailureScope } from '../unreachable.ts';
import { scimFailure } from './errors.ts';

export const SCIM_CONTENT_TYPE = 'application/scim+json';

/** Busy answers are retried this many times in all, while the deadline allows. */
const MAX_ATTEMPTS = 3;
const FIRST_BACKOFF_MS = 200;
/** undici's codes for a connection the other side reset or closed before answering. */
const DROPPED_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

export interface ScimHttpOptions {
  /** `namespace/name` of the ConnectedSystem, for messages. */
  system: string;
  /** Base URL without a trailing slash. */
  baseUrl: string;
  /** The Authorization header value. Never logged, never put in a message. */
  authorization: string;
  timeoutMs: number;
  /** PEM of the CA that signed the server's certificate (the Secret's ca.crt); else the system's CAs. */
  ca?: string;
  /** Every connection to baseUrl passes it (spec.allowPrivateNetwork). */
  egress: EgressGuard;
}

export interface ScimRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path segments below the base URL, each encoded here: ['Users', id]. */
  path: readonly string[];
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** What this request does, for messages: "look up user alice". */
  what: string;
  /** The version the write is made against (RFC 7644 §3.14): a server with ETags answers 412 when it is stale. */
  ifMatch?: string;
}

export interface ScimResponse {
  status: number;
  body: unknown;
  /** The resource's version, from the ETag header or else meta.version. */
  version?: string;
}

export class ScimHttp {
  readonly #options: ScimHttpOptions;

  constructor(options: ScimHttpOptions) {
    this.#options = options;
  }

  /** `namespace/name` of the ConnectedSystem, for messages. */
  get system(): string {
    return this.#options.system;
  }

  /**
   * Sends one request, retrying 429 and 5xx answers a few times within the deadline. Answers the
   * caller asks to see (`accept`, e.g. 404 on delete) come back as a response; every other
   * non-2xx answer throws.
   */
  async send(request: ScimRequest, signal: AbortSignal, accept: readonly number[] = []): Promise<ScimResponse> {
    const { system, timeoutMs } = this.#options;
    const deadline = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
    const giveUpAt = performance.now() + timeoutMs;
    for (let attempt = 1; ; attempt++) {
      await this.#quiet(request, giveUpAt, deadline);
      let response: ScimResponse & { retryAfterMs?: number };
      try {
        response = await this.#once(request, deadline);
      } catch (error) {
        if (error instanceof PermanentError) throw error;
        const refused = privateNetworkRefusal(error);
        if (refused) throw refused;
        // A connection dropped before any answer: a read is safe to send again (RFC 9110 §9.2.2);
        // a write is not, as the server may have applied it.
        if (request.method === 'GET' && !deadline.aborted && attempt < MAX_ATTEMPTS && DROPPED_CODES.has(networkCode(error) ?? '')) continue;
        const reason = deadline.aborted && !signal.aborted ? `no answer within ${timeoutMs} ms` : signal.aborted ? 'aborted' : networkReason(error);
        // Nobody answering at that address is the system's; a reset or a timeout may be this request's.
        const scope = socketFailureScope(networkCode(error));
        throw new RetryableError(`SCIM ${request.what} on ${system} failed: ${reason}`, { cause: error, scope });
      }
      if ((response.status >= 200 && response.status < 300) || accept.includes(response.status)) return response;
      const failure = scimFailure(system, request.what, response.status, response.body, response.retryAfterMs);
      if (!(failure instanceof RetryableError)) throw failure;
      // A rate limit or an outage the server announced is the whole system's: every request waits, not only this one.
      if (response.retryAfterMs !== undefined && failure.scope === 'system')
        this.#quietUntil = Math.max(this.#quietUntil, performance.now() + response.retryAfterMs);
      const waitMs = response.retryAfterMs ?? FIRST_BACKOFF_MS * 2 ** (attempt - 1);
      if (attempt >= MAX_ATTEMPTS || performance.now() + waitMs >= giveUpAt) throw failure;
      await sleep(waitMs, deadline).catch(() => {
        throw failure;
      });
    }
  }

  /**
   * Until the time a Retry-After asked for has passed, no request is sent: each waits it out if its
   * deadline allows, or fails at once as the system's (the circuit then stays open that long).
   */
  async #quiet(request: ScimRequest, giveUpAt: number, deadline: AbortSignal): Promise<void> {
    const waitMs = this.#quietUntil - performance.now();
    if (waitMs <= 0) return;
    const busy = () =>
      new RetryableError(
        `SCIM ${request.what} on ${this.#options.system} not sent: the server asked for no requests for ${Math.ceil(waitMs / 1000)} s (Retry-After)`,
        { retryAfterMs: waitMs, scope: 'system' },
      );
    if (performance.now() + waitMs >= giveUpAt) throw busy();
    await sleep(waitMs, deadline).catch(() => {
      throw busy();
    });
  }

  /** performance.now() before which no request is sent: a 429 or 503 answer's Retry-After. */
  #quietUntil = 0;

  async #once(request: ScimRequest, signal: AbortSignal): Promise<ScimResponse & { retryAfterMs?: number }> {
    const headers: Record<string, string> = { authorization: this.#options.authorization, accept: SCIM_CONTENT_TYPE };
    if (request.body !== undefined) headers['content-type'] = SCIM_CONTENT_TYPE;
    if (request.ifMatch !== undefined) headers['if-match'] = request.ifMatch;
    const init = {
      method: request.method,
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal,
      redirect: 'error' as const,
    };
    this.#agent ??= guardedAgent(this.#options.egress, this.#options.ca === undefined ? {} : { ca: this.#options.ca });
    const response = await undiciFetch(this.#url(request), { ...init, dispatcher: this.#agent });
    const text = await response.text();
    const body = parseBody(text);
    const version = response.headers.get('etag') ?? (body as { meta?: { version?: unknown } } | undefined)?.meta?.version;
    return {
      status: response.status,
      body,
      ...(typeof version === 'string' && { version }),
      retryAfterMs: retryAfterMs(response.headers.get('retry-after'), response.headers.get('date')),
    };
  }

  /** Closes the connections the agent keeps. */
  async close(): Promise<void> {
    const agent = this.#agent;
    this.#agent = undefined;
    await agent?.close();
  }

  /** undici's own fetch and Agent: the platform fetch takes neither a CA nor a lookup. */
  #agent: Agent | undefined;

  #url(request: ScimRequest): string {
    const path = request.path.map((segment) => encodeURIComponent(segment)).join('/');
    const query = Object.entries(request.query ?? {})
      .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
      .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`)
      .join('&');
    return `${this.#options.baseUrl}/${path}${query ? `?${query}` : ''}`;
  }
}

function parseBody(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    // A proxy's HTML error page, or whatever an internal service answers: never repeated in a
    // message (status and Events are read by the tenant who chose the URL).
    return undefined;
  }
}

/**
 * Retry-After is seconds or an HTTP date (RFC 9110 §10.2.3). A date is measured against the
 * response's own Date header, so the wait is the server's and no local clock is read.
 */
export function retryAfterMs(header: string | null, responseDate: string | null = null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  const sent = responseDate ? Date.parse(responseDate) : Number.NaN;
  return Number.isNaN(at) || Number.isNaN(sent) ? undefined : Math.max(0, at - sent);
}

function networkCode(error: unknown): string | undefined {
  return (error as { cause?: { code?: string } })?.cause?.code;
}

function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
}
