// A watch event is work only when it changes what a reconcile acts on. Rollcall's own finalizer,
// added on a new object's first reconcile, is not: counted as a change, it reconciled every new
// User twice (20,001 reconciles for 10,000 joiners in the scale benchmark).
import { describe, expect, it } from 'vitest';
import type { AnyResource } from '../../../src/store/store.ts';
import { FINALIZER } from '../../../src/api/index.ts';
import { isMeaningfulChange } from '../../../src/controllers/watches.ts';

const user = (metadata: object = {}, spec: object = { userName: 'ann' }) =>
  ({
    apiVersion: 'rollcall.dev/v1alpha1',
    kind: 'User',
    metadata: { name: 'ann', namespace: 'acme', generation: 1, ...metadata },
    spec,
  }) as unknown as AnyResource;

describe('isMeaningfulChange', () => {
  it("is not set off by Rollcall's own finalizer, added to an object that had none or had others", () => {
    expect(isMeaningfulChange(user(), user({ finalizers: [FINALIZER] }))).toBe(false);
    expect(isMeaningfulChange(user({ finalizers: [] }), user({ finalizers: [FINALIZER] }))).toBe(false);
    expect(isMeaningfulChange(user({ finalizers: ['other'] }), user({ finalizers: ['other', FINALIZER] }))).toBe(false);
  });

  it("is set off by another's finalizer, the spec, labels, annotations and deletion", () => {
    expect(isMeaningfulChange(user(), user({ finalizers: ['other'] }))).toBe(true);
    expect(isMeaningfulChange(user(), user({ generation: 2 }, { userName: 'ann', state: 'terminated' }))).toBe(true);
    expect(isMeaningfulChange(user(), user({ labels: { team: 'a' } }))).toBe(true);
    expect(isMeaningfulChange(user(), user({ annotations: { note: 'x' } }))).toBe(true);
    expect(isMeaningfulChange(user(), user({ deletionTimestamp: '2026-12-07T00:00:00Z' }))).toBe(true);
    expect(isMeaningfulChange(undefined, user())).toBe(true);
  });
});
