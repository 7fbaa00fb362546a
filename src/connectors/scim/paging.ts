// Index-based paging of a SCIM search (RFC 7644 §3.4.2.4), read whole before anything is planned
// from it. startIndex is 1-based and the server may return fewer than asked (its own page size). A
// listing is consistent or it is not used: resources are de-duplicated by id, and when totalResults
// changes between pages (a resource was created or deleted meanwhile, so index paging may have
// skipped one or shown one twice) the listing starts over. Stops on an empty page, or once
// totalResults is reached.
import { PermanentError, RetryableError } from '../../api/index.ts';
import type { ScimHttp } from './http.ts';
import { scimFailure } from './errors.ts';
import type { ListResponse } from './schema.ts';

/** Listings that keep changing under us are given up after this many tries (the next pass tries again). */
const MAX_LISTINGS = 4;

export interface Listing {
  endpoint: 'Users' | 'Groups';
  query: Record<string, string>;
  pageSize: number;
  what: string;
  /** The query carries a filter the server may refuse (400 invalidFilter, 501): then the answer is 'refused', not an error. */
  refusable?: boolean;
}

/** Every resource the search finds, each once; 'refused' when the server refused a refusable filter. */
export async function listAll<T extends { id: string }>(http: ScimHttp, listing: Listing, signal: AbortSignal): Promise<T[] | 'refused'> {
  for (let attempt = 1; attempt <= MAX_LISTINGS; attempt++) {
    const result = await listOnce<T>(http, listing, signal);
    if (result !== 'changed') return result;
  }
  throw new RetryableError(
    `SCIM ${listing.what} on ${http.system}: the listing changed while it was being read, ${MAX_LISTINGS} times in a row; trying again later`,
  );
}

async function listOnce<T extends { id: string }>(http: ScimHttp, listing: Listing, signal: AbortSignal): Promise<T[] | 'refused' | 'changed'> {
  const { endpoint, query, pageSize, what } = listing;
  const byId = new Map<string, T>();
  let total: number | undefined;
  for (let startIndex = 1; ;) {
    const accept = listing.refusable && startIndex === 1 ? [400, 501] : [];
    const response = await http.send({ method: 'GET', path: [endpoint], query: { ...query, startIndex, count: pageSize }, what }, signal, accept);
    if (response.status >= 300) {
      if (filterRefused(response.status, response.body)) return 'refused';
      throw scimFailure(http.system, what, response.status, response.body);
    }
    const page = (response.body ?? {}) as ListResponse<T>;
    const resources = page.Resources ?? [];
    if (startIndex === 1) total = page.totalResults;
    else if (page.totalResults !== total) return 'changed';
    const before = byId.size;
    for (const resource of resources) byId.set(resource.id, resource);
    if (resources.length === 0 || (total !== undefined && startIndex + resources.length > total)) return [...byId.values()];
    // The same resources again for a new startIndex, with nothing deleted or added: the server does not page.
    if (byId.size === before)
      throw new PermanentError(
        `SCIM ${what} on ${http.system}: the server answered startIndex ${startIndex} with resources it had already returned; it does not page by startIndex`,
      );
    startIndex += resources.length;
  }
}

/** 501, or 400 invalidFilter (RFC 7644 §3.12), or a 400 that names no other reason: the server does not take the filter. */
function filterRefused(status: number, body: unknown): boolean {
  if (status === 501) return true;
  const scimType = (body as { scimType?: unknown } | undefined)?.scimType;
  return status === 400 && (scimType === undefined || scimType === 'invalidFilter');
}
