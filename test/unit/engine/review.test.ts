// Access reviews in the engine: a revoke ends the grant (at once, or at the due date by default),
// a keep changes nothing, a decision on one's own access counts for nothing.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { API_VERSION, accessReviewResource, accessReviewSpec, type AccessReview } from '../../../src/api/index.ts';
import { accessWindow, changeCause, desiredAccounts } from '../../../src/engine/index.ts';
import { CREATED, DAY, NAMESPACE, NOW, at, binding, grants, role, system, user } from './fixtures.ts';

const review = (spec: Partial<z.input<typeof accessReviewSpec>>, created = at(-DAY)): AccessReview =>
  accessReviewResource.parse({
    apiVersion: API_VERSION,
    kind: 'AccessReview',
    metadata: { name: 'q4', namespace: NAMESPACE, creationTimestamp: created },
    spec: { reviewers: ['rita', 'ann'], dueDate: at(DAY), ...spec },
  });
const wiki = system('wiki');
const roles = [role('staff', { grants: grants({ wiki: ['all'] }) }), role('admin', { grants: grants({ wiki: ['admin'] }) })];
const bindings = [binding('staff', { role: 'staff', users: ['ann'] }), binding('ann-admin', { role: 'admin', users: ['ann'] })];
const ann = user('ann');
const entitlements = (reviews: AccessReview[], now = NOW) => desiredAccounts(ann, bindings, roles, [wiki], now, reviews)[0]?.entitlements;

describe('access reviews in the engine', () => {
  it("a reviewer's revoke removes the grant at once; other grants stay", () => {
    const q4 = review({ scope: { roles: ['admin'] }, decisions: [{ user: 'ann', binding: 'ann-admin', decision: 'revoke', decidedBy: 'rita' }] });
    expect(entitlements([])).toEqual(['admin', 'all']);
    expect(entitlements([q4])).toEqual(['all']);
    expect(changeCause({ op: 'revoke', userName: 'ann', entitlement: 'admin' }, ann, 'wiki', { bindings, roles, systems: [wiki], reviews: [q4] }, NOW)).toEqual(
      {
        kind: 'AccessReview',
        name: 'q4',
        reason: 'revoked by rita',
      },
    );
  });

  it('the default revoke takes effect at the due date, and the engine wakes up for it', () => {
    const q4 = review({ scope: { roles: ['admin'] }, defaultDecision: 'revoke' });
    expect(entitlements([q4])).toEqual(['admin', 'all']);
    expect(accessWindow(ann, bindings, roles, [wiki], NOW, [q4]).nextWakeAt).toEqual(new Date(at(DAY)));
    expect(entitlements([q4], new Date(at(DAY)))).toEqual(['all']);
  });

  it("keep certifies; a decision on one's own access or by someone not listed counts for nothing", () => {
    const kept = review({ defaultDecision: 'revoke', decisions: [{ user: 'ann', binding: 'ann-admin', decision: 'keep', decidedBy: 'rita' }] });
    expect(entitlements([kept], new Date(at(2 * DAY)))).toEqual(['admin']);
    const own = review({
      defaultDecision: 'keep',
      decisions: [
        { user: 'ann', binding: 'ann-admin', decision: 'revoke', decidedBy: 'ann' },
        { user: 'ann', binding: 'staff', decision: 'revoke', decidedBy: 'mallory' },
      ],
    });
    expect(entitlements([own])).toEqual(['admin', 'all']);
  });

  it('a binding created after the review started is not under review', () => {
    const q4 = review({ defaultDecision: 'revoke' }, at(-DAY));
    const later = binding('later', { role: 'admin', users: ['ann'] }, { creationTimestamp: at(-1) });
    expect(desiredAccounts(ann, [later], roles, [wiki], new Date(at(2 * DAY)), [q4])[0]?.entitlements).toEqual(['admin']);
    expect(CREATED < at(-DAY)).toBe(true);
  });
});
