// An informer's listing, read in pages (limit and continue). In one response, 10,000 Users came
// as one JSON text of tens of MiB, parsed whole, with every object's managedFields (kilobytes each,
// read by no one) alive at once beside it. In pages, each text is a few MiB and goes once read, and
// managedFields go page by page. The API server serves every page from the first page's snapshot,
// so the pages together are exactly the list one call would have returned.
import type { KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';

/** Items per page: a page of Users is then about 1 MiB of JSON. */
export const LIST_PAGE_SIZE = 500;

/** One page: the listing call with `limit` and, after the first, the `continue` token. */
export type ListPage<T extends KubernetesObject> = (limit: number, continueToken: string | undefined) => Promise<KubernetesListObject<T>>;

export async function listInPages<T extends KubernetesObject>(page: ListPage<T>, pageSize = LIST_PAGE_SIZE): Promise<KubernetesListObject<T>> {
  const items: T[] = [];
  let continueToken: string | undefined;
  for (;;) {
    const list = await page(pageSize, continueToken);
    for (const item of list.items ?? []) {
      delete (item.metadata as { managedFields?: unknown } | undefined)?.managedFields;
      items.push(item);
    }
    // Custom objects come as the server wrote them (`continue`); typed lists as client-node names it.
    const metadata = list.metadata as { continue?: string; _continue?: string } | undefined;
    continueToken = metadata?.continue || metadata?._continue || undefined;
    // The last page's metadata holds the snapshot's resourceVersion, where the watch resumes.
    if (continueToken === undefined) return { ...list, items };
  }
}
