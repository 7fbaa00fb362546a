import { describe, expect, it } from 'vitest';
import type { ObservedAccount } from '../../../src/api/index.ts';
import { ObservedCache } from '../../../src/controllers/observed-cache.ts';

const account = (userName: string, entitlements: string[] = []): ObservedAccount => ({
  userName,
  id: userName,
  state: 'present',
  attributes: {},
  entitlements,
});

describe('ObservedCache', () => {
  it('knows nothing before a listing, and absence after one', () => {
    const cache = new ObservedCache();
    expect(cache.get('s', 'alice')).toBeUndefined();
    cache.replace('s', [account('alice')], cache.beginListing());
    expect(cache.get('s', 'alice')?.userName).toBe('alice');
    expect(cache.get('s', 'bob')).toBeNull();
  });

  it('knows a name is nowhere in the system only when the listing saw every name, and not this one', () => {
    const cache = new ObservedCache();
    cache.replace('s', [account('alice')], cache.beginListing());
    // A connector that cannot list every name: any name may be someone else's account.
    expect(cache.mayExistOutsideScope('s', 'carol')).toBe(true);
    cache.replace('s', [account('alice')], cache.beginListing(), new Set(['alice', 'bob']));
    expect(cache.mayExistOutsideScope('s', 'bob')).toBe(true); // unmanaged, legacy or another system's
    expect(cache.mayExistOutsideScope('s', 'carol')).toBe(false);
    // Forgotten with the system (it could not be reached): only a new listing tells again.
    cache.forget('s');
    expect(cache.mayExistOutsideScope('s', 'carol')).toBe(true);
  });

  it('keeps a write made while a listing was in flight over what the listing saw', () => {
    const cache = new ObservedCache();
    cache.replace('s', [account('alice')], cache.beginListing());
    const started = cache.beginListing();
    cache.set('s', 'alice', account('alice', ['vpn'])); // granted while the listing ran
    cache.set('s', 'bob', null); // deleted while the listing ran
    cache.replace('s', [account('alice'), account('bob')], started);
    expect(cache.get('s', 'alice')?.entitlements).toEqual(['vpn']);
    expect(cache.get('s', 'bob')).toBeNull();
    // A later listing wins again.
    cache.replace('s', [account('alice'), account('bob')], cache.beginListing());
    expect(cache.get('s', 'alice')?.entitlements).toEqual([]);
    expect(cache.get('s', 'bob')?.userName).toBe('bob');
  });

  it('forgets one account in doubt until it is written or listed again', () => {
    const cache = new ObservedCache();
    cache.replace('s', [account('alice'), account('bob')], cache.beginListing());
    cache.invalidate('s', 'alice');
    expect(cache.get('s', 'alice')).toBeUndefined();
    expect(cache.get('s', 'bob')?.userName).toBe('bob');
    cache.set('s', 'alice', account('alice', ['vpn']));
    expect(cache.get('s', 'alice')?.entitlements).toEqual(['vpn']);
  });

  it('announces only orphans the previous listing did not have', () => {
    const cache = new ObservedCache();
    expect(cache.updateOrphans('s', ['zed'])).toEqual(['zed']);
    expect(cache.updateOrphans('s', ['zed', 'yan'])).toEqual(['yan']);
    expect(cache.updateOrphans('s', [])).toEqual([]);
    expect(cache.updateOrphans('s', ['zed'])).toEqual(['zed']);
  });

  it('keeps a write made during the very first listing (no earlier listing to fall back on)', () => {
    const cache = new ObservedCache();
    const started = cache.beginListing();
    cache.set('s', 'alice', account('alice', ['staff', 'vpn'])); // the grants landed while the listing ran
    cache.replace('s', [account('alice', [])], started); // the listing saw the account before its grants
    expect(cache.get('s', 'alice')?.entitlements).toEqual(['staff', 'vpn']);
    // A later listing that began after the write is believed.
    const later = cache.beginListing();
    cache.replace('s', [account('alice', ['staff'])], later);
    expect(cache.get('s', 'alice')?.entitlements).toEqual(['staff']);
  });

  it('knows which accounts this process wrote since the last listing began: a difference there is not drift', () => {
    const cache = new ObservedCache();
    cache.set('s', 'bob', account('bob', ['staff'])); // written before the listing: the listing has it
    const started = cache.beginListing();
    cache.set('s', 'alice', account('alice', ['staff', 'vpn'])); // a mover's grant, mid-listing
    cache.replace('s', [account('alice', ['staff']), account('bob', ['staff'])], started);
    expect(cache.writtenSinceListing('s', 'alice')).toBe(true);
    expect(cache.writtenSinceListing('s', 'bob')).toBe(false);
    expect(cache.writtenSinceListing('other', 'alice')).toBe(false);
    cache.replace('s', [account('alice', ['staff', 'vpn'])], cache.beginListing());
    expect(cache.writtenSinceListing('s', 'alice')).toBe(false);
  });

  it('tells a reader which accounts changed since its mark, and that any may have after a listing or a forget', () => {
    const cache = new ObservedCache();
    const first = cache.changesSince('s', undefined);
    expect(first.names).toBeUndefined();
    cache.replace('s', [account('alice'), account('bob')], cache.beginListing());
    // Listed since the mark: any account may have changed.
    const listed = cache.changesSince('s', first.mark);
    expect(listed.names).toBeUndefined();
    cache.set('s', 'alice', null);
    cache.invalidate('s', 'bob');
    cache.set('other', 'carol', account('carol'));
    const changed = cache.changesSince('s', listed.mark);
    expect(changed.names).toEqual(['alice', 'bob']);
    expect(cache.changesSince('s', changed.mark).names).toEqual([]);
    cache.forget('s');
    expect(cache.changesSince('s', changed.mark).names).toBeUndefined();
    // A mark from another cache is never taken for this one's.
    expect(new ObservedCache().changesSince('s', changed.mark).names).toBeUndefined();
  });
});
