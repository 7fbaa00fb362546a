import { describe, expect, it } from 'vitest';
import { changedPositions } from '../../../src/api/index.ts';

describe('changedPositions', () => {
  const [a, b, c, d] = [{ n: 'a' }, { n: 'b' }, { n: 'c' }, { n: 'd' }];

  it('names the positions replaced in place and those appended', () => {
    const before = [a, b, c];
    expect(changedPositions(before, before)).toEqual([]);
    expect(changedPositions(before, [a, { ...b }, c])).toEqual([1]);
    expect(changedPositions(before, [a, b, c, d])).toEqual([3]);
    expect(changedPositions(before, [{ ...a }, b, c, d])).toEqual([0, 3]);
  });

  it('says nothing once something was removed: the positions no longer line up', () => {
    expect(changedPositions([a, b, c], [a, c])).toBeUndefined();
  });
});
