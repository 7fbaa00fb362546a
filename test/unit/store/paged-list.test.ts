import { describe, expect, it } from 'vitest';
import type { KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { listInPages } from '../../../src/store/paged-list.ts';

/** A server holding `count` objects, answering as the API server does for custom objects (`continue`, not `_continue`). */
function server(count: number) {
  const calls: Array<{ limit: number; continueToken: string | undefined }> = [];
  const page = async (limit: number, continueToken: string | undefined): Promise<KubernetesListObject<KubernetesObject>> => {
    calls.push({ limit, continueToken });
    const from = continueToken === undefined ? 0 : Number(continueToken);
    const items = Array.from({ length: Math.min(limit, count - from) }, (_, i) => ({
      metadata: { name: `u${from + i}`, namespace: 'default', managedFields: [{ manager: 'kubectl' }] },
    }));
    const next = from + limit < count ? String(from + limit) : undefined;
    return {
      apiVersion: 'v1',
      kind: 'List',
      metadata: { resourceVersion: '42', ...(next ? { continue: next } : {}) },
      items,
    } as KubernetesListObject<KubernetesObject>;
  };
  return { page, calls };
}

describe('listInPages', () => {
  it('reads every page in order, and returns the items as one list with the snapshot resourceVersion', async () => {
    const { page, calls } = server(7);
    const list = await listInPages(page, 3);
    expect(list.items.map((item) => item.metadata?.name)).toEqual(['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6']);
    expect(list.metadata?.resourceVersion).toBe('42');
    expect(calls).toEqual([
      { limit: 3, continueToken: undefined },
      { limit: 3, continueToken: '3' },
      { limit: 3, continueToken: '6' },
    ]);
  });

  it('drops managedFields as each page arrives', async () => {
    const list = await listInPages(server(2).page, 500);
    expect(list.items.every((item) => item.metadata?.managedFields === undefined)).toBe(true);
  });

  it('an empty list is one call', async () => {
    const { page, calls } = server(0);
    expect((await listInPages(page, 500)).items).toEqual([]);
    expect(calls).toHaveLength(1);
  });
});
