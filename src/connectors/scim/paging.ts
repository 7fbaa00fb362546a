// Index-based paging of a SCIM search (RFC 7644 §3.4.2.4): startIndex is 1-based; stop on a short
// or empty page, or once totalResults is reached.
import type { ScimHttp } from './http.ts';
import type { ListResponse } from './schema.ts';

export async function* pages<T>(
  http: ScimHttp,
  endpoint: 'Users' | 'Groups',
  query: Record<string, string>,
  pageSize: number,
  what: string,
  signal: AbortSignal,
): AsyncGenerator<T> {
  for (let startIndex = 1; ; ) {
    const { body } = await http.send({ method: 'GET', path: [endpoint], query: { ...query, startIndex, count: pageSize }, what }, signal);
    const page = (body ?? {}) as ListResponse<T>;
    const resources = page.Resources ?? [];
    yield* resources;
    startIndex += resources.length;
    const total = page.totalResults ?? 0;
    if (resources.length === 0 || startIndex > total) return;
  }
}
