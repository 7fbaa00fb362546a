// attributeFields: the User's field behind each account attribute, named in a refusal's message.
import { describe, expect, it } from 'vitest';
import { accountAttributes, attributeFields } from '../../../src/engine/index.ts';
import { user } from './fixtures.ts';

describe('attributeFields', () => {
  it('a typed field is named as such, and wins over a free attribute of the same name, as in accountAttributes', () => {
    const both = user('ann', { email: 'ann@example.org', attributes: { email: 'other@example.org' } });
    expect(accountAttributes(both)['email']).toBe('ann@example.org');
    expect(attributeFields(both, 'email')).toEqual(['spec.email']);
  });

  it("a free attribute is named under spec.attributes, also when it carries a typed field's name the User leaves unset", () => {
    const ann = user('ann', { email: undefined, attributes: { email: 'jörg@example.org', bio: 'hi' } });
    expect(attributeFields(ann, 'email')).toEqual(['spec.attributes.email']);
    expect(attributeFields(ann, 'bio')).toEqual(['spec.attributes.bio']);
  });

  it('a displayName made of the two names points at both; a set one at itself', () => {
    expect(attributeFields(user('ann'), 'displayName')).toEqual(['spec.givenName', 'spec.familyName']);
    expect(attributeFields(user('ann', { displayName: 'Ann' }), 'displayName')).toEqual(['spec.displayName']);
  });

  it('an attribute the User does not set names nothing', () => {
    expect(attributeFields(user('ann'), 'title')).toEqual([]);
  });
});
