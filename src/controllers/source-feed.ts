// Reading an identity source's feed: a ConfigMap through the store, a URL with a conditional GET
// (the last body is kept per source, so a 304 costs nothing), or a paged LDAP search. What the
// feed says is decided in src/sources; this only fetches it.
import { Client, type Entry } from 'ldapts';
import { PermanentError, RetryableError, type IdentitySource } from '../api/index.ts';
import { FeedError, type FeedRecord, type Rejections } from '../sources/records.ts';
import { parseCsv, parseJson } from '../sources/parse.ts';
import { keyOf, keyString, type Store } from '../store/store.ts';
import { CredentialsMissingError, CredentialsRefusedError, credentialsRefusal } from './credentials.ts';
import { sourceCredentialsUse } from './credentials-use.ts';

const TIMEOUT_MS = 30_000;

interface CachedBody {
  url: string;
  etag?: string;
  lastModified?: string;
  text: string;
}

export class FeedReader {
  readonly #store: Store;
  readonly #bodies = new Map<string, CachedBody>();
  readonly #fetch: typeof fetch;

  constructor(store: Store, fetchImpl: typeof fetch = fetch) {
    this.#store = store;
    this.#fetch = fetchImpl;
  }

  /** The feed's records; rejected records go to `rejections`. Throws FeedError when the feed as a whole is unreadable. */
  async read(source: IdentitySource, rejections: Rejections, signal: AbortSignal): Promise<FeedRecord[]> {
    const { spec } = source;
    if (spec.type === 'ldap') return this.#ldap(source, signal);
    const text = spec.configMapRef ? await this.#configMap(source) : await this.#http(source, signal);
    return spec.type === 'json' ? parseJson(text, spec.jsonPath, rejections) : parseCsv(text, rejections);
  }

  forget(source: IdentitySource): void {
    this.#bodies.delete(keyString(keyOf(source)));
  }

  async #configMap(source: IdentitySource): Promise<string> {
    const ref = source.spec.configMapRef!;
    const data = await this.#store.getConfigMap({ namespace: keyOf(source).namespace, name: ref.name });
    if (data === undefined) throw new FeedError(`ConfigMap ${ref.name} does not exist in namespace ${keyOf(source).namespace}`);
    const text = data[ref.key];
    if (text === undefined) throw new FeedError(`ConfigMap ${ref.name} has no key ${ref.key}`);
    return text;
  }

  async #credentials(source: IdentitySource): Promise<Record<string, string> | undefined> {
    return sourceCredentials(this.#store, source);
  }

  async #http(source: IdentitySource, signal: AbortSignal): Promise<string> {
    const url = source.spec.url!;
    const id = keyString(keyOf(source));
    const cached = this.#bodies.get(id);
    const headers: Record<string, string> = { accept: source.spec.type === 'json' ? 'application/json' : 'text/csv, text/plain;q=0.9, */*;q=0.1' };
    const credentials = await this.#credentials(source);
    if (credentials?.token) headers.authorization = `Bearer ${credentials.token.trim()}`;
    else if (credentials?.username !== undefined) headers.authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password ?? ''}`).toString('base64')}`;
    if (cached?.url === url && cached.etag) headers['if-none-match'] = cached.etag;
    if (cached?.url === url && cached.lastModified) headers['if-modified-since'] = cached.lastModified;
    let response: Response;
    try {
      response = await this.#fetch(url, { headers, signal: AbortSignal.any([signal, AbortSignal.timeout(TIMEOUT_MS)]), redirect: 'follow' });
    } catch (error) {
      throw new RetryableError(`cannot reach ${url}: ${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)}`);
    }
    if (response.status === 304 && cached) return cached.text;
    if (response.status === 401 || response.status === 403) throw new RetryableError(`${url} refused the credentials (HTTP ${response.status}); check Secret ${source.spec.credentialsSecretRef?.name ?? '(none)'}`);
    if (!response.ok) throw new RetryableError(`${url} answered HTTP ${response.status}`);
    // Not fatal: bytes that are not UTF-8 become U+FFFD, and the records holding them are rejected.
    const text = new TextDecoder('utf-8').decode(await response.arrayBuffer());
    this.#bodies.set(id, { url, etag: response.headers.get('etag') ?? undefined, lastModified: response.headers.get('last-modified') ?? undefined, text });
    return text;
  }

  async #ldap(source: IdentitySource, signal: AbortSignal): Promise<FeedRecord[]> {
    const settings = source.spec.ldap!;
    if (settings.url.startsWith('ldap://') && !settings.insecure) {
      throw new PermanentError(`spec.ldap.url ${settings.url} is plaintext: use ldaps:// or set spec.ldap.insecure: true`);
    }
    const credentials = await this.#credentials(source);
    const client = new Client({ url: settings.url, timeout: TIMEOUT_MS, connectTimeout: TIMEOUT_MS });
    const abort = () => void client.unbind().catch(() => undefined);
    signal.addEventListener('abort', abort, { once: true });
    try {
      if (credentials?.bindDN) await client.bind(credentials.bindDN, credentials.password ?? '');
      const records: FeedRecord[] = [];
      for await (const page of client.searchPaginated(settings.baseDN, { scope: 'sub', filter: settings.filter, paged: { pageSize: settings.pageSize } })) {
        for (const entry of page.searchEntries) records.push(entryRecord(entry));
      }
      return records;
    } catch (error) {
      if (error instanceof PermanentError) throw error;
      throw new RetryableError(`LDAP search of ${settings.baseDN} at ${settings.url} failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      signal.removeEventListener('abort', abort);
      await client.unbind().catch(() => undefined);
    }
  }
}

/**
 * The data of the source's credentials Secret, if the Secret opts in (controllers/credentials.ts) for
 * this source, the host its url or ldap.url names, and a plaintext transport if it is one: otherwise
 * whoever may write an IdentitySource could send any Secret of the namespace to a URL of their choosing.
 */
export async function sourceCredentials(store: Store, source: IdentitySource): Promise<Record<string, string> | undefined> {
  const ref = source.spec.credentialsSecretRef;
  if (!ref) return undefined;
  const key = { namespace: keyOf(source).namespace, name: ref.name };
  const metadata = await store.getSecretMetadata(key);
  const data = metadata === undefined ? undefined : await store.getSecret(key);
  if (metadata === undefined || data === undefined) throw new CredentialsMissingError(`Secret ${ref.name} (spec.credentialsSecretRef) does not exist in namespace ${key.namespace}`);
  const refusal = credentialsRefusal(ref.name, 'spec.credentialsSecretRef', metadata, source.metadata.name, sourceCredentialsUse(source.spec));
  if (refusal) throw new CredentialsRefusedError(refusal);
  return data;
}

/** An entry as a record: the first value of each attribute, plus dn. */
function entryRecord(entry: Entry): FeedRecord {
  const fields: Record<string, unknown> = { dn: entry.dn };
  for (const [name, value] of Object.entries(entry)) {
    if (name === 'dn') continue;
    const first = Array.isArray(value) ? value[0] : value;
    fields[name] = Buffer.isBuffer(first) ? new TextDecoder('utf-8').decode(first) : first;
  }
  return { ref: entry.dn, fields };
}
