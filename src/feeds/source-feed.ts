// Reading an identity source's feed: a ConfigMap through the store, a URL with a conditional GET
// (the last body is kept per source, so a 304 costs nothing), or a paged LDAP search (ldap-feed.ts).
// What the feed says is decided in src/sources; this only fetches it. Every connection passes the egress
// guard (connectors/egress/), redirects are followed by hand so each hop is checked, and a body is
// counted while it streams in, so no feed can fill the memory every tenant shares.
import type { Logger } from 'pino';
import { fetch as undiciFetch, type Agent, type Response } from 'undici';
import { errorMessage, PermanentError, RetryableError, type IdentitySource, type SourceType } from '../api/index.ts';
import { EgressGuard, privateNetworkRefusal, type EgressPolicy } from '../connectors/egress/guard.ts';
import { guardedAgent } from '../connectors/egress/http.ts';
import { FeedError, type FeedRecord, type Rejections } from '../sources/records.ts';
import { parseCsv, parseJson } from '../sources/parse.ts';
import { keyOf, keyString, type Store } from '../store/store.ts';
import { CredentialsMissingError, CredentialsRefusedError, credentialsRefusal } from '../connections/credentials.ts';
import { sourceCredentialsUse } from '../connections/credentials-use.ts';
import { readLdapFeed } from './ldap-feed.ts';
import { SourceDataRefusedError, sourceDataRefusal } from './source-data.ts';

const TIMEOUT_MS = 30_000;
/** The default of rollcall run --feed-max-bytes. */
export const DEFAULT_FEED_MAX_BYTES = 32 * 1024 * 1024;
/** Redirects followed for one read; more is a loop or a maze. */
export const MAX_REDIRECTS = 5;

export interface FeedReaderOptions {
  /** The operator's egress policy (cluster ranges, resolver); the source's spec.allowPrivateNetwork decides per source. */
  egress?: EgressPolicy;
  /** Largest feed body read over HTTP, in bytes. */
  maxBytes?: number;
  /** What went wrong below the generic status message goes here, at debug level. */
  logger?: Logger;
}

interface CachedBody {
  url: string;
  etag?: string;
  lastModified?: string;
  text: string;
}

export class FeedReader {
  readonly #store: Store;
  readonly #bodies = new Map<string, CachedBody>();
  readonly #egress: EgressPolicy;
  readonly #maxBytes: number;
  readonly #logger: Logger | undefined;

  constructor(store: Store, options: FeedReaderOptions = {}) {
    this.#store = store;
    this.#egress = options.egress ?? {};
    this.#maxBytes = options.maxBytes ?? DEFAULT_FEED_MAX_BYTES;
    this.#logger = options.logger;
  }

  /** The feed's records; rejected records go to `rejections`. Throws FeedError when the feed as a whole is unreadable. */
  async read(source: IdentitySource, rejections: Rejections, signal: AbortSignal): Promise<FeedRecord[]> {
    const { spec } = source;
    // One reader per type Rollcall pulls, in a Record: a new source type does not compile until it
    // has one here (or is pushed to Rollcall, as scim is: the inbound SCIM server applies it).
    const text = async () => (spec.configMapRef ? this.#configMap(source) : this.#http(source, signal));
    const readers: Record<Exclude<SourceType, 'scim'>, () => Promise<FeedRecord[]>> = {
      ldap: () =>
        readLdapFeed(source, { store: this.#store, credentials: () => this.#credentials(source), egress: this.#egress, logger: this.#logger }, signal),
      csv: async () => parseCsv(await text(), rejections),
      json: async () => parseJson(await text(), spec.jsonPath, rejections),
    };
    if (spec.type === 'scim')
      throw new FeedError(`IdentitySource ${source.metadata.name} is of type scim: its Users come from the inbound SCIM server, not from a feed`);
    return readers[spec.type]();
  }

  forget(source: IdentitySource): void {
    this.#bodies.delete(keyString(keyOf(source)));
  }

  async #configMap(source: IdentitySource): Promise<string> {
    const ref = source.spec.configMapRef!;
    const content = await this.#store.getConfigMap({ namespace: keyOf(source).namespace, name: ref.name });
    if (content === undefined) throw new FeedError(`ConfigMap ${ref.name} does not exist in namespace ${keyOf(source).namespace}`);
    const refusal = sourceDataRefusal(ref.name, 'spec.configMapRef', content.labels);
    if (refusal) throw new SourceDataRefusedError(refusal);
    const text = content.data[ref.key];
    if (text === undefined) throw new FeedError(`ConfigMap ${ref.name} has no key ${ref.key}`);
    return text;
  }

  async #credentials(source: IdentitySource): Promise<Record<string, string> | undefined> {
    return sourceCredentials(this.#store, source);
  }

  async #http(source: IdentitySource, signal: AbortSignal): Promise<string> {
    const { spec } = source;
    const url = spec.url!;
    // Also a CEL rule on the IdentitySource; checked here for manifests no API server saw.
    if (spec.credentialsSecretRef && /^http:/i.test(url) && !spec.insecure) {
      throw new PermanentError('spec.url is plaintext http:// and spec.credentialsSecretRef sends credentials: use https:// or set spec.insecure: true');
    }
    const id = keyString(keyOf(source));
    const cached = this.#bodies.get(id);
    const headers: Record<string, string> = { accept: spec.type === 'json' ? 'application/json' : 'text/csv, text/plain;q=0.9, */*;q=0.1' };
    const credentials = await this.#credentials(source);
    if (credentials?.token) headers.authorization = `Bearer ${credentials.token.trim()}`;
    else if (credentials?.username !== undefined)
      headers.authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password ?? ''}`).toString('base64')}`;
    if (cached?.url === url && cached.etag) headers['if-none-match'] = cached.etag;
    if (cached?.url === url && cached.lastModified) headers['if-modified-since'] = cached.lastModified;
    const { response, agent } = await this.#follow(source, new URL(url), headers, AbortSignal.any([signal, AbortSignal.timeout(TIMEOUT_MS)]));
    try {
      return await this.#accept(source, response, cached);
    } finally {
      await agent.close().catch(() => undefined);
    }
  }

  async #accept(source: IdentitySource, response: Response, cached: CachedBody | undefined): Promise<string> {
    const { spec } = source;
    const url = spec.url!;
    if (response.status === 304 && cached) return cached.text;
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new RetryableError(
        `could not read spec.url: the server refused the credentials (HTTP ${response.status}); check Secret ${spec.credentialsSecretRef?.name ?? '(none)'}`,
      );
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new RetryableError(`could not read spec.url: the server did not answer with a feed (HTTP ${response.status})`);
    }
    // Not fatal: bytes that are not UTF-8 become U+FFFD, and the records holding them are rejected.
    const text = new TextDecoder('utf-8').decode(await this.#body(response));
    this.#bodies.set(keyString(keyOf(source)), {
      url,
      etag: response.headers.get('etag') ?? undefined,
      lastModified: response.headers.get('last-modified') ?? undefined,
      text,
    });
    return text;
  }

  /**
   * GETs `url`, following at most MAX_REDIRECTS redirects. Each hop connects through a guard of its
   * own (so a redirect to a private address is refused like the URL itself), never goes from https
   * to http, and carries the credentials only while it stays at the URL's origin.
   * spec.allowPrivateNetwork allows the host spec.url names, the one its owner declared and the
   * PrivateNetwork condition shows: a redirect to another host gets no private address even then,
   * or one allowed internal feed would lead anywhere inside.
   */
  async #follow(source: IdentitySource, first: URL, headers: Record<string, string>, signal: AbortSignal): Promise<{ response: Response; agent: Agent }> {
    const guard = new EgressGuard(this.#egress, { field: 'spec.url', allowPrivateNetwork: source.spec.allowPrivateNetwork === true });
    const elsewhere = new EgressGuard(this.#egress, { field: 'spec.url', allowPrivateNetwork: false });
    const agents: Agent[] = [];
    let current = first;
    let hopHeaders = headers;
    try {
      for (let hop = 0; ; hop++) {
        const hopGuard =
          hop === 0
            ? guard
            : current.hostname === first.hostname
              ? guard.forField(`spec.url (redirected to ${current.host})`)
              : elsewhere.forField(`spec.url (redirected to ${current.host})`);
        const agent = guardedAgent(hopGuard);
        agents.push(agent);
        let response: Response;
        try {
          response = await undiciFetch(current, { headers: hopHeaders, signal, redirect: 'manual', dispatcher: agent });
        } catch (error) {
          throw this.#unreachable(source, current, error, signal);
        }
        if (![301, 302, 303, 307, 308].includes(response.status)) {
          // The body is read after this returns: the caller closes this hop's agent once it has it.
          agents.pop();
          return { response, agent };
        }
        await response.body?.cancel();
        const location = response.headers.get('location');
        if (hop >= MAX_REDIRECTS) throw new RetryableError(`could not read spec.url: more than ${MAX_REDIRECTS} redirects`);
        const next = location === null ? undefined : URL.parse(location, current);
        if (!next || (next.protocol !== 'http:' && next.protocol !== 'https:'))
          throw new RetryableError(`could not read spec.url: a redirect (HTTP ${response.status}) to no http(s) URL`);
        if (current.protocol === 'https:' && next.protocol === 'http:')
          throw new RetryableError('could not read spec.url: it redirects from https:// to http://, which is refused');
        if (next.origin !== first.origin) {
          const { authorization: _credentials, ...rest } = hopHeaders;
          hopHeaders = rest;
        }
        current = next;
      }
    } finally {
      await Promise.all(agents.map((agent) => agent.close().catch(() => undefined)));
    }
  }

  /**
   * One wording for every failure to connect (refused, timed out, reset, a certificate not
   * accepted, no such host): told apart, they would make Rollcall a port scanner for whoever may
   * write an IdentitySource. The cause goes to the debug log for the operator; a private address
   * refused by the egress guard is said as such, naming the field.
   */
  #unreachable(source: IdentitySource, url: URL, error: unknown, signal: AbortSignal): Error {
    const refused = privateNetworkRefusal(error);
    if (refused) return refused;
    if (signal.aborted && !(signal.reason instanceof DOMException && signal.reason.name === 'TimeoutError'))
      return new RetryableError('reading spec.url was aborted', { cause: error });
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    this.#logger?.debug(
      { source: keyString(keyOf(source)), host: url.host, reason: errorMessage(cause), code: (cause as { code?: unknown })?.code },
      'feed connection failed',
    );
    return new RetryableError('could not read spec.url: no answer from the server (it may be down, unreachable, or its certificate not accepted)');
  }

  /** The body, counted as it streams in: past the limit the read stops at once. */
  async #body(response: Response): Promise<Uint8Array> {
    const limit = this.#maxBytes;
    const tooLarge = () =>
      new FeedError(`spec.url's feed is larger than ${limit} bytes, the most Rollcall reads (rollcall run --feed-max-bytes); nothing was read from it`);
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (declared > limit) {
      await response.body?.cancel();
      throw tooLarge();
    }
    if (!response.body) return new Uint8Array();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of response.body) {
      total += chunk.byteLength;
      if (total > limit) {
        await response.body.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, total);
  }
}

/**
 * The data of the source's credentials Secret, if the Secret opts in (connections/credentials.ts) for
 * this source, the host its url or ldap.url names, and a plaintext transport if it is one: otherwise
 * whoever may write an IdentitySource could send any Secret of the namespace to a URL of their choosing.
 */
export async function sourceCredentials(store: Store, source: IdentitySource): Promise<Record<string, string> | undefined> {
  const ref = source.spec.credentialsSecretRef;
  if (!ref) return undefined;
  const key = { namespace: keyOf(source).namespace, name: ref.name };
  const metadata = await store.getSecretMetadata(key);
  const data = metadata === undefined ? undefined : await store.getSecret(key);
  if (metadata === undefined || data === undefined)
    throw new CredentialsMissingError(`Secret ${ref.name} (spec.credentialsSecretRef) does not exist in namespace ${key.namespace}`);
  const refusal = credentialsRefusal(ref.name, 'spec.credentialsSecretRef', metadata, source.metadata.name, sourceCredentialsUse(source.spec));
  if (refusal) throw new CredentialsRefusedError(refusal);
  return data;
}
